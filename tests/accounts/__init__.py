"""Accounts: register, login, tokens and sessions, throttling, admins."""
