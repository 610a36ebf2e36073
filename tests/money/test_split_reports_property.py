"""Property: on random data with split transactions, every report equals a plain GROUP BY over the
raw rows (issue 28; ../shared/API.md "Splits, payees and tags").

Each example is a new user (USD, JPY or KWD: 2, 0 or 3 digits) with random categories, soft
budgets on every scope of three months (December 2025 to February 2026, across a new year), random
plain and split transactions (2 to 6 lines) of both types, then random PATCHes (to another day,
month or type; a split into one category and back; new lines, with a new amount or keeping it; an
amount alone, which a split refuses) and deletions. Twice (after the creates, after the changes):

- the raw rows are what the test asked for (a model of its own, in minor units);
- summary, category-breakdown, budget-usage and trends, of whole months, of a year and of random
  parts of months (`from`/`to`), equal a GROUP BY over the raw rows: whole transactions for the
  summary, the trends and the overall budget; transactions with a category plus split lines for
  the categories;
- the totals tables have no mismatch.

Bounded for CI like the fuzzers: twice FUZZ_EXAMPLES (default 15) examples, about 15 s.
"""

from __future__ import annotations

import itertools
import os
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expense_api.db.sqlfiles import queries
from tests.helpers import Accounts, assert_problem, client_from

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15")) * 2
DIGITS = {"USD": 2, "JPY": 0, "KWD": 3}
FIRST_DAY, DAYS = date(2025, 12, 1), 90  # 2025-12-01 .. 2026-02-28
MONTHS = [(2025, 12), (2026, 1), (2026, 2)]
TYPES = ("INCOME", "EXPENSE")
_addresses = itertools.count(1)

days = st.integers(0, DAYS - 1)
types = st.sampled_from(TYPES)
minor = st.integers(1, 40_000)  # an amount in minor units (1 = 0.01 USD, 1 JPY, 0.001 KWD)
targets = st.integers(0, 10**6)  # an index into the live transactions, modulo their number


@st.composite
def scenarios(draw):
    categories = draw(st.integers(2, 5))
    category = st.integers(0, categories - 1)
    lines = st.lists(st.tuples(category, minor), min_size=2, max_size=6)
    entry = st.one_of(
        st.tuples(st.just("plain"), types, days, category, minor),
        st.tuples(st.just("split"), types, days, lines),
    )
    change = st.one_of(
        st.tuples(st.just("date"), targets, days),
        st.tuples(st.just("type"), targets, types),
        st.tuples(st.just("single"), targets, category),
        st.tuples(st.just("single_amount"), targets, category, minor),
        st.tuples(st.just("lines"), targets, lines),
        st.tuples(st.just("lines_keep_amount"), targets, st.lists(category, min_size=2, max_size=6), targets),
        st.tuples(st.just("amount"), targets, minor),
        st.tuples(st.just("everything"), targets, days, types, lines),
        st.tuples(st.just("delete"), targets),
    )  # fmt: skip
    # Periods inside the three months (first day, length in days): parts of months and more.
    parts = st.lists(st.tuples(days, st.integers(0, 45)), min_size=1, max_size=2)
    return {
        "currency": draw(st.sampled_from(sorted(DIGITS))),
        "categories": categories,
        "entries": draw(st.lists(entry, min_size=2, max_size=10)),
        "changes": draw(st.lists(change, max_size=12)),
        "parts": draw(parts),
    }


class Ledger:
    """A user's default ledger driven through REST, and the model of what it should hold: id ->
    {"type", "day", "amount" (minor units), "category" (index or None), "lines" [(index, minor)]}."""

    def __init__(self, app, conn, scenario):
        n = next(_addresses)
        client = client_from(app, f"10.249.{n // 256 % 256}.{n % 256}")
        self.user = Accounts(client).new_user(currency=scenario["currency"])
        self.conn, self.ledger_id = conn, self.user.ledger_id
        self.digits = DIGITS[scenario["currency"]]
        self.categories = []
        for index in range(scenario["categories"]):
            response = self.user.post("/api/categories", json={"name": f"C{index}"})
            assert response.status_code == 201, response.get_json()
            self.categories.append(response.get_json()["id"])
        # A soft budget on every scope of every month (never refuses; budget-usage lists them).
        conn.execute(
            "INSERT INTO budgets (ledger_id, category_id, year, month, amount, mode)"
            " SELECT %s, c, y, m, 1000000, 'soft'"
            " FROM unnest(%s::bigint[]) AS c, unnest(%s::int[], %s::int[]) AS p(y, m)",
            (
                self.ledger_id,
                [None, *self.categories],
                [y for y, _ in MONTHS],
                [m for _, m in MONTHS],
            ),
        )
        self.model: dict[int, dict] = {}

    # What goes over the wire.
    def money(self, units: int) -> str:
        return f"{Decimal(units).scaleb(-self.digits):.{self.digits}f}"

    def lines_json(self, lines):
        return [{"categoryId": self.categories[c], "amount": self.money(a)} for c, a in lines]

    def create(self, entry):
        kind, type_, day = entry[:3]
        body = {"type": type_, "date": (FIRST_DAY + timedelta(days=day)).isoformat()}
        if kind == "plain":
            category, amount, lines = entry[3], entry[4], []
            body |= {"categoryId": self.categories[category], "amount": self.money(amount)}
        else:
            category, lines = None, entry[3]
            amount = sum(a for _, a in lines)
            body |= {"splits": self.lines_json(lines), "amount": self.money(amount)}
        response = self.user.post("/api/transactions", json=body)
        assert response.status_code == 201, (body, response.get_json())
        row = {
            "type": type_,
            "day": FIRST_DAY + timedelta(days=day),
            "amount": amount,
            "category": category,
            "lines": list(lines),
        }
        self.model[response.get_json()["id"]] = row
        self.assert_shown(response.get_json(), row)

    def change(self, change):
        if not self.model:
            return
        kind, target = change[:2]
        ids = sorted(self.model)
        tid = ids[target % len(ids)]
        old = self.model[tid]
        path = f"/api/transactions/{tid}"
        if kind == "delete":
            assert self.user.delete(path).status_code == 204
            del self.model[tid]
            return
        new, body, refused = dict(old), {}, None
        if kind == "date":
            new["day"] = FIRST_DAY + timedelta(days=change[2])
            body["date"] = new["day"].isoformat()
        elif kind == "type":
            new["type"] = body["type"] = change[2]
        elif kind in ("single", "single_amount"):
            new["category"], new["lines"] = change[2], []
            body["categoryId"] = self.categories[change[2]]
            if kind == "single_amount":
                new["amount"] = change[3]
                body["amount"] = self.money(change[3])
        elif kind in ("lines", "everything"):
            lines = change[-1]
            new |= {"category": None, "lines": list(lines), "amount": sum(a for _, a in lines)}
            body |= {"splits": self.lines_json(lines), "amount": self.money(new["amount"])}
            if kind == "everything":
                new["day"], new["type"] = FIRST_DAY + timedelta(days=change[2]), change[3]
                body |= {"date": new["day"].isoformat(), "type": new["type"]}
        elif kind == "lines_keep_amount":
            cats, seed = change[2], change[3]
            if old["amount"] < len(cats):
                return  # cannot cut the amount into that many positive lines
            cuts = sorted(random.Random(seed).sample(range(1, old["amount"]), len(cats) - 1))
            sizes = [b - a for a, b in zip([0, *cuts], [*cuts, old["amount"]], strict=True)]
            new |= {"category": None, "lines": list(zip(cats, sizes, strict=True))}
            body["splits"] = self.lines_json(new["lines"])
        elif kind == "amount":
            new["amount"] = change[2]
            body["amount"] = self.money(change[2])
            if old["lines"] and change[2] != old["amount"]:
                refused = "splits_mismatch"  # the lines would no longer sum
        response = self.user.patch(path, json=body)
        if refused:
            assert_problem(response, 422, refused)
            return
        assert response.status_code == 200, (body, response.get_json())
        self.model[tid] = new
        self.assert_shown(response.get_json(), new)

    def assert_shown(self, shown, row):
        assert shown["amount"] == self.money(row["amount"])
        assert (shown["type"], shown["date"]) == (row["type"], row["day"].isoformat())
        category = None if row["category"] is None else self.categories[row["category"]]
        assert shown["categoryId"] == category
        lines = [(line["categoryId"], line["amount"]) for line in shown["splits"]]
        assert lines == [(self.categories[c], self.money(a)) for c, a in row["lines"]]

    # The raw rows, and reports as GROUP BYs over them.
    def assert_raw_rows_are_the_model(self):
        rows = self.conn.execute(
            "SELECT id, type, occurred_on, amount, category_id FROM transactions"
            " WHERE ledger_id = %s",
            (self.ledger_id,),
        ).fetchall()
        expected = {
            (tid, r["type"], r["day"], Decimal(r["amount"]).scaleb(-self.digits),
             None if r["category"] is None else self.categories[r["category"]])
            for tid, r in self.model.items()
        }  # fmt: skip
        assert set(rows) == expected
        lines = self.conn.execute(
            "SELECT transaction_id, line_no, category_id, amount, type, occurred_on"
            " FROM transaction_splits WHERE ledger_id = %s",
            (self.ledger_id,),
        ).fetchall()
        expected_lines = {
            (tid, no, self.categories[c], Decimal(a).scaleb(-self.digits), r["type"], r["day"])
            for tid, r in self.model.items()
            for no, (c, a) in enumerate(r["lines"], 1)
        }
        assert set(lines) == expected_lines

    def grouped(self, query: str, start: date, end: date) -> dict:
        """{key: amount as the API writes it} of a GROUP BY over the raw rows of [start, end]:
        `whole` is every transaction once, `entries` the transactions with a category and the
        lines of split ones."""
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
        return {
            (row[0] if len(row) == 2 else row[:-1]): f"{row[-1]:.{self.digits}f}"
            for row in rows.fetchall()
            if row[-1]  # neither NULL (nothing to sum) nor zero
        }

    def assert_reports(self, parts):
        zero = self.money(0)
        periods = [(date(y, m, 1), _month_end(y, m), f"month={m}&year={y}") for y, m in MONTHS]
        periods.append((date(2026, 1, 1), date(2026, 12, 31), "year=2026"))
        for first, length in parts:
            start = FIRST_DAY + timedelta(days=first)
            end = start + timedelta(days=length)
            periods.append((start, end, f"from={start}&to={end}"))
        for start, end, query in periods:
            by_type = self.grouped("SELECT type, sum(amount) FROM whole GROUP BY 1", start, end)
            summary = self.get(f"/api/summary?{query}")
            assert (summary["from"], summary["to"]) == (start.isoformat(), end.isoformat())
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
            shown = {item["categoryId"]: item["amount"] for item in breakdown["items"]}
            assert shown == by_category, query
            assert breakdown["total"] == by_type.get("EXPENSE", zero), query
            if query.startswith("year"):
                continue
            by_month = self.grouped(
                "SELECT to_char(occurred_on, 'YYYY-MM'), type, sum(amount) FROM whole"
                " GROUP BY 1, 2",
                start,
                end,
            )
            trends = self.get(f"/api/trends?from={start}&to={end}")["items"]
            assert [row["month"] for row in trends] == _months_between(start, end)
            for row in trends:
                assert (row["income"], row["expense"]) == (
                    by_month.get((row["month"], "INCOME"), zero),
                    by_month.get((row["month"], "EXPENSE"), zero),
                ), (query, row)
        for year, month in MONTHS:
            start, end = date(year, month, 1), _month_end(year, month)
            spent = self.grouped(
                "SELECT category_id, sum(amount) FROM entries WHERE type = 'EXPENSE' GROUP BY 1"
                " UNION ALL"
                " SELECT NULL, sum(amount) FROM whole WHERE type = 'EXPENSE'",
                start,
                end,
            )
            usage = self.get(f"/api/budget-usage?month={month}&year={year}")["items"]
            assert {item["categoryId"] for item in usage} == {None, *self.categories}
            for item in usage:
                assert item["spent"] == spent.get(item["categoryId"], zero), (year, month, item)

    def assert_totals_exact(self):
        assert queries.totals.monthly_mismatches(self.conn, ledger_ids=[self.ledger_id]) == 0
        assert queries.totals.daily_mismatches(self.conn, ledger_ids=[self.ledger_id]) == 0

    def get(self, path):
        response = self.user.get(path)
        assert response.status_code == 200, (path, response.get_json())
        return response.get_json()

    def assert_all(self, parts):
        self.assert_raw_rows_are_the_model()
        self.assert_totals_exact()
        self.assert_reports(parts)


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def _months_between(start: date, end: date) -> list[str]:
    months, (year, month) = [], (start.year, start.month)
    while (year, month) <= (end.year, end.month):
        months.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


@pytest.mark.timeout(600)
@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
@given(scenario=scenarios())
def test_every_report_is_a_group_by_over_the_raw_rows(app, conn, scenario):
    ledger = Ledger(app, conn, scenario)
    for entry in scenario["entries"]:
        ledger.create(entry)
    ledger.assert_all(scenario["parts"])
    for change in scenario["changes"]:
        ledger.change(change)
    ledger.assert_all(scenario["parts"])
