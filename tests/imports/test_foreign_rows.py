"""Bank rows in a currency other than the ledger's (../shared/API.md "Import and export" and
"Several currencies"): the ledger's rate of the row's date (or the file's own `rate`), the ledger
amount converted once, half up, lines' shares by the largest remainder, the commit writing the
currency, rate and foreign amount; no rate, a rate that cannot be read, or a conversion to zero:
an invalid row with its reason, never a 500; matches never across currencies."""

from __future__ import annotations

import io
import random
from datetime import date
from decimal import Decimal

import pytest

from expense_api.domain.bankfiles import ParsedFile, Row, SplitLine
from expense_api.domain.currencies import convert
from expense_api.domain.exportfiles import CSV_HEADER
from expense_api.domain.money import minor_units
from expense_api.services.imports import reads
from tests.factories import add_rate, category, save
from tests.imports.service_calls import actor_of as _actor
from tests.imports.service_calls import bank_row as _row
from tests.imports.service_calls import commit as _commit
from tests.imports.service_calls import preview as _preview


def _rows(conn, user, import_id) -> list[dict]:
    actor = _actor(conn, user)
    return reads.rows_page(conn, actor, import_id, limit=100)


def _stored(conn, import_id) -> list[tuple]:
    """(ledger amount, foreign amount, currency, rate) of the import's transactions, by id."""
    return conn.execute(
        "SELECT amount, foreign_amount, currency, rate FROM transactions"
        " WHERE import_id = %s ORDER BY id",
        (import_id,),
    ).fetchall()


def test_a_row_in_another_currency_takes_the_ledgers_rate_of_its_date(alice, conn):
    add_rate(conn, alice, "EUR", "2026-03-01", "1.08")
    add_rate(conn, alice, "EUR", "2026-03-05", "1.0842")
    add_rate(conn, alice, "EUR", "2026-03-09", "1.2")  # after both rows: not theirs
    parsed = ParsedFile(
        format="csv",
        rows=[
            _row(1, 4, "-12.34", currency="EUR"),  # the 1st's rate
            _row(2, 6, "-12.34", currency="EUR"),  # the 5th's
            _row(3, 6, "-2.50"),  # the ledger's own
        ],
    )
    preview = _preview(conn, alice, parsed)
    assert preview["counts"]["new"] == 3
    shown = [
        (row["currency"], row["rate"], row["amount"], row["ledger_amount"])
        for row in _rows(conn, alice, preview["id"])
    ]
    # 12.34 x 1.08 = 13.3272; 12.34 x 1.0842 = 13.379028: half up to the cent, once.
    assert shown == [
        ("EUR", Decimal("1.08"), Decimal("12.34"), Decimal("13.33")),
        ("EUR", Decimal("1.0842"), Decimal("12.34"), Decimal("13.38")),
        ("USD", None, Decimal("2.50"), Decimal("2.50")),
    ]
    _commit(conn, alice, preview["id"])
    assert _stored(conn, preview["id"]) == [
        (Decimal("13.33"), Decimal("12.34"), "EUR", Decimal("1.08")),
        (Decimal("13.38"), Decimal("12.34"), "EUR", Decimal("1.0842")),
        (Decimal("2.50"), None, None, None),
    ]
    listed = alice.get("/api/transactions?from=2026-03-01&to=2026-03-31").get_json()["items"]
    assert sorted((t["amount"], t["currency"], t["rate"], t["ledgerAmount"]) for t in listed) == [
        ("12.34", "EUR", "1.08", "13.33"),
        ("12.34", "EUR", "1.0842", "13.38"),
        ("2.50", "USD", None, "2.50"),
    ]


def test_without_a_rate_the_row_is_invalid_naming_the_currency_and_date(alice, conn):
    add_rate(conn, alice, "EUR", "2026-03-10", "1.08")  # after the row's date
    parsed = ParsedFile(format="csv", rows=[_row(1, 4, "-12.34", currency="EUR"), _row(2, 4, "-1")])
    preview = _preview(conn, alice, parsed)
    assert preview["counts"] == {"new": 1, "duplicate": 0, "match": 0, "invalid": 1}
    invalid = _rows(conn, alice, preview["id"])[0]
    assert invalid["decision"] == "invalid"
    assert invalid["reason"] == "In EUR: the ledger has no EUR rate on or before 2026-03-04."
    assert invalid["rate"] is None and invalid["ledger_amount"] is None
    _commit(conn, alice, preview["id"])
    assert _stored(conn, preview["id"]) == [(Decimal("1.00"), None, None, None)]


def test_the_files_currency_and_the_uploads_apply_to_rows_that_name_none(alice, conn):
    add_rate(conn, alice, "EUR", "2026-01-01", "1.1")
    add_rate(conn, alice, "GBP", "2026-01-01", "1.25")
    of_file = ParsedFile(format="ofx", rows=[_row(1, 2, "-10")], currency="GBP")
    assert [r["currency"] for r in _rows(conn, alice, _preview(conn, alice, of_file)["id"])] == [
        "GBP"
    ]
    actor = _actor(conn, alice)
    from expense_api.services.imports import previews

    with conn.transaction():
        given = previews.create(
            conn, actor, ParsedFile(format="csv", rows=[_row(1, 2, "-10")]), account="a",
            file_name="f", currency="EUR",
        )  # fmt: skip
    row = _rows(conn, alice, given["id"])[0]
    assert (row["currency"], row["rate"], row["ledger_amount"]) == (
        "EUR",
        Decimal("1.1"),
        Decimal("11.00"),
    )


def test_a_rate_from_the_file_wins_over_the_ledgers(alice, conn):
    add_rate(conn, alice, "EUR", "2026-01-01", "1.1")
    parsed = ParsedFile(format="csv", rows=[_row(1, 2, "-10", currency="EUR", rate="1.2345")])
    preview = _preview(conn, alice, parsed)
    row = _rows(conn, alice, preview["id"])[0]
    assert (row["rate"], row["ledger_amount"]) == (Decimal("1.2345"), Decimal("12.35"))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1e3", "Unreadable rate '1e3': "),
        ("0", "Unreadable rate '0': Must be greater than zero."),
        ("-1.1", "Unreadable rate '-1.1': "),
        ("abc", "Unreadable rate 'abc': "),
        ("NaN", "Unreadable rate 'NaN': "),
        ("1.0000000000001", "Unreadable rate '1.0000000000001': At most 12 significant digits."),
        ("99999999999", "Unreadable rate '99999999999': Must be less than 1,000,000,000."),
    ],
)
def test_a_rate_the_file_gives_that_is_not_a_rate_makes_the_row_invalid(alice, conn, text, reason):
    parsed = ParsedFile(format="csv", rows=[_row(1, 2, "-10", currency="EUR", rate=text)])
    preview = _preview(conn, alice, parsed)
    row = _rows(conn, alice, preview["id"])[0]
    assert row["decision"] == "invalid"
    assert row["reason"].startswith(reason)


def test_a_rate_on_a_row_in_the_ledgers_currency_must_be_one(alice, conn):
    parsed = ParsedFile(
        format="csv",
        rows=[_row(1, 2, "-10", currency="USD", rate="1"), _row(2, 2, "-11", rate="1.5")],
    )
    rows = _rows(conn, alice, _preview(conn, alice, parsed)["id"])
    assert [(row["decision"], row["rate"]) for row in rows] == [("new", None), ("invalid", None)]
    assert rows[1]["reason"] == "A rate is for a currency other than the ledger's USD."


def test_a_row_that_converts_to_zero_or_too_much_is_invalid(alice, conn):
    add_rate(conn, alice, "JPY", "2026-01-01", "0.004")  # 1 yen: 0.004 dollars, 0.00
    add_rate(conn, alice, "EUR", "2026-01-01", "100")
    parsed = ParsedFile(
        format="csv",
        rows=[
            _row(1, 2, "-1", currency="JPY"),
            _row(2, 2, "-2", currency="JPY"),  # 0.008: 0.01
            _row(3, 2, "-99999999999", currency="EUR"),
            _row(4, 2, "-12.345", currency="EUR"),  # EUR has 2 digits
        ],
    )
    rows = _rows(conn, alice, _preview(conn, alice, parsed)["id"])
    assert [row["decision"] for row in rows] == ["invalid", "new", "invalid", "invalid"]
    assert rows[0]["reason"].startswith("In JPY at 0.004: Converts to zero in USD")
    assert rows[1]["ledger_amount"] == Decimal("0.01")
    assert rows[2]["reason"].startswith("In EUR at 100: Converts to 1,000,000,000,000 USD")
    assert rows[3]["reason"] == "More fraction digits than EUR has (2)."


def test_a_split_row_in_another_currency_shares_its_ledger_amount(alice, conn):
    add_rate(conn, alice, "EUR", "2026-01-01", "1.1")
    parsed = ParsedFile(
        format="qif",
        rows=[
            _row(1, 2, "-10.00", currency="EUR", splits=(
                SplitLine("Food", Decimal("3.33")), SplitLine("Home", Decimal("3.33")),
                SplitLine("Fun", Decimal("3.34")),
            )),
        ],
    )  # fmt: skip
    preview = _preview(conn, alice, parsed)
    _commit(conn, alice, preview["id"])
    (transaction_id,) = conn.execute(
        "SELECT id FROM transactions WHERE import_id = %s", (preview["id"],)
    ).fetchone()
    lines = conn.execute(
        "SELECT amount, foreign_amount FROM transaction_splits WHERE transaction_id = %s"
        " ORDER BY line_no",
        (transaction_id,),
    ).fetchall()
    # 11.00 shared as 3.33 : 3.33 : 3.34 -> 3.663, 3.663, 3.674: floors 3.66, 3.66, 3.67, and
    # the cent left over to the largest remainder (the third line's .4).
    assert lines == [
        (Decimal("3.66"), Decimal("3.33")),
        (Decimal("3.66"), Decimal("3.33")),
        (Decimal("3.68"), Decimal("3.34")),
    ]
    shown = alice.get(f"/api/transactions/{transaction_id}").get_json()
    assert [(line["amount"], line["ledgerAmount"]) for line in shown["splits"]] == [
        ("3.33", "3.66"),
        ("3.33", "3.66"),
        ("3.34", "3.68"),
    ]
    assert shown["ledgerAmount"] == "11.00"


def test_a_foreign_row_matches_a_hand_entered_one_in_its_currency_never_across(alice, conn):
    add_rate(conn, alice, "EUR", "2026-01-01", "1.25")
    food = category(alice, "Food")

    def hand(**body):
        values = {"type": "EXPENSE", "categoryId": food, "date": "2026-03-10", **body}
        response = alice.post("/api/transactions", json=values)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    in_dollars = hand(amount="10.00")  # the ledger amount of the 8 EUR row
    in_euros = hand(amount="8.00", currency="EUR")  # ledger amount 10.00 too
    parsed = ParsedFile(
        format="csv",
        rows=[
            _row(1, 11, "-8", currency="EUR"),  # matches the euros, not the dollars
            _row(2, 11, "-8", currency="EUR"),  # the euros are taken: new
            _row(3, 12, "-8"),  # 8 dollars: no transaction of 8 dollars
            _row(4, 12, "-10"),  # 10 dollars: the dollars, never the euros
        ],
    )
    preview = _preview(conn, alice, parsed)
    rows = _rows(conn, alice, preview["id"])
    assert [(row["decision"], row["transaction_id"]) for row in rows] == [
        ("match", in_euros),
        ("new", None),
        ("new", None),
        ("match", in_dollars),
    ]
    _commit(conn, alice, preview["id"])
    linked = conn.execute(
        "SELECT id, import_key IS NOT NULL FROM transactions WHERE id = ANY(%s) ORDER BY id",
        ([in_dollars, in_euros],),
    ).fetchall()
    assert linked == [(in_dollars, True), (in_euros, True)]


def test_over_budget_counts_ledger_amounts(alice, conn):
    add_rate(conn, alice, "EUR", "2026-01-01", "2")
    assert save(alice, amount="30", mode="hard").status_code == 201
    parsed = ParsedFile(format="csv", rows=[_row(1, 2, "-20", currency="EUR")])
    committed = _commit(conn, alice, _preview(conn, alice, parsed)["id"])
    (over,) = committed["over_budget"]
    assert (over["amount"], over["spent"]) == ("30.00", "40.00")


def test_the_rates_of_all_rows_are_looked_up_in_one_statement(alice, conn, monkeypatch):
    from expense_api.repositories import imports

    add_rate(conn, alice, "EUR", "2026-01-01", "1.1")
    calls = []
    looked_up = imports.rates_on
    monkeypatch.setattr(
        imports, "rates_on", lambda *a, **k: calls.append(k["pairs"]) or looked_up(*a, **k)
    )
    rows = [_row(n, 1 + n % 28, f"-{n}", currency="EUR") for n in range(1, 60)]
    _preview(conn, alice, ParsedFile(format="csv", rows=rows))
    assert len(calls) == 1 and len(calls[0]) == 28


@pytest.mark.parametrize("currency", ["USD", "JPY", "KWD"])
def test_sql_round_of_the_exact_product_is_convert(conn, currency):
    """The commit converts in SQL (round(amount * rate, digits)); the preview in Python
    (domain/currencies.convert): the same value for every amount and rate, halves included."""
    digits = minor_units(currency)
    generator = random.Random(f"round-{currency}")
    pairs = [
        (Decimal("0.5"), Decimal("1")),
        (Decimal("1.005"), Decimal("1")),
        (Decimal("0.125"), Decimal("1")),
        (Decimal("2.5"), Decimal("1")),
        (Decimal("12.34"), Decimal("1.0842")),
        (Decimal("999999999999.9999"), Decimal("0.000000000001")),
    ]
    for _ in range(2000):
        amount = Decimal(generator.randrange(1, 10**12)).scaleb(-generator.randrange(0, 5))
        rate = Decimal(generator.randrange(1, 10**12)).scaleb(-generator.randrange(0, 14))
        pairs.append((amount, rate))
    # Exact halves in the ledger currency's last digit.
    for _ in range(500):
        half = (Decimal(generator.randrange(0, 10**6)) + Decimal("0.5")).scaleb(-digits)
        pairs.append((half, Decimal(1)))
        pairs.append((half * 4, Decimal("0.25")))
    rows = conn.execute(
        "SELECT round(a * r, %s::int) FROM unnest(%s::numeric[], %s::numeric[])"
        " WITH ORDINALITY AS k(a, r, n) ORDER BY n",
        (digits, [a for a, _ in pairs], [r for _, r in pairs]),
    ).fetchall()
    for (amount, rate), (in_sql,) in zip(pairs, rows, strict=True):
        try:
            expected = convert(amount, rate, currency)
        except ValueError:  # zero or too large: such a row is invalid, never committed
            continue
        assert in_sql == expected, (amount, rate)
        assert str(in_sql) == str(expected)


def test_hostile_rate_cells_over_http_are_invalid_rows_never_a_500(alice):
    header = ",".join(CSV_HEADER) + "\r\n"
    full_width = "\uff11.\uff15"  # digits a spreadsheet may write
    cells = ["1e3", "0", "garbage", "-2", "1" * 400, "0x10", full_width, "Infinity", "1.5"]
    lines = "".join(
        f"2026-03-{n + 1:02d},EXPENSE,10.00,EUR,{cell},Food,,,,,,,\r\n"
        for n, cell in enumerate(cells)
    )
    response = alice.post(
        f"/api/ledgers/{alice.ledger_id}/imports",
        data={"file": (io.BytesIO((header + lines).encode()), "x.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    rows = alice.get(
        f"/api/ledgers/{alice.ledger_id}/imports/{response.get_json()['id']}/rows"
    ).get_json()["items"]
    assert [row["decision"] for row in rows] == ["invalid"] * 8 + ["new"]
    assert all(row["reason"].startswith("Unreadable rate") for row in rows[:8])
    assert (rows[8]["currency"], rows[8]["rate"], rows[8]["ledgerAmount"]) == (
        "EUR",
        "1.5",
        "15.00",
    )
    assert rows[8]["amount"] == "10.00"


def test_a_row_in_a_currency_of_other_digits_shows_its_own(alice, conn):
    add_rate(conn, alice, "JPY", "2026-01-01", "0.0067")
    parsed = ParsedFile(format="csv", rows=[_row(1, 2, "-1500", currency="JPY")])
    preview = _preview(conn, alice, parsed)
    rows = alice.get(f"/api/ledgers/{alice.ledger_id}/imports/{preview['id']}/rows").get_json()
    row = rows["items"][0]
    assert (row["amount"], row["currency"], row["rate"], row["ledgerAmount"]) == (
        "1500",
        "JPY",
        "0.0067",
        "10.05",
    )


def test_dates_come_through_as_dates(alice, conn):
    """The set-based lookup answers (currency, date) pairs the rows find again."""
    add_rate(conn, alice, "EUR", "2026-03-02", "1.5")
    parsed = ParsedFile(
        format="csv", rows=[Row(1, date(2026, 3, 2), Decimal("-2"), currency="EUR")]
    )
    row = _rows(conn, alice, _preview(conn, alice, parsed)["id"])[0]
    assert row["ledger_amount"] == Decimal("3.00")
