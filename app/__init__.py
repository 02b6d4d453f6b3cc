"""Waystation's core: domain rules, use cases, storage, sync, scanning and configuration. No Qt."""
