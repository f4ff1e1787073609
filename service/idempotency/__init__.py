"""Idempotent writes: a POST carrying ``Idempotency-Key`` creates its effect once per key."""
