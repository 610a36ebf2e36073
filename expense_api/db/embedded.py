"""The embedded PostgreSQL used when no DATABASE_URL is set (binaries from the pgserver wheel).

The server keeps its data under DATA_DIR, so data survives restarts, listens only on a unix
socket inside that folder (no port to collide with), and is stopped when its last user exits.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

log = logging.getLogger(__name__)


class EmbeddedUnavailable(RuntimeError):
    pass


def start(pgdata: Path, database: str = "expense_api"):
    """Starts (or joins) the server in `pgdata`; returns (server handle, URL of `database`)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
            import pgserver
    except ImportError as error:
        raise EmbeddedUnavailable(
            "No DATABASE_URL is set and the embedded PostgreSQL is not installed: "
            "install the 'embedded' extra (pip install -e '.[embedded]') or set DATABASE_URL"
        ) from error
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    log.info("starting embedded PostgreSQL in %s", pgdata)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    create_database(server.get_uri(), database)
    return server, server.get_uri(database)


def create_database(admin_url: str, database: str) -> None:
    import psycopg
    from psycopg import sql

    from .sqlfiles import queries

    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not queries.server.database_exists(conn, name=database):
            # DDL takes no parameters; the name is quoted as an identifier, never formatted in.
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
