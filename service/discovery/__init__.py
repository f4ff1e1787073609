"""Skill discovery: the achievements and ESCO skills an earner's evidence shows (issue 14)."""
