"""Recurring rules and the background worker."""
