"""Optional integrations (debug-toolbar panel)."""
