"""Questions to PostgreSQL's catalog that several test modules ask."""

from __future__ import annotations

FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text, c.conname, c.conrelid::int, c.conkey::int[]
FROM pg_constraint c
JOIN pg_namespace n ON n.oid = c.connamespace
WHERE c.contype = 'f' AND n.nspname = 'public'
ORDER BY 1, 2
"""
# Whole, valid indexes only: a partial one cannot serve every key the check looks up, and one
# still being built (or whose build failed) serves nothing.
INDEXES = "SELECT indrelid::int, indkey::int[] FROM pg_index WHERE indpred IS NULL AND indisvalid"


def unindexed_foreign_keys(conn) -> list[str]:
    """Foreign keys (table.constraint) with no index whose leading columns are the key's."""
    indexes: dict[int, list[list[int]]] = {}
    for table_oid, keys in conn.execute(INDEXES):
        indexes.setdefault(table_oid, []).append(keys)
    found = []
    for table, constraint, table_oid, columns in conn.execute(FOREIGN_KEYS).fetchall():
        # The key's columns in any order, as long as they come first: an equality lookup on all
        # of them is then one index range.
        leading = (set(keys[: len(columns)]) for keys in indexes.get(table_oid, []))
        if set(columns) not in leading:
            found.append(f"{table}.{constraint}")
    return found
