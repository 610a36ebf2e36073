"""Exports and restores of a ledger with transactions in other currencies (../shared/API.md
"Import and export", "Several currencies"): the CSV's amount in the transaction's currency with
its rate, OFX's TRNAMT in the ledger's with ORIGCURRENCY, JSON's `rates`; a JSON export restored
reproduces currencies, rates, ledger amounts, line shares and the ledger's rates exactly; a
restore document whose ledger amounts or shares are not what the rate makes is 422 naming the
path, with nothing written."""

from __future__ import annotations

import copy
import csv
import io
import xml.etree.ElementTree as ElementTree

import pytest

from tests.helpers import assert_problem

ALL = "from=1900-01-01&to=2999-12-31&limit=500"
UNCOMPARED = {"id", "categoryId", "createdAt"}


def _post(user, path: str, body: dict) -> dict:
    response = user.post(path, json=body)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in UNCOMPARED}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


@pytest.fixture
def travels(alice):
    """A USD ledger with EUR and JPY rates, a transaction in each, a split one in EUR whose
    shares need the largest remainder, and one in dollars."""
    ledger_id = _post(alice, "/api/ledgers", {"name": "Trips", "currency": "USD"})["id"]
    base = f"/api/ledgers/{ledger_id}"
    for currency, items in {
        "EUR": [{"date": "2026-03-01", "rate": "1.0842"}, {"date": "2026-03-10", "rate": "1.1"}],
        "JPY": [{"date": "2026-03-01", "rate": "0.0067"}],
    }.items():
        response = alice.request("PUT", f"{base}/rates/{currency}", json={"items": items})
        assert response.status_code == 200, response.get_json()
    food = _post(alice, f"{base}/categories", {"name": "Food"})["id"]
    home = _post(alice, f"{base}/categories", {"name": "Home"})["id"]

    def spend(**body):
        values = {"type": "EXPENSE", "date": "2026-03-05", **body}
        return _post(alice, f"{base}/transactions", values)

    spend(amount="12.34", currency="EUR", categoryId=food, payee="Café")
    spend(amount="1500", currency="JPY", categoryId=food, date="2026-03-06")
    spend(amount="10.00", currency="EUR", date="2026-03-12", splits=[
        {"categoryId": food, "amount": "3.33"}, {"categoryId": home, "amount": "3.33"},
        {"categoryId": home, "amount": "3.34"},
    ])  # fmt: skip
    spend(amount="20.00", currency="EUR", rate="1.2", categoryId=home, type="INCOME")
    spend(amount="4.50", categoryId=food)
    return ledger_id


def _transactions(user, ledger_id: int) -> list[dict]:
    items = user.get(f"/api/ledgers/{ledger_id}/transactions?{ALL}").get_json()["items"]
    return sorted(_plain(items), key=lambda t: (t["date"], t["amount"], t["type"]))


def test_csv_amounts_are_in_the_transactions_currency_with_its_rate(alice, travels):
    response = alice.get(f"/api/ledgers/{travels}/export?format=csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    shown = [(r["date"], r["amount"], r["currency"], r["rate"], r["splitOf"] != "") for r in rows]
    assert shown == [
        ("2026-03-05", "12.34", "EUR", "1.0842", False),
        ("2026-03-05", "20.00", "EUR", "1.2", False),
        ("2026-03-05", "4.50", "USD", "", False),
        ("2026-03-06", "1500", "JPY", "0.0067", False),
        ("2026-03-12", "3.33", "EUR", "1.1", True),
        ("2026-03-12", "3.33", "EUR", "1.1", True),
        ("2026-03-12", "3.34", "EUR", "1.1", True),
    ]


def test_ofx_amounts_are_the_ledgers_with_the_original_currency(alice, travels):
    response = alice.get(f"/api/ledgers/{travels}/export?format=ofx")
    text = response.get_data(as_text=True)
    root = ElementTree.fromstring(text.split("?>", 2)[2])
    assert root.find(".//CURDEF").text == "USD"
    shown = []
    for item in root.iter("STMTTRN"):
        original = item.find("ORIGCURRENCY")
        shown.append(
            (
                item.find("TRNAMT").text,
                None if original is None else original.find("CURRATE").text,
                None if original is None else original.find("CURSYM").text,
            )
        )
    # 12.34 x 1.0842 = 13.379028 -> 13.38; 20 x 1.2 = 24; 1500 x 0.0067 = 10.05; 10 x 1.1 = 11.
    assert shown == [
        ("-13.38", "1.0842", "EUR"),
        ("24.00", "1.2", "EUR"),
        ("-4.50", None, None),
        ("-10.05", "0.0067", "JPY"),
        ("-11.00", "1.1", "EUR"),
    ]
    # MEMO and NAME come before ORIGCURRENCY (the OFX 2 element order of STMTTRN).
    assert "<NAME>Café</NAME><ORIGCURRENCY>" in text
    assert root.find(".//BALAMT").text == "-14.93"  # 24.00 - 13.38 - 4.50 - 10.05 - 11.00


def test_json_lists_the_ledgers_rates(alice, travels):
    document = alice.get(f"/api/ledgers/{travels}/export?format=json").get_json()
    assert document["rates"] == [
        {"currency": "EUR", "date": "2026-03-01", "rate": "1.0842"},
        {"currency": "EUR", "date": "2026-03-10", "rate": "1.1"},
        {"currency": "JPY", "date": "2026-03-01", "rate": "0.0067"},
    ]
    by_amount = {t["amount"]: t for t in document["transactions"]}
    assert (by_amount["1500"]["currency"], by_amount["1500"]["ledgerAmount"]) == ("JPY", "10.05")


def test_json_export_restores_currencies_rates_ledger_amounts_and_shares(alice, travels):
    document = alice.get(f"/api/ledgers/{travels}/export?format=json").get_json()
    response = alice.post("/api/ledgers", json={"name": "Again", "restore": document})
    assert response.status_code == 201, response.get_json()
    restored = response.get_json()["id"]
    assert _transactions(alice, restored) == _transactions(alice, travels)
    split = next(t for t in _transactions(alice, restored) if t["splits"])
    assert [(line["amount"], line["ledgerAmount"]) for line in split["splits"]] == [
        ("3.33", "3.66"),
        ("3.33", "3.66"),
        ("3.34", "3.68"),
    ]
    rates = alice.get(f"/api/ledgers/{restored}/rates").get_json()["items"]
    assert [(r["currency"], r["date"], r["rate"]) for r in rates] == [
        ("EUR", "2026-03-01", "1.0842"),
        ("EUR", "2026-03-10", "1.1"),
        ("JPY", "2026-03-01", "0.0067"),
    ]
    again = alice.get(f"/api/ledgers/{restored}/export?format=json").get_json()
    assert again["rates"] == document["rates"]
    summary = "summary?month=3&year=2026"
    assert (
        alice.get(f"/api/ledgers/{restored}/{summary}").get_json()
        == alice.get(f"/api/ledgers/{travels}/{summary}").get_json()
    )


def test_a_restore_logs_its_rates(alice, travels, conn):
    document = alice.get(f"/api/ledgers/{travels}/export?format=json").get_json()
    restored = _post(alice, "/api/ledgers", {"name": "Again", "restore": document})["id"]
    logged = conn.execute(
        "SELECT op, via, after FROM ledger_changes WHERE ledger_id = %s AND entity = 'rate'"
        " ORDER BY id",
        (restored,),
    ).fetchall()
    assert [(op, after["currency"], after["rate"]) for op, _, after in logged] == [
        ("created", "EUR", "1.0842"),
        ("created", "EUR", "1.1"),
        ("created", "JPY", "0.0067"),
    ]


def _document(alice, travels) -> dict:
    return alice.get(f"/api/ledgers/{travels}/export?format=json").get_json()


def _index(document, amount: str) -> int:
    return next(i for i, t in enumerate(document["transactions"]) if t["amount"] == amount)


def _change_transaction(shown: str, **changes):
    """The change of the transaction whose amount is `shown`."""

    def change(document):
        at = _index(document, shown)
        item = document["transactions"][at]
        for key, value in changes.items():
            if value is None:
                item.pop(key, None)
            else:
                item[key] = value
        return f"restore.transactions.{at}"

    return change


def _change_line(document):
    at = _index(document, "10.00")
    document["transactions"][at]["splits"][0]["ledgerAmount"] = "3.67"
    return f"restore.transactions.{at}.splits.0"


def _no_rate(document):
    return _change_transaction("12.34", rate=None)(document)


def _duplicate_rate(document):
    document["rates"].append(dict(document["rates"][0]))
    return f"restore.rates.{len(document['rates']) - 1}"


def _ledger_currency_rate(document):
    document["rates"][0]["currency"] = "USD"
    return "restore.rates.0"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (_change_transaction("12.34", ledgerAmount="13.37"), "ledgerAmount", "Must be 13.38"),
        (_change_transaction("4.50", ledgerAmount="4.51"), "ledgerAmount", "Must be 4.50"),
        (_change_line, "ledgerAmount", "Must be 3.66"),
        (_no_rate, "rate", "A transaction in EUR needs the rate"),
        (_change_transaction("4.50", rate="1.5"), "rate", "A rate is for a currency other"),
        (_change_transaction("1500", amount="1500.5"), "amount", "JPY allows at most 0"),
        (_change_transaction("12.34", rate="1e3"), "rate", "Must be a decimal"),
        (_change_transaction("12.34", rate="0"), "rate", "Must be greater than zero"),
        (_change_transaction("12.34", rate="0.0001", amount="0.01"), "amount", "Converts to zero"),
        (_duplicate_rate, None, "Another rate has this currency and date."),
        (_ledger_currency_rate, "currency", "A rate is for a currency other"),
    ],
)
def test_a_restore_whose_conversions_do_not_hold_is_422_naming_the_path(
    alice, travels, conn, change, field, message
):
    document = _document(alice, travels)
    broken = copy.deepcopy(document)
    at = change(broken)
    path = at if field is None else f"{at}.{field}"
    ledgers = conn.execute("SELECT count(*) FROM ledgers").fetchone()[0]
    response = alice.post("/api/ledgers", json={"name": "Broken", "restore": broken})
    assert_problem(response, 422)
    errors = response.get_json()["errors"]
    assert path in errors, errors
    assert errors[path][0].startswith(message), errors
    assert conn.execute("SELECT count(*) FROM ledgers").fetchone()[0] == ledgers


def test_a_document_without_rates_restores(alice, travels):
    """An export made before rates existed has no `rates` list."""
    document = _document(alice, travels)
    del document["rates"]
    response = alice.post("/api/ledgers", json={"name": "Older", "restore": document})
    assert response.status_code == 201, response.get_json()
    restored = response.get_json()["id"]
    assert alice.get(f"/api/ledgers/{restored}/rates").get_json()["items"] == []
    assert _transactions(alice, restored) == _transactions(alice, travels)


def test_a_recurring_rules_currency_is_restored(alice, travels, conn):
    document = _document(alice, travels)
    document["recurring"] = [
        {
            "id": 1, "categoryId": document["categories"][0]["id"], "type": "EXPENSE",
            "amount": "1500", "currency": "JPY", "description": "Rent", "frequency": "monthly",
            "startDate": "2026-04-01",
        }
    ]  # fmt: skip
    restored = _post(alice, "/api/ledgers", {"name": "Rules", "restore": document})["id"]
    assert conn.execute(
        "SELECT amount, currency, paused FROM recurring_rules WHERE ledger_id = %s", (restored,)
    ).fetchone() == (1500, "JPY", True)
    document["recurring"][0]["amount"] = "12.5"  # JPY has no fraction digits
    response = alice.post("/api/ledgers", json={"name": "Rules", "restore": document})
    assert_problem(response, 422)
    assert "restore.recurring.0.amount" in response.get_json()["errors"]
