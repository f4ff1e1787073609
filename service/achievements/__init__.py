"""Achievements (OB 3.0 Achievement definitions), versioned."""
