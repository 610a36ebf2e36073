"""The import service over parsed files (domain/bankfiles shapes built here, so these tests are
about the rules, not a format): deduplication in the contract's order, the commit (set-based,
logged `via: import`, budgets not refusing), discard and undo."""

from __future__ import annotations

from decimal import Decimal

import pytest

from expense_api.domain.bankfiles import ParsedFile, Row, SplitLine
from expense_api.domain.errors import ValidationFailed
from expense_api.services.imports import commits
from tests.factories import category, record, save
from tests.imports.service_calls import actor_of as _actor
from tests.imports.service_calls import bank_row as _row
from tests.imports.service_calls import commit as _commit
from tests.imports.service_calls import preview as _preview


def _file(*rows: Row, format: str = "csv") -> ParsedFile:
    return ParsedFile(format=format, rows=list(rows))


def _decisions(conn, user, import_id) -> list[tuple]:
    return conn.execute(
        "SELECT line, decision, transaction_id IS NOT NULL FROM import_rows"
        " WHERE ledger_id = %s AND import_id = %s ORDER BY line",
        (user.ledger_id, import_id),
    ).fetchall()


def _transactions(user) -> list[tuple]:
    items = user.get("/api/transactions?from=2026-01-01&to=2026-12-31&limit=200").get_json()
    return sorted((t["date"], t["type"], t["amount"], t["category"]) for t in items["items"])


def test_a_preview_writes_nothing_and_a_commit_writes_each_new_row_once(alice, conn):
    parsed = _file(
        _row(1, 2, "-12.50", payee="Corner Market", description="card 1234"),
        _row(2, 3, "2500", payee="ACME Payroll"),
        _row(3, 4, "0", payee="Nothing"),
        Row(line=4, date=None, amount=Decimal("-3")),
    )
    preview = _preview(conn, alice, parsed)
    assert preview["status"] == "preview"
    assert preview["counts"] == {"new": 2, "duplicate": 0, "match": 0, "invalid": 2}
    assert _transactions(alice) == []
    committed = _commit(conn, alice, preview["id"])
    assert committed["status"] == "committed" and committed["committed_at"] is not None
    assert _transactions(alice) == [
        ("2026-03-02", "EXPENSE", "12.50", "Uncategorized"),
        ("2026-03-03", "INCOME", "2500.00", "Uncategorized"),
    ]
    reasons = conn.execute(
        "SELECT reason FROM import_rows WHERE import_id = %s AND decision = 'invalid'"
        " ORDER BY line",
        (preview["id"],),
    ).fetchall()
    assert reasons == [("Zero amount.",), ("No date.",)]


def test_reimporting_the_same_file_creates_nothing_and_an_overlap_only_the_new_days(alice, conn):
    first = _file(_row(1, 1, "-5"), _row(2, 2, "-6"), _row(3, 3, "-7"))
    _commit(conn, alice, _preview(conn, alice, first)["id"])
    again = _preview(conn, alice, first)
    assert again["counts"] == {"new": 0, "duplicate": 3, "match": 0, "invalid": 0}
    overlap = _file(_row(1, 2, "-6"), _row(2, 3, "-7"), _row(3, 4, "-8"), _row(4, 5, "-9"))
    later = _preview(conn, alice, overlap)
    assert [d for _, d, _ in _decisions(conn, alice, later["id"])] == [
        "duplicate", "duplicate", "new", "new",
    ]  # fmt: skip
    _commit(conn, alice, later["id"])
    assert len(_transactions(alice)) == 5


def test_same_day_twins_are_both_imported_and_both_duplicates_next_time(alice, conn):
    twins = _file(_row(1, 2, "-4.20", payee="Coffee"), _row(2, 2, "-4.20", payee="Coffee"))
    preview = _preview(conn, alice, twins)
    assert preview["counts"]["new"] == 2
    _commit(conn, alice, preview["id"])
    assert len(_transactions(alice)) == 2
    # A later file with three of them: the third is new.
    triplets = _file(*(_row(n, 2, "-4.20") for n in (1, 2, 3)))
    assert _preview(conn, alice, triplets)["counts"] == {
        "new": 1, "duplicate": 2, "match": 0, "invalid": 0,
    }  # fmt: skip


def test_bank_ids_decide_first_per_account(alice, conn):
    _commit(conn, alice, _preview(conn, alice, _file(_row(1, 2, "-10", bank_id="FIT-1")))["id"])
    # The same bank id on another day and amount: still the same bank line.
    same = _preview(conn, alice, _file(_row(1, 9, "-99", bank_id="FIT-1")))
    assert same["counts"]["duplicate"] == 1
    # Another account's statement may reuse the id.
    other = _preview(conn, alice, _file(_row(1, 2, "-10", bank_id="FIT-1")), account="card")
    assert other["counts"]["new"] == 1
    # Twice in one file: the second is a duplicate of the first.
    doubled = _file(_row(1, 3, "-1", bank_id="X"), _row(2, 3, "-1", bank_id="X"))
    assert _preview(conn, alice, doubled)["counts"] == {
        "new": 1, "duplicate": 1, "match": 0, "invalid": 0,
    }  # fmt: skip


def test_a_hand_entered_purchase_is_matched_within_three_days_never_across_amounts(alice, conn):
    food = category(alice, "Food")
    by_hand = record(alice, food, amount="23.10", date="2026-03-08")
    record(alice, food, amount="23.11", date="2026-03-10")  # another amount: never matched
    parsed = _file(_row(1, 10, "-23.10"), _row(2, 10, "-23.12"), _row(3, 20, "-23.11"))
    preview = _preview(conn, alice, parsed)
    rows = conn.execute(
        "SELECT line, decision, transaction_id FROM import_rows WHERE import_id = %s ORDER BY line",
        (preview["id"],),
    ).fetchall()
    assert rows == [(1, "match", by_hand["id"]), (2, "new", None), (3, "new", None)]
    _commit(conn, alice, preview["id"])
    assert sorted(t[2] for t in _transactions(alice)) == ["23.10", "23.11", "23.11", "23.12"]
    # Linked: the same bank line is a duplicate next time, not a second match.
    assert _preview(conn, alice, _file(_row(1, 10, "-23.10")))["counts"]["duplicate"] == 1


def test_a_match_can_be_made_new_and_any_row_skipped(alice, conn):
    food = category(alice, "Food")
    record(alice, food, amount="8.00", date="2026-03-05")
    parsed = _file(_row(1, 5, "-8"), _row(2, 6, "-9"), _row(3, 7, "-10"))
    preview = _preview(conn, alice, parsed)
    _commit(conn, alice, preview["id"], {1: {"decision": "new"}, 3: {"decision": "skip"}})
    assert sorted(t[2] for t in _transactions(alice)) == ["8.00", "8.00", "9.00"]


def test_overrides_are_checked(alice, bob, conn):
    theirs = category(bob, "Theirs")
    _commit(conn, alice, _preview(conn, alice, _file(_row(1, 2, "-1")))["id"])
    preview = _preview(conn, alice, _file(_row(1, 2, "-1"), _row(2, 3, "-2")))
    with pytest.raises(ValidationFailed) as refused:
        _commit(
            conn,
            alice,
            preview["id"],
            {1: {"decision": "new"}, 2: {"category_id": theirs}, 9: {"decision": "skip"}},
        )
    assert refused.value.extra["errors"].keys() == {
        "rows.1.decision",
        "rows.2.categoryId",
        "rows.9",
    }
    assert len(_transactions(alice)) == 1  # nothing written


def test_a_commit_is_logged_via_import_and_sends_one_event(alice, conn):
    preview = _preview(conn, alice, _file(_row(1, 2, "-1"), _row(2, 3, "-2")))
    _commit(conn, alice, preview["id"])
    entries = conn.execute(
        "SELECT entity, op, via FROM ledger_changes WHERE ledger_id = %s ORDER BY id",
        (alice.ledger_id,),
    ).fetchall()
    imported = [entry for entry in entries if entry[2] == "import"]
    assert imported == [
        ("category", "created", "import"),
        ("transaction", "created", "import"),
        ("transaction", "created", "import"),
        ("import", "updated", "import"),
    ]


def test_hard_budgets_do_not_refuse_an_import_and_the_commit_lists_them(alice, conn):
    food = category(alice, "Food")
    budget = save(alice, categoryId=food, amount="10", mode="hard").get_json()
    parsed = _file(_row(1, 2, "-7", category="Food"), _row(2, 3, "-8", category="food"))
    committed = _commit(conn, alice, _preview(conn, alice, parsed)["id"])
    assert [(b["budgetId"], b["spent"]) for b in committed["over_budget"]] == [
        (budget["id"], "15.00")
    ]
    kinds = {a["kind"] for a in alice.get("/api/notifications").get_json()["items"]}
    assert kinds == {"threshold", "limit"}


def test_split_rows_become_split_transactions(alice, conn):
    parsed = _file(
        _row(
            1, 2, "-30",
            splits=(SplitLine("Groceries", Decimal("20")), SplitLine("Household", Decimal("10"))),
        ),
        _row(2, 2, "-30", splits=(SplitLine("A", Decimal("20")), SplitLine("B", Decimal("9")))),
    )  # fmt: skip
    _commit(conn, alice, _preview(conn, alice, parsed)["id"])
    items = alice.get("/api/transactions?month=3&year=2026").get_json()["items"]
    split = [t for t in items if t["splits"]]
    assert [(line["category"], line["amount"]) for line in split[0]["splits"]] == [
        ("Groceries", "20.00"),
        ("Household", "10.00"),
    ]
    # Lines that do not sum: the row is imported whole.
    assert [t["category"] for t in items if not t["splits"]] == ["Uncategorized"]
    breakdown = alice.get("/api/category-breakdown?month=3&year=2026").get_json()["items"]
    assert {i["category"]: i["amount"] for i in breakdown} == {
        "Groceries": "20.00", "Household": "10.00", "Uncategorized": "30.00",
    }  # fmt: skip


def test_undo_deletes_what_it_created_keeps_what_was_edited_and_unlinks_matches(alice, conn):
    food = category(alice, "Food")
    by_hand = record(alice, food, amount="5.00", date="2026-03-02")
    preview = _preview(conn, alice, _file(_row(1, 2, "-5"), _row(2, 3, "-6"), _row(3, 4, "-7")))
    committed = _commit(conn, alice, preview["id"])
    created = [
        t for t in alice.get("/api/transactions?month=3&year=2026").get_json()["items"]
        if t["id"] != by_hand["id"]
    ]  # fmt: skip
    edited = created[0]
    assert (
        alice.patch(f"/api/transactions/{edited['id']}", json={"description": "mine"}).status_code
        == 200
    )
    with conn.transaction():
        undone = commits.undo(conn, _actor(conn, alice), committed["id"])
    assert undone["status"] == "undone" and undone["kept"] == [edited["id"]]
    left = {t["id"] for t in alice.get("/api/transactions?month=3&year=2026").get_json()["items"]}
    assert left == {by_hand["id"], edited["id"]}
    # Unlinked: the bank line matches the hand-entered one again.
    again = _preview(conn, alice, _file(_row(1, 2, "-5")))
    assert again["counts"]["match"] == 1
    with pytest.raises(commits.NotCommitted), conn.transaction():
        commits.undo(conn, _actor(conn, alice), committed["id"])


def test_only_a_preview_is_committed_or_discarded(alice, conn):
    preview = _preview(conn, alice, _file(_row(1, 2, "-1")))
    with conn.transaction():
        commits.discard(conn, _actor(conn, alice), preview["id"])
    with pytest.raises(commits.NotPreview), conn.transaction():
        commits.commit(conn, _actor(conn, alice), preview["id"])
    assert _transactions(alice) == []


def test_totals_stay_exact_after_a_commit_and_an_undo(alice, conn):
    from expense_api.db.sqlfiles import queries

    rows = [_row(n, 1 + n % 28, f"-{n}.25") for n in range(1, 60)]
    committed = _commit(conn, alice, _preview(conn, alice, _file(*rows))["id"])
    for check in (queries.totals.monthly_mismatches, queries.totals.daily_mismatches):
        assert check(conn, ledger_ids=[alice.ledger_id]) == 0
    with conn.transaction():
        commits.undo(conn, _actor(conn, alice), committed["id"])
    for check in (queries.totals.monthly_mismatches, queries.totals.daily_mismatches):
        assert check(conn, ledger_ids=[alice.ledger_id]) == 0
    assert _transactions(alice) == []


def test_two_previews_of_one_file_commit_each_bank_line_once(alice, conn):
    """Both previews were taken before either commit: the second commit finds its bank lines
    written by the first, lists them as duplicates and writes nothing twice."""
    parsed = _file(_row(1, 2, "-3", bank_id="A"), _row(2, 3, "-4"), _row(3, 4, "-5"))
    first, second = _preview(conn, alice, parsed), _preview(conn, alice, parsed)
    _commit(conn, alice, first["id"])
    later = _commit(conn, alice, second["id"])
    assert later["counts"] == {"new": 0, "duplicate": 3, "match": 0, "invalid": 0}
    assert len(_transactions(alice)) == 3


def test_a_rows_own_import_key_decides_as_the_one_made_from_it(alice, conn):
    """Our CSV export gives each transaction's import key (importId): a re-import finds it by
    that key, and two rows of one file with one key are one bank line."""
    key = "2026-03-02/EXPENSE/3/1"
    _commit(conn, alice, _preview(conn, alice, _file(_row(1, 2, "-3")))["id"])
    again = _file(_row(1, 2, "-3", import_key=key), _row(2, 9, "-7", import_key="other/1"))
    assert [d for _, d, _ in _decisions(conn, alice, _preview(conn, alice, again)["id"])] == [
        "duplicate",
        "new",
    ]
    twice = _file(_row(1, 9, "-7", import_key="x/1"), _row(2, 9, "-7", import_key="x/1"))
    assert _preview(conn, alice, twice)["counts"]["duplicate"] == 1
