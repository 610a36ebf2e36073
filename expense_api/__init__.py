"""expense-api: expense and budget tracking with exact money and race-free budget enforcement.

Importing the package loads nothing: the REST application is built by
`expense_api.api.app.create_app`, and the domain (services, repositories) never needs Flask.
"""
