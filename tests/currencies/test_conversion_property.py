"""Property: on random transactions in random currencies at random rates, every stored ledger
amount is the exact product rounded half up once, every split line the largest-remainder share
of it, and every report a plain GROUP BY over the stored ledger amounts (issue 30;
../shared/API.md "Several currencies").

Each example is a new user whose ledger is in USD, JPY or KWD (2, 0 or 3 digits), with random
categories, soft budgets on every scope of three months (December 2025 to February 2026), a
random table of the ledger's own rates, and random plain and split transactions in random
currencies (0, 2 or 3 digits, the ledger's own among them) at random rates (1 to 12 significant
digits, from 10^-8 to 10^9) or at the ledger's rate of their date; then random PATCHes (amount,
rate, currency with or without a rate and back to the ledger's, date, lines, one category) and
deletions. Every answer, success or refusal (its code and the fields its `errors` name), is
what a model of the rules predicts: a model of its own in `fractions.Fraction`, independent of
the service's Decimal code. Twice (after the creates, after the changes):

- the stored rows are the model's: `amount` the ledger amount, amount x rate rounded half up to
  the ledger's digits; `foreign_amount`, `currency`, `rate` beside it (NULL in the ledger's own
  currency); each line's `amount` its largest-remainder share, the lines summing exactly to it;
- every transaction as REST lists it (the view) shows its own amount, currency, rate and
  ledger amount;
- summary, category breakdown, budget usage and trends equal a GROUP BY over the stored rows;
- the totals tables have no mismatch.

Bounded for CI like the fuzzers: FUZZ_EXAMPLES (default 15) examples, about 15 s.
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from expense_api.db.sqlfiles import queries
from tests.helpers import Accounts, assert_problem, client_from

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
LEDGERS = {"USD": 2, "JPY": 0, "KWD": 3}
# Fraction digits of the currencies transactions are in (ISO 4217), the ledgers' own among them.
DIGITS = {**LEDGERS, "EUR": 2, "GBP": 2, "KRW": 0, "BHD": 3}
FIRST_DAY, DAYS = date(2025, 12, 1), 90  # 2025-12-01 .. 2026-02-28
MONTHS = [(2025, 12), (2026, 1), (2026, 2)]
MAX_AMOUNT = 10**12  # exclusive, in any currency
_addresses = itertools.count(1)


# A rate as (mantissa, exponent): mantissa x 10^exponent, 1 to 12 significant digits, from about
# 10^-8 to below 10^9 (the largest accepted); sent with 0 to 2 zeros appended to its fraction.
@st.composite
def rates(draw):
    digits = draw(st.one_of(st.integers(1, 3), st.integers(1, 12)))  # short ones make halves
    mantissa = draw(st.integers(10 ** (digits - 1), 10**digits - 1))
    exponent = draw(st.integers(-(digits + 7), 9 - digits))
    return mantissa, exponent, draw(st.integers(0, 2))


currencies = st.sampled_from(sorted(DIGITS))
days = st.integers(0, DAYS - 1)
types = st.sampled_from(("INCOME", "EXPENSE"))
# An amount in minor units of its currency: mostly small, some near the largest amount, some
# round (equal lines tie for the remainder; halves are likelier).
minor = st.one_of(
    st.sampled_from([1, 5, 10, 25, 50, 100, 1000]),
    st.integers(1, 3000),
    st.integers(1, 10**6),
    st.integers(1, 10**11),
)
targets = st.integers(0, 10**6)  # an index into the live transactions, modulo their number
# A rate that makes the product of the amount it meets land exactly on a half of the ledger's
# minor unit, ("half", k): k + 1/2 units (see Ledger.resolve).
given_rates = st.one_of(rates(), rates(), st.tuples(st.just("half"), st.integers(0, 999)))
# None (one time in three): the ledger's rate of the date.
maybe_rate = st.tuples(st.integers(0, 2), given_rates).map(lambda d: d[1] if d[0] else None)


@st.composite
def scenarios(draw):
    categories = draw(st.integers(2, 4))
    category = st.integers(0, categories - 1)
    lines = st.one_of(
        st.lists(st.tuples(category, minor), min_size=2, max_size=5),
        # Equal lines: their remainders tie, the earlier line first.
        st.tuples(st.lists(category, min_size=2, max_size=5), minor).map(
            lambda drawn: [(c, drawn[1]) for c in drawn[0]]
        ),
    )
    entry = st.one_of(
        st.tuples(st.just("plain"), types, days, currencies, maybe_rate, category, minor),
        st.tuples(st.just("split"), types, days, currencies, maybe_rate, lines),
    )
    change = st.one_of(
        st.tuples(st.just("amount"), targets, minor),
        st.tuples(st.just("rate"), targets, given_rates),
        st.tuples(st.just("currency"), targets, currencies, maybe_rate),
        st.tuples(st.just("ledger_currency"), targets),
        st.tuples(st.just("date"), targets, days),
        st.tuples(st.just("lines"), targets, lines),
        st.tuples(st.just("single"), targets, category),
        st.tuples(st.just("delete"), targets),
    )
    # The ledger's rates: (currency, day from 10 days before the first, rate).
    day = st.one_of(st.just(-10), st.integers(-10, DAYS - 1))
    table = st.lists(st.tuples(currencies, day, rates()), max_size=12)
    return {
        "currency": draw(st.sampled_from(sorted(LEDGERS))),
        "categories": categories,
        "rates": draw(table),
        "entries": draw(st.lists(entry, min_size=2, max_size=8)),
        "changes": draw(st.lists(change, max_size=10)),
        "part": (draw(days), draw(st.integers(0, 45))),
    }


# The model, in fractions.


def rate_value(rate) -> Fraction:
    mantissa, exponent, _ = rate
    return Fraction(mantissa) * Fraction(10) ** exponent


def rate_wire(rate) -> str:
    """The rate as the client writes it: plain decimal, with `zeros` zeros appended."""
    text, zeros = plain(rate_value(rate)), rate[2]
    if not zeros:
        return text
    return text + ("" if "." in text else ".") + "0" * zeros


def as_rate(value: Fraction):
    """A Fraction as a rate (mantissa, exponent, 0), or None when it is not a decimal of at
    most 12 significant digits below 10^9."""
    digits = 0
    while (value * 10**digits).denominator != 1:
        digits += 1
        if digits > 40:
            return None
    mantissa, exponent = (value * 10**digits).numerator, -digits
    while mantissa % 10 == 0:
        mantissa, exponent = mantissa // 10, exponent + 1
    if len(str(mantissa)) > 12 or value >= 10**9:
        return None
    return mantissa, exponent, 0


def plain(value: Fraction, digits: int | None = None) -> str:
    """A finite decimal fraction in plain notation: exactly `digits` fraction digits, or (None)
    as few as it needs ("1.5", "150", "0.000039312")."""
    if digits is None:
        digits = 0
        while (value * 10**digits).denominator != 1:
            digits += 1
    scaled = value * 10**digits
    assert scaled.denominator == 1 and scaled >= 0, value
    text = str(scaled.numerator).rjust(digits + 1, "0")
    return f"{text[:-digits]}.{text[-digits:]}" if digits else text


def fits(value: Fraction, digits: int) -> bool:
    return (value * 10**digits).denominator == 1


def half_up(value: Fraction) -> int:
    """The nearest integer to a non-negative value, a half going up."""
    return math.floor(value + Fraction(1, 2))


def largest_remainder(total: int, parts: list[Fraction]) -> list[int]:
    """`total` units shared in proportion to `parts`: each part its exact share's floor, the
    units left one each to the largest remainders (the earlier part on a tie)."""
    whole = sum(parts)
    exact = [part * total / whole for part in parts]
    shares = [math.floor(share) for share in exact]
    order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - shares[i]), i))
    for index in order[: total - sum(shares)]:
        shares[index] += 1
    return shares


class Refused(Exception):
    """What the service must answer instead: (status, code, the fields `errors` names)."""

    def __init__(self, code: str, fields):
        super().__init__(code, fields)
        self.code, self.fields = code, sorted(fields)


@dataclass
class Row:
    type: str
    day: date
    currency: str | None  # None: the ledger's own
    rate: Fraction | None
    amount: Fraction  # in `currency`
    category: int | None  # an index into the categories, None when split
    lines: list[tuple[int, Fraction]] = field(default_factory=list)
    # Derived by Model.settle: the ledger amount and the lines' shares, in ledger minor units.
    ledger_units: int = 0
    shares: list[int] = field(default_factory=list)


class Model:
    def __init__(self, currency: str, table):
        self.currency, self.digits = currency, LEDGERS[currency]
        self.table: dict[str, dict[date, Fraction]] = {}
        for code, day, rate in table:
            self.table.setdefault(code, {})[FIRST_DAY + timedelta(days=day)] = rate_value(rate)

    def rate_on(self, currency: str, day: date) -> Fraction | None:
        known = [d for d in self.table.get(currency, {}) if d <= day]
        return self.table[currency][max(known)] if known else None

    def settle(self, row: Row, raw_currency: str | None) -> Row:
        """The row as the service must record it, or Refused, in the service's order of
        checks: a rate only for another currency, digits, lines summing to the amount, the rate
        of the date, the conversion, every line a share."""
        currency = None if raw_currency in (None, self.currency) else raw_currency
        if currency is None and row.rate is not None and row.rate != 1:
            raise Refused("validation_error", ["rate"])
        digits = DIGITS[currency or self.currency]
        wrong = [] if fits(row.amount, digits) else ["amount"]
        wrong += [f"splits.{i}.amount" for i, (_, a) in enumerate(row.lines) if not fits(a, digits)]
        if wrong:
            raise Refused("validation_error", wrong)
        if row.lines and sum(a for _, a in row.lines) != row.amount:
            raise Refused("splits_mismatch", ["splits"])
        if currency is None:
            units = row.amount * 10**self.digits
            return replace(
                row, currency=None, rate=None, ledger_units=int(units),
                shares=[int(a * 10**self.digits) for _, a in row.lines],
            )  # fmt: skip
        rate = row.rate
        if rate is None:
            rate = self.rate_on(currency, row.day)
            if rate is None:
                raise Refused("rate_unknown", ["rate"])
        units = half_up(row.amount * rate * 10**self.digits)
        if units <= 0 or units >= MAX_AMOUNT * 10**self.digits:
            raise Refused("validation_error", ["amount"])
        shares = largest_remainder(units, [a for _, a in row.lines]) if row.lines else []
        zero = [f"splits.{i}.amount" for i, share in enumerate(shares) if share <= 0]
        if zero:
            raise Refused("validation_error", zero)
        return replace(row, currency=currency, rate=rate, ledger_units=units, shares=shares)


class Ledger:
    """A user's default ledger driven through REST, beside the model of what it must hold."""

    def __init__(self, app, conn, scenario):
        n = next(_addresses)
        client = client_from(app, f"10.248.{n // 256 % 256}.{n % 256}")
        self.user = Accounts(client).new_user(currency=scenario["currency"])
        self.conn, self.ledger_id = conn, self.user.ledger_id
        self.model = Model(scenario["currency"], scenario["rates"])
        self.categories = []
        for index in range(scenario["categories"]):
            response = self.user.post("/api/categories", json={"name": f"C{index}"})
            assert response.status_code == 201, response.get_json()
            self.categories.append(response.get_json()["id"])
        conn.execute(
            "INSERT INTO budgets (ledger_id, category_id, year, month, amount, mode)"
            " SELECT %s, c, y, m, 1000000, 'soft'"
            " FROM unnest(%s::bigint[]) AS c, unnest(%s::int[], %s::int[]) AS p(y, m)",
            (self.ledger_id, [None, *self.categories],
             [y for y, _ in MONTHS], [m for _, m in MONTHS]),
        )  # fmt: skip
        for code, table in self.model.table.items():
            for day, rate in table.items():
                conn.execute(
                    "INSERT INTO ledger_rates (ledger_id, currency, day, rate)"
                    " VALUES (%s, %s, %s, %s::numeric)",
                    (self.ledger_id, code, day, plain(rate)),
                )
        self.rows: dict[int, Row] = {}

    def money(self, value: Fraction, currency: str | None) -> str:
        return plain(value, DIGITS[currency or self.model.currency])

    def ledger_money(self, units: int) -> str:
        return plain(Fraction(units, 10**self.model.digits), self.model.digits)

    def resolve(self, rate, amount: Fraction):
        """A drawn rate for an amount: ("half", k) becomes the rate that converts the amount
        to exactly k + 1/2 of the ledger's minor units (when that is a rate: else 0.5)."""
        if rate is None or rate[0] != "half":
            return rate
        exact = (rate[1] + Fraction(1, 2)) / 10**self.model.digits / amount
        return as_rate(exact) or (5, -1, 0)

    def lines_json(self, lines, currency):
        return [{"categoryId": self.categories[c], "amount": self.money(a, currency)}
                for c, a in lines]  # fmt: skip

    def expect(self, response, row: Row | None, refused: Refused | None, status: int):
        # What the examples covered (pytest --hypothesis-show-statistics).
        if refused is not None:
            event(f"{status}: refused {refused.code} {refused.fields[0]}")
        else:
            kind = ("split " if row.lines else "plain ") + ("foreign" if row.currency else "own")
            event(f"{status}: {kind}")
        if refused is not None:
            problem = assert_problem(response, 422, refused.code)
            assert sorted(problem["errors"]) == refused.fields, problem
            return None
        assert response.status_code == status, response.get_json()
        shown = response.get_json()
        self.assert_shown(shown, row)
        return shown["id"]

    def create(self, entry):
        kind, type_, day, currency, rate = entry[:5]
        amount_of = lambda units: Fraction(units, 10 ** DIGITS[currency])  # noqa: E731
        if kind == "plain":
            lines, category, amount = [], entry[5], amount_of(entry[6])
        else:
            lines = [(c, amount_of(units)) for c, units in entry[5]]
            category, amount = None, sum(a for _, a in lines)
        if amount >= MAX_AMOUNT:
            return
        rate = self.resolve(rate, amount)
        row = Row(type_, FIRST_DAY + timedelta(days=day), currency,
                  None if rate is None else rate_value(rate), amount, category, lines)  # fmt: skip
        body = {"type": type_, "date": row.day.isoformat(), "currency": currency,
                "amount": self.money(amount, currency)}  # fmt: skip
        if rate is not None:
            body["rate"] = rate_wire(rate)
        if lines:
            body["splits"] = self.lines_json(lines, currency)
        else:
            body["categoryId"] = self.categories[category]
        refused = None
        try:
            row = self.model.settle(row, currency)
        except Refused as error:
            refused = error
        made = self.expect(self.user.post("/api/transactions", json=body), row, refused, 201)
        if made is not None:
            self.rows[made] = row

    def change(self, change):
        if not self.rows:
            return
        kind, target = change[:2]
        tid = sorted(self.rows)[target % len(self.rows)]
        old = self.rows[tid]
        path = f"/api/transactions/{tid}"
        if kind == "delete":
            assert self.user.delete(path).status_code == 204
            del self.rows[tid]
            return
        own = old.currency or self.model.currency
        new, body, currency = replace(old), {}, old.currency
        if kind == "amount":
            new.amount = Fraction(change[2], 10 ** DIGITS[own])
            body["amount"] = self.money(new.amount, own)
        elif kind == "rate":
            rate = self.resolve(change[2], old.amount)
            new.rate = rate_value(rate)
            body["rate"] = rate_wire(rate)
        elif kind in ("currency", "ledger_currency"):
            code, rate = (
                (change[2], change[3]) if kind == "currency" else (self.model.currency, None)
            )
            body["currency"] = currency = code
            if rate is not None:
                rate = self.resolve(rate, old.amount)
                new.rate = rate_value(rate)
                body["rate"] = rate_wire(rate)
            elif (None if code == self.model.currency else code) != old.currency:
                new.rate = None  # a new currency without a rate: the ledger's of the date
        elif kind == "date":
            new.day = FIRST_DAY + timedelta(days=change[2])
            body["date"] = new.day.isoformat()
        elif kind == "lines":
            new.lines = [(c, Fraction(units, 10 ** DIGITS[own])) for c, units in change[2]]
            new.amount, new.category = sum(a for _, a in new.lines), None
            body["splits"] = self.lines_json(new.lines, own)
            body["amount"] = self.money(new.amount, own)
        elif kind == "single":
            new.category, new.lines = change[2], []
            body["categoryId"] = self.categories[change[2]]
        if new.amount >= MAX_AMOUNT:
            return
        refused = None
        try:
            new = self.model.settle(new, currency)
        except Refused as error:
            refused = error
        if self.expect(self.user.patch(path, json=body), new, refused, 200) is not None:
            self.rows[tid] = new

    def assert_shown(self, shown, row: Row):
        own = row.currency or self.model.currency
        assert (shown["type"], shown["date"]) == (row.type, row.day.isoformat())
        assert (shown["amount"], shown["currency"]) == (self.money(row.amount, own), own), shown
        assert shown["rate"] == (None if row.rate is None else plain(row.rate)), shown
        assert shown["ledgerAmount"] == self.ledger_money(row.ledger_units), shown
        category = None if row.category is None else self.categories[row.category]
        assert shown["categoryId"] == category
        lines = [(x["categoryId"], x["amount"], x["ledgerAmount"]) for x in shown["splits"]]
        assert lines == [
            (self.categories[c], self.money(a, own), self.ledger_money(share))
            for (c, a), share in zip(row.lines, row.shares, strict=True)
        ], shown

    # What the database holds, and what REST lists.
    def assert_stored_rows_are_the_model(self):
        def exact(value):
            return None if value is None else Fraction(value)

        rows = self.conn.execute(
            "SELECT id, type, occurred_on, amount, category_id, currency, rate, foreign_amount"
            " FROM transactions WHERE ledger_id = %s",
            (self.ledger_id,),
        ).fetchall()
        got = {(r[0], r[1], r[2], exact(r[3]), r[4], r[5], exact(r[6]), exact(r[7]))
               for r in rows}  # fmt: skip
        scale = Fraction(1, 10**self.model.digits)
        expected = {
            (tid, r.type, r.day, r.ledger_units * scale,
             None if r.category is None else self.categories[r.category],
             r.currency, r.rate, None if r.currency is None else r.amount)
            for tid, r in self.rows.items()
        }  # fmt: skip
        assert got == expected
        lines = self.conn.execute(
            "SELECT transaction_id, line_no, category_id, amount, foreign_amount, type,"
            " occurred_on FROM transaction_splits WHERE ledger_id = %s",
            (self.ledger_id,),
        ).fetchall()
        got = {(r[0], r[1], r[2], exact(r[3]), exact(r[4]), r[5], r[6]) for r in lines}
        expected = {
            (tid, no, self.categories[c], share * scale,
             None if r.currency is None else a, r.type, r.day)
            for tid, r in self.rows.items()
            for no, ((c, a), share) in enumerate(zip(r.lines, r.shares, strict=True), 1)
        }  # fmt: skip
        assert got == expected
        for r in self.rows.values():
            assert sum(r.shares) == (r.ledger_units if r.lines else 0)
        listed = self.get("/api/transactions?from=2025-11-01&to=2026-03-31&limit=500")["items"]
        assert sorted(item["id"] for item in listed) == sorted(self.rows)
        for item in listed:
            self.assert_shown(item, self.rows[item["id"]])

    def grouped(self, query: str, start: date, end: date) -> dict:
        """{key: amount as the API writes it} of a GROUP BY over the stored ledger amounts of
        [start, end]: `whole` each transaction once, `entries` the transactions with a
        category and the lines of split ones."""
        sql = (
            "WITH whole AS (SELECT occurred_on, type, amount, category_id FROM transactions"
            "               WHERE ledger_id = %(l)s AND occurred_on BETWEEN %(s)s AND %(e)s),"
            " entries AS (SELECT occurred_on, type, amount, category_id FROM whole"
            "             WHERE category_id IS NOT NULL"
            "             UNION ALL"
            "             SELECT occurred_on, type, amount, category_id FROM transaction_splits"
            "             WHERE ledger_id = %(l)s AND occurred_on BETWEEN %(s)s AND %(e)s) "
        )
        rows = self.conn.execute(sql + query, {"l": self.ledger_id, "s": start, "e": end})
        digits = self.model.digits
        return {
            (row[0] if len(row) == 2 else row[:-1]): plain(Fraction(row[-1]), digits)
            for row in rows.fetchall()
            if row[-1]  # neither NULL (nothing to sum) nor zero
        }

    def assert_reports(self, part):
        zero = self.ledger_money(0)
        periods = [(date(y, m, 1), _month_end(y, m), f"month={m}&year={y}") for y, m in MONTHS]
        periods.append((date(2026, 1, 1), date(2026, 12, 31), "year=2026"))
        start = FIRST_DAY + timedelta(days=part[0])
        periods.append((start, start + timedelta(days=part[1]), None))
        for start, end, query in periods:
            query = query or f"from={start}&to={end}"
            by_type = self.grouped("SELECT type, sum(amount) FROM whole GROUP BY 1", start, end)
            summary = self.get(f"/api/summary?{query}")
            assert (summary["totalIncome"], summary["totalExpense"]) == (
                by_type.get("INCOME", zero),
                by_type.get("EXPENSE", zero),
            ), query
            by_category = self.grouped(
                "SELECT category_id, sum(amount) FROM entries WHERE type = 'EXPENSE' GROUP BY 1",
                start,
                end,
            )
            breakdown = self.get(f"/api/category-breakdown?{query}")
            assert {i["categoryId"]: i["amount"] for i in breakdown["items"]} == by_category
            assert breakdown["total"] == by_type.get("EXPENSE", zero), query
            if query.startswith("year"):
                continue
            by_month = self.grouped(
                "SELECT to_char(occurred_on, 'YYYY-MM'), type, sum(amount) FROM whole"
                " GROUP BY 1, 2",
                start,
                end,
            )
            for row in self.get(f"/api/trends?from={start}&to={end}")["items"]:
                assert (row["income"], row["expense"]) == (
                    by_month.get((row["month"], "INCOME"), zero),
                    by_month.get((row["month"], "EXPENSE"), zero),
                ), (query, row)
        for year, month in MONTHS:
            spent = self.grouped(
                "SELECT category_id, sum(amount) FROM entries WHERE type = 'EXPENSE' GROUP BY 1"
                " UNION ALL"
                " SELECT NULL, sum(amount) FROM whole WHERE type = 'EXPENSE'",
                date(year, month, 1),
                _month_end(year, month),
            )
            usage = self.get(f"/api/budget-usage?month={month}&year={year}")["items"]
            assert {item["categoryId"] for item in usage} == {None, *self.categories}
            for item in usage:
                assert item["spent"] == spent.get(item["categoryId"], zero), (year, month, item)

    def get(self, path):
        response = self.user.get(path)
        assert response.status_code == 200, (path, response.get_json())
        return response.get_json()

    def assert_all(self, part):
        self.assert_stored_rows_are_the_model()
        assert queries.totals.monthly_mismatches(self.conn, ledger_ids=[self.ledger_id]) == 0
        assert queries.totals.daily_mismatches(self.conn, ledger_ids=[self.ledger_id]) == 0
        self.assert_reports(part)


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def test_the_model_rounds_half_up_once_and_shares_by_the_largest_remainder():
    # The model's own arithmetic on the API document's examples, so a wrong model fails here.
    assert half_up(Fraction("12.34") * Fraction("1.0842") * 100) == 1338
    assert half_up(Fraction("1.125") * Fraction("3.2547") * 100) == 366
    assert half_up(Fraction("0.125") * 100) == 13  # a half goes up
    assert largest_remainder(1100, [Fraction(333), Fraction(333), Fraction(334)]) == [
        366,
        366,
        368,
    ]
    assert largest_remainder(1, [Fraction(1), Fraction(1)]) == [1, 0]  # earlier on a tie
    assert plain(Fraction("0.000039312")) == "0.000039312"
    assert plain(Fraction(150)) == "150" and plain(Fraction(5, 1000), 3) == "0.005"
    assert rate_wire((15, -1, 2)) == "1.500" and rate_wire((15, 1, 1)) == "150.0"
    assert as_rate(Fraction("0.00125")) == (125, -5, 0) and as_rate(Fraction(1, 3)) is None


@pytest.mark.timeout(600)
@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
@given(scenario=scenarios())
def test_every_ledger_amount_is_converted_once_and_every_report_sums_them(app, conn, scenario):
    ledger = Ledger(app, conn, scenario)
    for entry in scenario["entries"]:
        ledger.create(entry)
    ledger.assert_all(scenario["part"])
    for change in scenario["changes"]:
        ledger.change(change)
    ledger.assert_all(scenario["part"])
