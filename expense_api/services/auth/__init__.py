"""Accounts and sessions (accounts), password hashing (passwords) and login throttling
(throttle)."""
