"""Running the service: gunicorn's settings, logs and metrics."""
