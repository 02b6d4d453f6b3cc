"""The station GUI (PySide6): screens, table models, scanner input and background work."""
