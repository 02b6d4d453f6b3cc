"""The station's screens, one per file; the main window only assembles them."""
