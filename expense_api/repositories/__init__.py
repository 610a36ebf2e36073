"""Repository functions: the connection first, named queries from sql/, never a commit."""

from __future__ import annotations

from collections import defaultdict


def by_ledger(rows: list[dict], ledger_ids: list[int]) -> dict[int, list[dict]]:
    """The rows of a many-ledger read (each with its ledger_id, taken off) grouped by ledger,
    in their order; a ledger without rows gets an empty list."""
    grouped: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row.pop("ledger_id")].append(row)
    return {ledger_id: grouped.get(ledger_id, []) for ledger_id in ledger_ids}
