"""Earners a platform provisions (``/v1/platform/earners``) and acting for them (issue 11)."""
