"""Our CSV export read back by the import: into an empty ledger it reproduces the transactions
(categories found by name, made at commit when missing; split lines, payees, tags and texts as
they were), and into the ledger it came from it creates nothing."""

from __future__ import annotations

import io


def _post(user, path: str, **body) -> dict:
    response = user.post(path, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _ledger_with_books(user) -> int:
    ledger = _post(user, "/api/ledgers", name="Books")["id"]
    base = f"/api/ledgers/{ledger}"
    food = _post(user, f"{base}/categories", name="Food")["id"]
    home = _post(user, f"{base}/categories", name="=Home")["id"]
    day = {"type": "EXPENSE", "date": "2026-03-15"}
    _post(user, f"{base}/transactions", amount="4.50", categoryId=food, description="Lunch", **day)
    _post(user, f"{base}/transactions", amount="4.50", categoryId=food, description="Lunch", **day)
    lines = [{"categoryId": food, "amount": "7.00"}, {"categoryId": home, "amount": "5.00"}]
    _post(
        user, f"{base}/transactions", amount="12.00", splits=lines, payee="-Market",
        tags=["weekly", "Family"], description='Groceries, "big" shop', **day,
    )  # fmt: skip
    _post(
        user, f"{base}/transactions", amount="100", type="INCOME", categoryId=food,
        date="2025-12-31", description="@refund <&>",
    )  # fmt: skip
    return ledger


def _shown(user, ledger: int) -> list[tuple]:
    items = user.get(
        f"/api/ledgers/{ledger}/transactions?from=2000-01-01&to=2100-01-01&limit=100"
    ).get_json()["items"]
    return sorted(
        (
            t["date"], t["type"], t["amount"], t["category"], t["payee"], tuple(t["tags"]),
            t["description"],
            tuple((line["category"], line["amount"]) for line in t["splits"]),
        )
        for t in items
    )  # fmt: skip


def _import(user, ledger: int, data: bytes) -> dict:
    base = f"/api/ledgers/{ledger}/imports"
    response = user.post(
        base, data={"file": (io.BytesIO(data), "export.csv")}, content_type="multipart/form-data"
    )
    assert response.status_code == 201, response.get_json()
    preview = response.get_json()
    committed = user.post(f"{base}/{preview['id']}/commit")
    assert committed.status_code == 200, committed.get_json()
    return committed.get_json()


def test_an_export_reimports_into_an_empty_ledger_as_the_same_transactions(alice):
    source = _ledger_with_books(alice)
    exported = alice.get(f"/api/ledgers/{source}/export?format=csv")
    assert exported.status_code == 200
    # Read whole before the next request: the test client keeps a streamed answer's request
    # open until it is read.
    exported = exported.get_data()
    empty = _post(alice, "/api/ledgers", name="Empty")["id"]
    imported = _import(alice, empty, exported)
    assert imported["counts"] == {"new": 4, "duplicate": 0, "match": 0, "invalid": 0}
    assert _shown(alice, empty) == _shown(alice, source)
    summary = "summary?from=2025-01-01&to=2026-12-31"
    assert (
        alice.get(f"/api/ledgers/{empty}/{summary}").get_json()
        == alice.get(f"/api/ledgers/{source}/{summary}").get_json()
    )


def test_an_export_reimported_into_its_own_ledger_creates_nothing(alice):
    source = _ledger_with_books(alice)
    before = _shown(alice, source)
    exported = alice.get(f"/api/ledgers/{source}/export?format=csv").get_data()
    imported = _import(alice, source, exported)
    assert imported["counts"]["new"] == 0
    assert _shown(alice, source) == before
    # And once more: the first re-import linked them, so now each row is a duplicate.
    again = _import(alice, source, exported)
    assert again["counts"] == {"new": 0, "duplicate": 4, "match": 0, "invalid": 0}
    assert _shown(alice, source) == before
