"""The connection a read-only view reads with: the read replica (READ_DATABASE_URL) once it has
replayed everything committed before the read began, else the request's own primary
connection (see expense_api/db/read_replica.py). Without READ_DATABASE_URL it is simply the
request's connection. Used by the reports and the transaction list."""

from __future__ import annotations

from flask import Flask, current_app, g
from psycopg import Connection

from ...db.read_replica import ReadReplica, primary_position
from .request_transaction import get_conn


def init_app(app: Flask, replica: ReadReplica | None) -> None:
    app.extensions["read_replica"] = replica
    app.teardown_request(_release)


def read_conn() -> Connection:
    replica: ReadReplica | None = current_app.extensions.get("read_replica")
    if replica is None:
        return get_conn()
    if "read_conn" not in g:
        held = replica.connection(primary_position(get_conn()))
        g.read_conn_held = held
        g.read_conn = held.__enter__() or get_conn()
    return g.read_conn


def _release(exc: BaseException | None) -> None:
    g.pop("read_conn", None)
    held = g.pop("read_conn_held", None)
    if held is not None:
        held.__exit__(None, None, None)  # read only: nothing to keep or undo
