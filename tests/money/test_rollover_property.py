"""Property: on random budgets with random rollover policies over eight consecutive months, every
month's usage and every refusal is what a model of the rules predicts (issue 31;
../shared/API.md "Budgets: rollover and copying").

Each example is a new user (USD) with two categories, budgets of two or three scopes (category
A's, maybe B's, and the overall one) over November 2025 to June 2026 (across a new year), each
month of a scope with or without a budget (a month without one ends the chain), of random
amounts, modes and policies. Then random steps: expenses and income, PATCHes (moving an expense
to another month or category, a new amount, a new type), deletions, and budget changes (amount,
mode, rollover, each given or left unchanged) and deletions. After every step, every month's
budget usage (`carried`, `available`, `spent`, `remaining`, `percentUsed`) is the model's; every
write the model says a hard budget refuses (in the month it raises, or a later month of the chain
whose available it lowers) is 409 budget_exceeded with the model's figures for the first refused
budget (by period, category before overall) and changes nothing; everything else succeeds. Soft
budgets never refuse; budget changes are never refused.

The model is this module's own (plain Decimal, a month's available computed by walking the scope
forward from its first month), not the database's budget_rollover aggregate (migration 0024).

Bounded for CI like the fuzzers: FUZZ_EXAMPLES (default 15) examples, about 15 s.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.helpers import Accounts, assert_problem, client_from

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
MONTHS = [(2025, 11), (2025, 12), (2026, 1), (2026, 2), (2026, 3), (2026, 4), (2026, 5), (2026, 6)]
POLICIES = ("none", "surplus", "deficit", "both")
CENT = Decimal("0.01")
_addresses = itertools.count(1)

categories = st.integers(0, 1)  # A or B
# Amounts in cents: round dollars often (ties with a budget's figures), any cents sometimes.
cents = st.one_of(st.integers(1, 15).map(lambda d: d * 1000), st.integers(1, 150).map(lambda d: d * 100),
                  st.integers(1, 15_000))  # fmt: skip
budget_cents = st.one_of(st.integers(1, 30).map(lambda d: d * 1000), st.integers(1, 30_000))
modes = st.sampled_from(("hard", "hard", "soft"))
policies = st.sampled_from(POLICIES)
targets = st.integers(0, 10**6)  # an index into the live transactions, modulo their number
budget_spec = st.tuples(budget_cents, modes, policies)


@st.composite
def scenarios(draw):
    scopes = draw(st.sampled_from([(0, None), (0, 1, None)]))  # category indexes, None: overall
    each_month = st.one_of(st.none(), budget_spec, budget_spec, budget_spec)
    budgets = {}
    for scope in scopes:
        specs = draw(st.lists(each_month, min_size=len(MONTHS), max_size=len(MONTHS)))
        budgets |= {(scope, month): spec for month, spec in enumerate(specs) if spec}
    # Most writes land in a focus month or the one before it, so that writes into a month meet
    # the next month's budget filled up (a refusal in a later month).
    focus = draw(st.integers(1, len(MONTHS) - 1))
    near = st.sampled_from((focus - 1, focus))
    months = st.one_of(near, near, st.integers(0, len(MONTHS) - 1))
    scope = st.sampled_from(scopes)
    types = st.sampled_from(("EXPENSE", "EXPENSE", "EXPENSE", "INCOME"))
    add = st.one_of(
        st.tuples(st.just("add"), months, st.integers(1, 28), categories, cents, types),
        # An expense of exactly what a month's tightest budget has left, or one cent more; then
        # maybe one into the month before (which the filled month may carry from).
        st.tuples(
            st.just("fill"),
            months,
            st.integers(1, 28),
            categories,
            st.integers(0, 1),
            st.one_of(st.none(), cents),
        ),
    )
    step = st.one_of(
        add,
        st.tuples(st.just("move"), targets, months, st.integers(1, 28)),
        st.tuples(st.just("recategorize"), targets, categories),
        st.tuples(st.just("move_and_recategorize"), targets, months, categories),
        st.tuples(st.just("amount"), targets, cents),
        st.tuples(st.just("type"), targets, types),
        st.tuples(st.just("delete"), targets),
        st.tuples(st.just("budget"), scope, months, budget_cents,
                  st.one_of(st.none(), modes), st.one_of(st.none(), policies)),
        st.tuples(st.just("unbudget"), scope, months),
    )  # fmt: skip
    steps = draw(st.lists(add, min_size=2, max_size=6)) + draw(st.lists(step, max_size=10))
    return {"scopes": scopes, "budgets": budgets, "steps": steps}


@dataclass(frozen=True)
class Budget:
    id: int
    amount: Decimal
    mode: str
    rollover: str


@dataclass(frozen=True)
class Entry:
    type: str
    month: int  # index into MONTHS
    day: int
    category: int  # index into the categories
    amount: Decimal


@dataclass(frozen=True)
class Figures:
    """A budget month as the model computes it."""

    spent: Decimal
    carried: Decimal
    available: Decimal


def carried_over(policy: str, left: Decimal) -> Decimal:
    """What a month under `policy` takes from the month before, which had `left` (available
    minus spent) at its end."""
    return {
        "none": Decimal(0),
        "surplus": left if left > 0 else Decimal(0),
        "deficit": left if left < 0 else Decimal(0),
        "both": left,
    }[policy]


def figures(budgets: dict, entries: dict) -> dict[tuple, Figures]:
    """{(scope, month): Figures} for every budget: each scope walked from November on, a month
    carrying from the one before only when that one has a budget of the scope."""
    spent: dict[tuple, Decimal] = {}
    for entry in entries.values():
        if entry.type != "EXPENSE":
            continue
        for scope in (entry.category, None):
            key = (scope, entry.month)
            spent[key] = spent.get(key, Decimal(0)) + entry.amount
    result = {}
    for scope in {scope for scope, _ in budgets}:
        before: Figures | None = None  # the month before, when it has a budget
        for month in range(len(MONTHS)):
            budget = budgets.get((scope, month))
            if budget is None:
                before = None
                continue
            carried = Decimal(0)
            if before is not None:
                carried = carried_over(budget.rollover, before.available - before.spent)
            here = Figures(spent.get((scope, month), Decimal(0)), carried, budget.amount + carried)
            result[(scope, month)] = before = here
    return result


def money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def percent_used(spent: Decimal, available: Decimal) -> str | None:
    if available <= 0:
        return None
    return str((spent * 100 / available).quantize(CENT, rounding=ROUND_HALF_UP))


class Ledger:
    """A user's default ledger driven through REST, and the model of its budgets and entries."""

    def __init__(self, app, conn, scenario):
        self.conn = conn
        n = next(_addresses)
        client = client_from(app, f"10.248.{n // 256 % 256}.{n % 256}")
        self.user = Accounts(client).new_user(currency="USD")
        self.categories = [self.post("/api/categories", {"name": name}, 201)["id"]
                           for name in ("A", "B")]  # fmt: skip
        self.budgets: dict[tuple, Budget] = {}
        self.entries: dict[int, Entry] = {}
        # The first budgets straight into the database (saving through the API is for steps).
        for (scope, month), (cents, mode, policy) in scenario["budgets"].items():
            year, month_no = MONTHS[month]
            amount = Decimal(cents) / 100
            budget_id = conn.execute(
                "INSERT INTO budgets (ledger_id, category_id, year, month, amount, mode, rollover)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (self.user.ledger_id, self.category_id(scope), year, month_no, amount, mode,
                 policy),
            ).fetchone()[0]  # fmt: skip
            self.budgets[(scope, month)] = Budget(budget_id, amount, mode, policy)

    def post(self, path, body, status):
        response = self.user.post(path, json=body)
        assert response.status_code == status, (body, response.get_json())
        return response.get_json()

    def category_id(self, scope):
        return None if scope is None else self.categories[scope]

    # Budgets: never refused.
    def save_budget(self, scope, month, cents, mode, policy):
        year, month_no = MONTHS[month]
        body = {"categoryId": self.category_id(scope), "amount": money(Decimal(cents) / 100),
                "month": month_no, "year": year}  # fmt: skip
        if mode is not None:
            body["mode"] = mode
        if policy is not None:
            body["rollover"] = policy
        old = self.budgets.get((scope, month))
        saved = self.post("/api/budgets", body, 201 if old is None else 200)
        self.budgets[(scope, month)] = Budget(
            saved["id"],
            Decimal(cents) / 100,
            mode or (old.mode if old else "hard"),
            policy or (old.rollover if old else "none"),
        )
        assert (saved["mode"], saved["rollover"]) == (
            self.budgets[(scope, month)].mode,
            self.budgets[(scope, month)].rollover,
        )

    def delete_budget(self, scope, month):
        budget = self.budgets.pop((scope, month), None)
        if budget is None:
            return
        assert self.user.delete(f"/api/budgets/{budget.id}").status_code == 204

    # Transactions: the model says whether a hard budget refuses each write.
    def step(self, step):
        kind = step[0]
        if kind == "budget":
            self.save_budget(*step[1:])
            return
        if kind == "unbudget":
            self.delete_budget(*step[1:])
            return
        if kind == "add":
            _, month, day, category, cents, type_ = step
            new = Entry(type_, month, day, category, Decimal(cents) / 100)
            self.write(None, new)
            return
        if kind == "fill":
            _, month, day, category, extra, earlier = step
            model = figures(self.budgets, self.entries)
            left = [f.available - f.spent for (scope, m), f in model.items()
                    if m == month and scope in (None, category)]  # fmt: skip
            amount = min(left, default=Decimal(10)) + extra * CENT
            if amount > 0:
                self.write(None, Entry("EXPENSE", month, day, category, amount))
            if earlier is not None and month > 0:
                self.write(None, Entry("EXPENSE", month - 1, day, category, Decimal(earlier) / 100))
            return
        if not self.entries:
            return
        ids = sorted(self.entries)
        tid = ids[step[1] % len(ids)]
        old = self.entries[tid]
        if kind == "delete":
            assert self.user.delete(f"/api/transactions/{tid}").status_code == 204
            del self.entries[tid]
            return
        new = {
            "move": lambda: replace(old, month=step[2], day=step[3]),
            "recategorize": lambda: replace(old, category=step[2]),
            "move_and_recategorize": lambda: replace(old, month=step[2], category=step[3]),
            "amount": lambda: replace(old, amount=Decimal(step[2]) / 100),
            "type": lambda: replace(old, type=step[2]),
        }[kind]()
        self.write(tid, new)

    def body(self, entry: Entry) -> dict:
        year, month = MONTHS[entry.month]
        return {"type": entry.type, "date": f"{year}-{month:02d}-{entry.day:02d}",
                "categoryId": self.categories[entry.category], "amount": money(entry.amount)}  # fmt: skip

    def write(self, tid: int | None, new: Entry):
        old = None if tid is None else self.entries[tid]
        after = dict(self.entries)
        if tid is None:
            after[0] = new  # no real id is 0
        else:
            after[tid] = new
        refused = self.first_refused(self.entries, after, old)
        if tid is None:
            response = self.user.post("/api/transactions", json=self.body(new))
        else:
            response = self.user.patch(f"/api/transactions/{tid}", json=self.body(new))
        if refused is None:
            assert response.status_code in (200, 201), (new, response.get_json())
            if tid is None:
                tid = response.get_json()["id"]
            self.entries[tid] = new
            event("accepted")
            return
        event("refused in a later month" if refused["detail_later"] else "refused")
        later = refused.pop("detail_later")
        body = assert_problem(response, 409, "budget_exceeded")
        assert body["budget"] == refused, (new, old)
        assert ("carries over" in body["detail"]) == later, body["detail"]

    def first_refused(self, before_entries, after_entries, old: Entry | None) -> dict | None:
        """The figures of the first hard budget the write refuses for: one that would end above
        what it has available, in a month whose scope the write raises or a later month whose
        available the write lowers; None when nothing refuses it."""
        was, will = figures(self.budgets, before_entries), figures(self.budgets, after_entries)
        order = sorted(self.budgets, key=lambda key: (key[1], key[0] is None))
        for scope, month in order:
            budget = self.budgets[(scope, month)]
            then, now = was[(scope, month)], will[(scope, month)]
            if budget.mode != "hard" or now.spent <= now.available:
                continue
            if now.spent <= then.spent and now.available >= then.available:
                continue  # the write neither raises it nor lowers what it has available
            own = Decimal(0)  # what the write's old state counted in this budget
            if (old is not None and old.type == "EXPENSE" and old.month == month
                    and scope in (None, old.category)):  # fmt: skip
                own = old.amount
            others = then.spent - own
            year, month_no = MONTHS[month]
            return {
                "id": budget.id,
                "categoryId": self.category_id(scope),
                "year": year,
                "month": month_no,
                "amount": money(budget.amount),
                "carried": money(now.carried),
                "available": money(now.available),
                "spent": money(others),
                "remaining": money(now.available - others),
                "wouldExceedBy": money(now.spent - now.available),
                "detail_later": now.spent == then.spent,
            }
        return None

    def assert_rows(self, context):
        """The stored transactions are the model's: a refused write changed nothing."""
        rows = self.conn.execute(
            "SELECT id, type, occurred_on, category_id, amount FROM transactions"
            " WHERE ledger_id = %s",
            (self.user.ledger_id,),
        ).fetchall()
        expected = set()
        for tid, entry in self.entries.items():
            year, month = MONTHS[entry.month]
            expected.add((tid, entry.type, date(year, month, entry.day),
                          self.categories[entry.category], entry.amount))  # fmt: skip
        assert set(rows) == expected, context

    def assert_usage(self, context):
        model = figures(self.budgets, self.entries)
        for month, (year, month_no) in enumerate(MONTHS):
            response = self.user.get(f"/api/budget-usage?month={month_no}&year={year}")
            assert response.status_code == 200, response.get_json()
            shown = {
                item["categoryId"]: (item["budgetId"], item["budget"], item["mode"],
                                     item["rollover"], item["carried"], item["available"],
                                     item["spent"], item["remaining"], item["percentUsed"])
                for item in response.get_json()["items"]
            }  # fmt: skip
            expected = {}
            for (scope, budget_month), budget in self.budgets.items():
                if budget_month != month:
                    continue
                f = model[(scope, month)]
                expected[self.category_id(scope)] = (
                    budget.id, money(budget.amount), budget.mode, budget.rollover,
                    money(f.carried), money(f.available), money(f.spent),
                    money(f.available - f.spent), percent_used(f.spent, f.available),
                )  # fmt: skip
            assert shown == expected, (context, year, month_no)


@pytest.mark.timeout(600)
@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
@given(scenario=scenarios())
def test_usage_and_refusals_follow_the_rollover_model(app, conn, scenario):
    ledger = Ledger(app, conn, scenario)
    ledger.assert_usage("budgets")
    for number, step in enumerate(scenario["steps"]):
        ledger.step(step)
        ledger.assert_rows((number, step))
        ledger.assert_usage((number, step))
