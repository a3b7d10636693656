"""Fixtures; filled in by the foundation."""
