"""The change log's numbering at COMMIT (migrations 0016 and 0022): a transaction's entries of
a ledger get the next seqs in insert order, without a gap, whether a write made a few (numbered
one by one) or a bulk write made many (one hash join), and whatever statistics the table has
(0016's join was planned as a quadratic nested loop for a new ledger once analyzed)."""

from __future__ import annotations

import psycopg
import pytest

from expense_api.services import ledgers
from expense_api.services.changes import hook


def _categories(conn, ledger_id: int, count: int) -> None:
    conn.execute(
        "INSERT INTO categories (ledger_id, name)"
        " SELECT %s, 'c' || n FROM generate_series(1, %s) AS n",
        (ledger_id, count),
    )


@pytest.mark.parametrize("count", [1, 64, 65, 3000])
@pytest.mark.parametrize("analyzed", [False, True])
def test_a_transactions_entries_are_numbered_in_order_without_a_gap(
    alice, database_url, count, analyzed
):
    user = {"id": alice.id, "currency": "USD", "timezone": "UTC"}
    with psycopg.connect(database_url) as own:
        ledger_id = ledgers.create(own, user, name="Numbered", currency=None, timezone=None)["id"]
        own.commit()
        if analyzed:  # statistics that see this new ledger as tiny
            own.execute("ANALYZE ledger_changes")
            own.commit()
        _categories(own, ledger_id, count)
        actor = ledgers.actor_in(own, user_id=alice.id, ledger_id=ledger_id)
        assert hook.record_created_in_bulk(own, actor, "category") == count
        own.commit()
        rows = own.execute(
            "SELECT id, seq FROM ledger_changes WHERE ledger_id = %s ORDER BY id", (ledger_id,)
        ).fetchall()
        knowledge = own.execute(
            "SELECT knowledge FROM ledger_generations WHERE ledger_id = %s", (ledger_id,)
        ).fetchone()[0]
    # The ledger's own creation logged its ledger and member entries first (2), then these.
    assert [seq for _, seq in rows] == list(range(1, count + 3))
    assert knowledge == count + 2
