"""Accounts, roles and access tokens."""
