"""Loads the named queries in `sql/*.sql`: the one place where file text becomes a query.

Conventions follow aiosql: each query opens with `-- name: <name><suffix>`, the comment lines
under it document it, and the suffix says what it returns:

    (none)  all rows, as a list of dicts        ^   one row (dict) or None
    $       the first column of the first row   !   the number of rows affected

Parameters are psycopg's named placeholders, `%(name)s`. Every function takes the connection
first and never commits: the caller owns the transaction:
`queries.categories.get_by_id(conn, ledger_id=1, id=2)`.
A duplicate or unknown name fails loudly, and tests PREPARE every query against the schema.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg import Connection
from psycopg.rows import dict_row

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_HEADER = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*([$^!]?)\s*$", re.MULTILINE)
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class QueryError(LookupError):
    """A query file is malformed, or code asked for a query that does not exist."""


@dataclass(frozen=True)
class Query:
    name: str
    returns: str  # "rows", "one", "scalar" or "rowcount"
    sql: str
    doc: str

    @functools.cached_property
    def parameters(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_PLACEHOLDER.findall(self.sql)))

    def __call__(self, conn: Connection, **params: Any) -> Any:
        missing = set(self.parameters) - params.keys()
        if missing:
            raise QueryError(f"{self.name}: missing parameters {sorted(missing)}")
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(self.sql, params)  # type: ignore[arg-type]  # text from our own files
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
