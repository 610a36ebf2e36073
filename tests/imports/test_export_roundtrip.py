"""Our CSV export read back by the import: into an empty ledger it reproduces the transactions
(categories found by name, made at commit when missing; split lines, payees, tags and texts as
they were), and into the ledger it came from it creates nothing."""

from __future__ import annotations

import csv
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


def _foreign_books(user) -> tuple[int, list[dict]]:
    """A USD ledger with EUR and JPY rates and transactions in them (one at a rate of its own,
    a split one): its id, and the rates put."""
    from tests.factories import posted as post_ok

    ledger = post_ok(user, "/api/ledgers", {"name": "Trips", "currency": "USD"})["id"]
    rates = _rates(user, ledger)
    base = f"/api/ledgers/{ledger}"
    food = _post(user, f"{base}/categories", name="Food")["id"]
    home = _post(user, f"{base}/categories", name="Home")["id"]
    day = {"type": "EXPENSE", "date": "2026-03-12"}
    _post(user, f"{base}/transactions", amount="12.34", currency="EUR", categoryId=food, **day)
    _post(user, f"{base}/transactions", amount="1500", currency="JPY", categoryId=food, **day)
    _post(user, f"{base}/transactions", amount="20.00", currency="EUR", rate="1.2",
          categoryId=home, **day)  # fmt: skip
    lines = [{"categoryId": food, "amount": "3.33"}, {"categoryId": home, "amount": "3.33"},
             {"categoryId": home, "amount": "3.34"}]  # fmt: skip
    _post(user, f"{base}/transactions", amount="10.00", currency="EUR", splits=lines, **day)
    _post(user, f"{base}/transactions", amount="4.50", categoryId=food, **day)
    return ledger, rates


def _rates(user, ledger: int) -> dict:
    rates = {
        "EUR": [{"date": "2026-03-01", "rate": "1.0842"}, {"date": "2026-03-10", "rate": "1.1"}],
        "JPY": [{"date": "2026-03-01", "rate": "0.0067"}],
    }
    for currency, items in rates.items():
        response = user.request(
            "PUT", f"/api/ledgers/{ledger}/rates/{currency}", json={"items": items}
        )
        assert response.status_code == 200, response.get_json()
    return rates


def _with_currencies(user, ledger: int) -> list[tuple]:
    items = user.get(
        f"/api/ledgers/{ledger}/transactions?from=2000-01-01&to=2100-01-01&limit=100"
    ).get_json()["items"]
    return sorted(
        (
            t["date"], t["type"], t["amount"], t["currency"], t["rate"], t["ledgerAmount"],
            t["category"],
            tuple((line["category"], line["amount"], line["ledgerAmount"]) for line in t["splits"]),
        )
        for t in items
    )  # fmt: skip


def test_an_export_in_several_currencies_reimports_at_its_rates(alice):
    source, _ = _foreign_books(alice)
    exported = alice.get(f"/api/ledgers/{source}/export?format=csv").get_data()
    empty = _post(alice, "/api/ledgers", name="Empty", currency="USD")["id"]
    _rates(alice, empty)
    imported = _import(alice, empty, exported)
    assert imported["counts"] == {"new": 5, "duplicate": 0, "match": 0, "invalid": 0}
    assert _with_currencies(alice, empty) == _with_currencies(alice, source)
    assert ("2026-03-12", "EXPENSE", "20.00", "EUR", "1.2", "24.00", "Home", ()) in (
        _with_currencies(alice, empty)
    )


def test_an_export_without_its_rate_cells_takes_the_ledgers_rates(alice):
    source, _ = _foreign_books(alice)
    exported = alice.get(f"/api/ledgers/{source}/export?format=csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported)))
    for row in rows[1:]:
        row[rows[0].index("rate")] = ""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    empty = _post(alice, "/api/ledgers", name="Empty", currency="USD")["id"]
    _rates(alice, empty)
    _import(alice, empty, out.getvalue().encode())
    shown = _with_currencies(alice, empty)
    # The transaction recorded at a rate of its own (1.2) now takes the ledger's (1.1).
    assert ("2026-03-12", "EXPENSE", "20.00", "EUR", "1.1", "22.00", "Home", ()) in shown
    assert [t for t in shown if t[4] != "1.1" or t[2] != "20.00"] == [
        t for t in _with_currencies(alice, source) if t[4] != "1.2"
    ]


def test_an_export_in_several_currencies_into_a_ledger_without_rates_uses_the_files(alice):
    source, _ = _foreign_books(alice)
    exported = alice.get(f"/api/ledgers/{source}/export?format=csv").get_data()
    empty = _post(alice, "/api/ledgers", name="Empty", currency="USD")["id"]
    _import(alice, empty, exported)
    assert _with_currencies(alice, empty) == _with_currencies(alice, source)
