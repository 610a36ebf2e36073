"""gunicorn entry point: `gunicorn -c python:expense_api.ops.gunicorn_conf wsgi:app`.

The gunicorn config's on_starting hook puts the database URL (embedded or DATABASE_URL) in the
environment before workers fork; each worker builds its own app and connection pool here.
"""

from expense_api.api.app import create_app

app = create_app()
