"""Loads the named queries in `sql/*.sql`: the one place where file text becomes a query.

Conventions follow aiosql: each query opens with `-- name: <name><suffix>`, the comment lines
under it document it, and the suffix says what it returns:

    (none)  all rows, as a list of dicts        ^   one row (dict) or None
    $       the first column of the first row   !   the number of rows affected

A read that also touches a bookkeeping column in the same statement (the session check's
`last_used_at`) says so after its suffix, `-- name: get_active_with_user^ touches`: it may run
on a connection that only reads (a GET request's), where each statement is its own transaction.
Such a touch is one statement (atomic by itself), and a touch that an error answer does not
undo is what it should be: the session was used, whatever the answer.

Parameters are psycopg's named placeholders, `%(name)s`. Every function takes the connection
first and never commits: the caller owns the transaction:
`queries.categories.get_by_id(conn, ledger_id=1, id=2)`.
A duplicate or unknown name fails loudly, and tests PREPARE every query against the schema.

Round trips. Several queries whose parameters are all known beforehand can share one round
trip: a `database.Batch` queues them (`query.later(batch, ...)` returns a `database.Pending`) and
sends them, with a Sync, when its block ends; each statement still runs on its own, in order, and
sees what the ones before it did (a row lock, say). On a connection that opens its transactions
with their first statement (`database.begin_with_first_statement`, the REST API's), a query that
finds no transaction open is sent with our BEGIN, as one round trip. A batch that ends the caller's
writes (`Batch(conn, ends_work=True)`) also carries the transaction's COMMIT when the door that
owns the transaction allows it (`database.commit_with_last_write`); a write after that batch is
refused before it is sent.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg import Connection, Cursor
from psycopg.rows import dict_row

from ..config import PROJECT_ROOT
from .pool import (
    Batch,
    Pending,
    committed_with_last_write,
    opens_transaction,
    reads_statement_by_statement,
)

SQL_DIR = PROJECT_ROOT / "sql"
_HEADER = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*([$^!]?)(\s+touches)?\s*$", re.MULTILINE)
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# What makes a statement more than a read: it changes rows, locks them, or changes state that
# outlives it (a sequence, a setting, an advisory lock), itself or through one of the
# migrations' functions that do (0017: the totals' upkeep; 0024: the budget rule, its locks, the
# alerts; tests/db/test_read_requests.py finds any other). Matched on the SQL without its
# comments and string literals.
_WRITES = re.compile(
    r"\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|COPY|LOCK|NOTIFY)\b"
    r"|\bFOR\s+(NO\s+KEY\s+UPDATE|UPDATE|SHARE|KEY\s+SHARE)\b"
    r"|\b(nextval|setval|set_config|pg_advisory\w*|pg_notify)\s*\("
    r"|\b(enforce_budgets|lock_budget_chains|fire_budget_alerts|bump_split_totals)\s*\(",
    re.IGNORECASE,
)
_COMMENT_OR_LITERAL = re.compile(r"--[^\n]*|'(?:[^']|'')*'")


class QueryError(LookupError):
    """A query file is malformed, or code asked for a query that does not exist."""


@dataclass(frozen=True)
class Query:
    name: str
    returns: str  # "rows", "one", "scalar" or "rowcount"
    sql: str
    doc: str
    touches: bool = False  # a read whose only write is a bookkeeping touch (see above)

    @functools.cached_property
    def parameters(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_PLACEHOLDER.findall(self.sql)))

    @functools.cached_property
    def writes(self) -> bool:
        """Whether the statement writes or locks (see _WRITES): refused on a connection that
        only reads (database.read_statement_by_statement)."""
        return _WRITES.search(_COMMENT_OR_LITERAL.sub(" ", self.sql)) is not None

    def __call__(self, conn: Connection, **params: Any) -> Any:
        if self.writes:
            self._check_may_write(conn)
        if opens_transaction(conn):
            with Batch(conn) as batch:  # our BEGIN and this statement: one round trip
                pending = self.later(batch, **params)
            return pending.value()
        self._check(params)
        with conn.cursor(row_factory=dict_row) as cur:
            self._send(cur, params)
            return self._result(cur)

    def later(self, batch: Batch, **params: Any) -> Pending:
        """Queues the query in `batch`; its result is there once the batch has been sent."""
        if self.writes:
            self._check_may_write(batch.conn)
        self._check(params)
        cur = batch.cursor()
        self._send(cur, params)
        return Pending(cur, self._result)

    def _check_may_write(self, conn: Connection) -> None:
        if reads_statement_by_statement(conn) and not self.touches:
            raise QueryError(
                f"{self.name} writes or locks, on a connection that only reads (a GET "
                "request's): each statement there is its own transaction, and an error would "
                "not undo it"
            )
        if committed_with_last_write(conn):
            raise QueryError(
                f"{self.name} writes or locks after the batch that ended the work committed "
                "(database.Batch's ends_work): it would run outside the work's transaction"
            )

    def _check(self, params: dict) -> None:
        missing = set(self.parameters) - params.keys()
        if missing:
            raise QueryError(f"{self.name}: missing parameters {sorted(missing)}")

    def _send(self, cur: Cursor, params: dict) -> None:
        cur.execute(self.sql, params)  # type: ignore[arg-type]  # text from our own files

    def _result(self, cur: Cursor) -> Any:
        if self.returns == "rowcount":
            return cur.rowcount
        if self.returns == "rows":
            return cur.fetchall()
        row = cur.fetchone()
        if self.returns == "one" or row is None:
            return row
        return next(iter(row.values()))


_RETURNS = {"": "rows", "^": "one", "$": "scalar", "!": "rowcount"}


class QueryFile:
    """The queries of one file, reachable as attributes."""

    def __init__(self, path: Path):
        self.path = path
        self.queries: dict[str, Query] = {}
        text = path.read_text()
        headers = list(_HEADER.finditer(text))
        if not headers:
            raise QueryError(f"{path.name}: no '-- name:' headers")
        if text[: headers[0].start()].strip():
            raise QueryError(f"{path.name}: text before the first '-- name:' header")
        for index, header in enumerate(headers):
            end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
            name, suffix = header.group(1), header.group(2)
            body = text[header.end() : end]
            doc_lines, sql_lines = [], []
            for line in body.strip().splitlines():
                if not sql_lines and line.lstrip().startswith("--"):
                    doc_lines.append(line.lstrip()[2:].strip())
                else:
                    sql_lines.append(line)
            sql = "\n".join(sql_lines).strip().rstrip(";")
            if not sql:
                raise QueryError(f"{path.name}: query {name!r} has no SQL")
            if name in self.queries:
                raise QueryError(f"{path.name}: query {name!r} is defined twice")
            self.queries[name] = Query(
                name=f"{path.stem}.{name}",
                returns=_RETURNS[suffix],
                sql=sql,
                doc=" ".join(doc_lines),
                touches=header.group(3) is not None,
            )

    def __getattr__(self, name: str) -> Query:
        try:
            return self.__dict__["queries"][name]
        except KeyError:
            raise QueryError(f"no query {name!r} in {self.path.name}") from None


class Queries:
    """All query files of a folder, one attribute per file: `queries.users.insert`."""

    def __init__(self, folder: Path = SQL_DIR):
        self.files = {path.stem: QueryFile(path) for path in sorted(folder.glob("*.sql"))}

    def __getattr__(self, name: str) -> QueryFile:
        try:
            return self.__dict__["files"][name]
        except KeyError:
            raise QueryError(f"no query file {name}.sql") from None

    def __iter__(self):
        for query_file in self.files.values():
            yield from query_file.queries.values()


queries = Queries()
