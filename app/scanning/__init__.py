"""Scan input: wedge keystroke recognition and normalisation of what scanners send."""
