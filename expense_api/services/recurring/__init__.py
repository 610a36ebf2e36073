"""Recurring rules: their dates (dates), the rules (rules), the worker's step (runs) and what
happens when a step fails (failures)."""
