"""One snapshot for a read of several statements that must agree with each other.

Under READ COMMITTED (the service's level) each statement sees the database as it is when the
statement starts, so two statements of one answer may see two different states. Delta sync
(services/changes/sync.py) reads a page of the change log, the ledger's knowledge and the
entities' current rows: they must all come from one moment, or the answer's `knowledge` would
claim changes its rows do not show. `one_snapshot` runs the block in a REPEATABLE READ READ ONLY
transaction: every statement in it sees the snapshot its first statement took. Read only, it
takes no lock a writer waits for, and it can never fail to serialize.

The door owns the snapshot, as it owns every transaction: it opens it around the service call,
and the service checks that it is there (`require`), so a door that forgot fails at once instead
of answering a torn read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from psycopg import Connection
from psycopg.pq import TransactionStatus

_BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
# Without autocommit psycopg sends its own BEGIN before the first statement; this is then that
# transaction's first statement, which may still choose its isolation level.
_SET = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"
_IN_SNAPSHOT = "expense_api_in_one_snapshot"


@contextlib.contextmanager
def one_snapshot(conn: Connection) -> Iterator[Connection]:
    """Runs the block's statements on `conn` in one REPEATABLE READ READ ONLY transaction, ended
    when the block ends. `conn` must be idle (no transaction open): a transaction already
    running at READ COMMITTED cannot be given one snapshot any more."""
    if conn.pgconn.transaction_status != TransactionStatus.IDLE:
        raise RuntimeError("one_snapshot needs an idle connection (no transaction open)")
    conn.execute(_BEGIN if conn.autocommit else _SET)
    setattr(conn, _IN_SNAPSHOT, True)
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    else:
        conn.commit()  # nothing to keep (read only): this ends the snapshot
    finally:
        setattr(conn, _IN_SNAPSHOT, False)


def require(conn: Connection) -> None:
    """Raises unless `conn` is inside one_snapshot."""
    if not getattr(conn, _IN_SNAPSHOT, False):
        raise RuntimeError("this read needs one snapshot: run it inside snapshot.one_snapshot")
