"""Plain-Python domain: entities' rules, state machines and typed errors."""
