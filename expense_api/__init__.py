"""expense-api: expense and budget tracking with exact money and race-free budget enforcement."""

from .app import create_app

__all__ = ["create_app"]
