"""Every named query in sql/ is valid against the migrated schema; the loader fails loudly."""

from __future__ import annotations

import re

import pytest

from expense_api.db.sqlfiles import Queries, QueryError, queries


def _as_prepared(sql: str) -> str:
    names: list[str] = []

    def number(match):
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return re.sub(r"%\((\w+)\)s", number, sql).replace("%%", "%")


@pytest.mark.parametrize("query", list(queries), ids=lambda q: q.name)
def test_every_query_prepares(conn, query):
    conn.execute("BEGIN")
    try:
        conn.execute(f"PREPARE probe AS {_as_prepared(query.sql)}")
    finally:
        conn.execute("ROLLBACK")


def test_unknown_query_name_fails_loudly():
    with pytest.raises(QueryError, match="no query 'nope'"):
        queries.users.nope  # noqa: B018
    with pytest.raises(QueryError, match="no query file"):
        queries.no_such_file  # noqa: B018


def test_duplicate_names_fail_loudly(tmp_path):
    (tmp_path / "dup.sql").write_text("-- name: a$\nSELECT 1\n\n-- name: a$\nSELECT 2\n")
    with pytest.raises(QueryError, match="defined twice"):
        Queries(tmp_path)


def test_text_before_the_first_header_fails(tmp_path):
    (tmp_path / "stray.sql").write_text("SELECT 0;\n-- name: a$\nSELECT 1\n")
    with pytest.raises(QueryError, match="before the first"):
        Queries(tmp_path)


def test_missing_parameters_fail_before_reaching_the_database(conn):
    with pytest.raises(QueryError, match="missing parameters"):
        queries.categories.get_by_id(conn, ledger_id=1)


def test_suffixes_decide_the_return_shape(conn):
    assert queries.health.ping(conn) == 1
    assert queries.categories.get_by_id(conn, ledger_id=-1, id=1) is None
