"""Transactions, categories and budgets: exact money, enforcement, races, totals."""
