"""Questions to PostgreSQL's catalog that several test modules ask."""

from __future__ import annotations

FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text, c.conname, c.conrelid::int, c.conkey::int[]
FROM pg_constraint c
JOIN pg_namespace n ON n.oid = c.connamespace
WHERE c.contype = 'f' AND n.nspname = 'public'
ORDER BY 1, 2
"""
# Valid indexes only (one still being built, or whose build failed, serves nothing), with their
# predicate when partial: a partial one serves a key's lookups only when all it leaves out is a
# NULL key column (a foreign key's check looks up non-NULL keys only).
INDEXES = """
SELECT i.indrelid::int, i.indkey::int[], pg_get_expr(i.indpred, i.indrelid)
FROM pg_index i WHERE i.indisvalid
"""


def unindexed_foreign_keys(conn) -> list[str]:
    """Foreign keys (table.constraint) with no index whose leading columns are the key's."""
    indexes: dict[int, list[tuple[list[int], str | None]]] = {}
    for table_oid, keys, predicate in conn.execute(INDEXES):
        indexes.setdefault(table_oid, []).append((keys, predicate))
    names = {
        (table_oid, number): name
        for table_oid, number, name in conn.execute(
            "SELECT attrelid::int, attnum::int, attname FROM pg_attribute"
            " JOIN pg_class ON pg_class.oid = attrelid WHERE relnamespace = 'public'::regnamespace"
        )
    }
    found = []
    for table, constraint, table_oid, columns in conn.execute(FOREIGN_KEYS).fetchall():
        # The key's columns in any order, as long as they come first: an equality lookup on all
        # of them is then one index range.
        not_null = {f"({names[table_oid, column]} IS NOT NULL)" for column in columns}
        leading = (
            set(keys[: len(columns)])
            for keys, predicate in indexes.get(table_oid, [])
            if predicate is None or predicate in not_null
        )
        if set(columns) not in leading:
            found.append(f"{table}.{constraint}")
    return found
