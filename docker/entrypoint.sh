#!/bin/sh
# The one entry point of the Docker image, and what the tests (tests/test_deploy.py) and
# `python -m bench.cluster` start, so the commands the image runs are the ones tested here.
#   entrypoint.sh [serve]     gunicorn with settings from the environment (expense_api/ops/gunicorn_conf.py)
#   entrypoint.sh worker      the background worker (compose runs it apart, with WORKER=off on the API)
#   entrypoint.sh migrate     apply pending migrations, then exit (compose's one-shot service)
# Any other `expense-api` subcommand passes through. Production mode unless APP_ENV says otherwise:
# the service then refuses to start without JWT_SECRET_KEY and WEBHOOK_SECRETS_KEY.
set -eu
APP_ENV="${APP_ENV:-production}"
export APP_ENV
[ "$#" -gt 0 ] || set -- serve
exec python -m expense_api.cli "$@"
