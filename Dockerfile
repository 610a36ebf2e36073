# expense-api: gunicorn behind `docker/entrypoint.sh` (the same script the tests run).
# Not built on the development machines (no registry reachable there): linted by hadolint in
# the suite (tests/ops/test_deploy.py).

# --- build: the dependencies into a virtualenv (all of them ship wheels: no compiler needed) ---
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY setup.cfg pyproject.toml README.md ./
COPY expense_api ./expense_api
# Install the package for its dependency list, then remove it: the code runs from /app, next to
# sql/ and migrations/, which the package finds beside itself.
RUN /opt/venv/bin/pip install ".[redis]" \
    && /opt/venv/bin/pip uninstall --yes expense-api

# --- runtime: the virtualenv and the code, as an unprivileged user ---
FROM python:3.11-slim-bookworm
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY wsgi.py ./
COPY expense_api ./expense_api
COPY sql ./sql
COPY migrations ./migrations
COPY docker/entrypoint.sh /usr/local/bin/expense-api-entrypoint
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    APP_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/tmp/expense-api
USER 10001:10001
EXPOSE 3000
# /readyz: the database answers (on a connection of its own, outside the request pool).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/readyz', timeout=2)"]
ENTRYPOINT ["expense-api-entrypoint"]
CMD ["serve"]
