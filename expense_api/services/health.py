"""Readiness: whether the database answers, on a connection of its own (not the pool's)."""

from __future__ import annotations

import logging

import psycopg

from ..db.pool import Database
from ..repositories import health

log = logging.getLogger(__name__)


def database_answers(database: Database) -> bool:
    try:
        with database.own_connection() as conn:
            health.ping(conn)
    except psycopg.Error as error:
        log.warning("readiness check failed: %s", error)
        return False
    return True
