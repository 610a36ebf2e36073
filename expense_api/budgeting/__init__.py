"""Budgets: monthly limits per category or overall, and their alerts."""
