"""Budget rollover under concurrency (issue 31; ../shared/API.md "Budgets: rollover and copying"):
real parallel connections through gunicorn over HTTP, and connections of the test's own holding
a transaction open. A hard budget with rollover holds in every month of its chain: writers into
a month and the next at once never leave a month above what it has available, never deadlock;
a race on a month's carried amount accepts exactly what the carry affords; budget changes of
the month before race expense writes without a lost check.

The final states are checked against a model of this module's own over the raw rows (each
scope walked month by month), and against what /api/budget-usage shows."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from devtools.servers import call
from expense_api.db.sqlfiles import queries
from expense_api.services import budgets, transactions
from tests.factories import acting, race
from tests.helpers import wait_until_blocked_by

# One run of each race by default (2 cores); the slow marker adds repeats.
ROUNDS = [0, *(pytest.param(n, marks=pytest.mark.slow) for n in (1, 2))]


def _http_user(base: str, conn) -> tuple[str, int]:
    """A user registered and logged in over HTTP: their access token and default ledger."""
    email = f"rollover-{uuid.uuid4().hex[:12]}@example.com"
    body = {"name": "Racer", "email": email, "password": "password123"}
    status, user, _ = call(base, "POST", "/api/auth/register", body)
    assert status == 201
    status, tokens, _ = call(
        base, "POST", "/api/auth/login", {"email": email, "password": "password123"}
    )
    assert status == 200
    ledger_id = conn.execute(
        "SELECT ledger_id FROM ledger_members WHERE user_id = %s AND is_default",
        (user["user"]["id"],),
    ).fetchone()[0]
    return tokens["accessToken"], ledger_id


class Api:
    """One HTTP user's calls, asserting the setup ones succeed."""

    def __init__(self, base: str, conn):
        self.base = base
        self.token, self.ledger_id = _http_user(base, conn)

    def call(self, method, path, body=None):
        return call(self.base, method, path, body, self.token)

    def category(self, name: str) -> int:
        status, made, _ = self.call("POST", "/api/categories", {"name": name})
        assert status == 201, made
        return made["id"]

    def budget(self, month, amount, *, category_id=None, mode="hard", rollover="none") -> dict:
        body = {"categoryId": category_id, "amount": amount, "month": month, "year": 2026,
                "mode": mode, "rollover": rollover}  # fmt: skip
        status, saved, _ = self.call("POST", "/api/budgets", body)
        assert status in (200, 201), saved
        return saved

    def spend(self, category_id, amount, month, day=10) -> tuple[int, dict | None]:
        body = {"amount": amount, "type": "EXPENSE", "categoryId": category_id,
                "date": f"2026-{month:02d}-{day:02d}"}  # fmt: skip
        status, answer, _ = self.call("POST", "/api/transactions", body)
        return status, answer

    def usage(self, month) -> dict:
        """{categoryId: (carried, available, spent, remaining)} of the month."""
        status, shown, _ = self.call("GET", f"/api/budget-usage?month={month}&year=2026")
        assert status == 200, shown
        return {
            item["categoryId"]: (item["carried"], item["available"], item["spent"],
                                 item["remaining"])
            for item in shown["items"]
        }  # fmt: skip


def model(conn, ledger_id: int) -> dict[tuple, tuple[str, Decimal, Decimal, Decimal]]:
    """{(month, categoryId or None): (mode, carried, available, spent)} of 2026's budgets, from
    the raw rows: a scope walked month by month, a month carrying from the one before when that
    one has a budget of the scope (surplus: what was left if positive; deficit: if negative;
    both: either)."""
    rows = conn.execute(
        "SELECT month, category_id, amount, mode, rollover FROM budgets"
        " WHERE ledger_id = %s AND year = 2026 ORDER BY month",
        (ledger_id,),
    ).fetchall()
    spent: dict[tuple, Decimal] = {}
    for month, category_id, amount in conn.execute(
        "SELECT extract(month FROM occurred_on)::int, category_id, amount FROM transactions"
        " WHERE ledger_id = %s AND type = 'EXPENSE' AND extract(year FROM occurred_on) = 2026",
        (ledger_id,),
    ).fetchall():
        for scope in (category_id, None):
            spent[(month, scope)] = spent.get((month, scope), Decimal(0)) + amount
    result: dict[tuple, tuple[str, Decimal, Decimal, Decimal]] = {}
    for month, category_id, amount, mode, rollover in rows:
        carried = Decimal(0)
        before = result.get((month - 1, category_id))
        if before is not None:
            left = before[2] - before[3]
            carried = {"none": Decimal(0), "surplus": max(left, Decimal(0)),
                       "deficit": min(left, Decimal(0)), "both": left}[rollover]  # fmt: skip
        here = spent.get((month, category_id), Decimal(0))
        result[(month, category_id)] = (mode, carried, amount + carried, here)
    return result


def assert_consistent(api: Api, conn, months) -> dict:
    """Usage shows the model's figures; the totals tables are exact. Returns the model."""
    figures = model(conn, api.ledger_id)
    for month in months:
        expected = {
            category_id: (f"{carried:.2f}", f"{available:.2f}", f"{spent:.2f}",
                          f"{available - spent:.2f}")
            for (m, category_id), (_, carried, available, spent) in figures.items()
            if m == month
        }  # fmt: skip
        assert api.usage(month) == expected, month
    assert queries.totals.monthly_mismatches(conn, ledger_ids=[api.ledger_id]) == 0
    return figures


def assert_no_hard_budget_over(figures: dict):
    for key, (mode, _, available, spent) in figures.items():
        if mode == "hard":
            assert spent <= available, (key, spent, available)


# (a) Writers into March and April at once, with moves between them, against hard budgets with
# rollover on category A and overall, May carrying on from April: {variant: (March's mode, the
# later months' policy)}. `surplus`: a March write lowers what April and May carry; `both`
# (March soft, so it can be overspent): a March write can push April's carry below zero.
CHAIN_RACES = {"surplus": ("hard", "surplus"), "both": ("soft", "both")}


@pytest.mark.parametrize("round_", ROUNDS)
@pytest.mark.parametrize("variant", CHAIN_RACES)
def test_writers_into_a_month_and_the_next_never_leave_one_over(live_server, conn, variant, round_):
    api = Api(live_server.base, conn)
    a, b = api.category("A"), api.category("B")
    march_mode, policy = CHAIN_RACES[variant]
    api.budget(3, "60", category_id=a, mode=march_mode)
    api.budget(3, "100", mode=march_mode)
    for month in (4, 5):
        api.budget(month, "60", category_id=a, rollover=policy)
        api.budget(month, "100", rollover=policy)
    existing = []
    for index in range(8):
        status, made = api.spend((a, b)[index % 2], "5.00", 3 + index // 4 % 2, 1 + index)
        assert status == 201, made
        existing.append(made["id"])
    assert_no_hard_budget_over(model(conn, api.ledger_id))

    def work(index):
        category_id = (a, b)[index // 2 % 2]
        if index % 4 == 3:  # move an expense to the other month (and maybe category)
            target = existing[index // 4 % len(existing)]
            change = {"date": f"2026-0{3 + index // 8 % 2}-2{index % 9}", "categoryId": category_id}
            status, answer, _ = api.call("PATCH", f"/api/transactions/{target}", change)
        else:
            status, answer = api.spend(category_id, ("7.00", "11.00")[index % 2], 3 + index % 2)
        return status, (answer or {}).get("code")

    results = race(36, work)
    assert set(results) <= {(200, None), (201, None), (409, "budget_exceeded")}, results
    assert (409, "budget_exceeded") in results  # the budgets did bind
    figures = assert_consistent(api, conn, (3, 4, 5))
    assert_no_hard_budget_over(figures)


@pytest.mark.parametrize("round_", ROUNDS)
@pytest.mark.parametrize("variant", CHAIN_RACES)
def test_a_month_and_the_next_share_one_room_exactly(live_server, conn, variant, round_):
    """April (hard, 100 + what March leaves) has 150 of 200 left, and every 10.00 into March
    lowers what April carries by 10 (March, if hard, takes 10 of them at most): 40 racers of
    10.00 into March or April, exactly 15 accepted in all, whichever months they went to. A
    writer into March that did not see a concurrent April writer (or the other way round)
    would take one more."""
    api = Api(live_server.base, conn)
    food = api.category("Food")
    march_mode, policy = CHAIN_RACES[variant]
    api.budget(3, "100", category_id=food, mode=march_mode)
    api.budget(3, "1000", mode=march_mode)  # overall ones too: both scopes' locks are taken
    for month in (4, 5):
        api.budget(month, "100", category_id=food, rollover=policy)
        api.budget(month, "1000", rollover=policy)
    assert api.spend(food, "50.00", 4)[0] == 201
    assert api.usage(4)[food] == ("100.00", "200.00", "50.00", "150.00")

    def write(index):
        status, answer = api.spend(food, "10.00", 3 + index % 2, 1 + index % 28)
        return status, (answer or {}).get("code")

    results = race(40, write)
    assert results.count((201, None)) == 15, results
    assert results.count((409, "budget_exceeded")) == 25, results
    figures = assert_consistent(api, conn, (3, 4, 5))
    _, _, available, spent = figures[(4, food)]
    assert spent == available  # April exactly full
    assert figures[(3, food)][3] + spent == 200  # March's and April's: 15 x 10 more
    assert_no_hard_budget_over(figures)


# (b) 40 racers of 7.00 into April's hard category budget, whose available amount comes from
# what March (and February) left: {variant: (budgets by month: (amount, mode, rollover), spent
# by month, April's carried, how many are accepted)}.
CARRY_RACES = {
    # March leaves 36.50: 136.50 available, 19 x 7 = 133 <= 136.50 < 140.
    "surplus": ({3: ("100", "hard", "none"), 4: ("100", "hard", "surplus")},
                {3: "63.50"}, "36.50", 19),
    # March (soft) overspent by 30: 70 available, exactly 10 x 7.
    "deficit": ({3: ("100", "soft", "none"), 4: ("100", "hard", "both")}, {3: "130.00"},
                "-30.00", 10),
    # February leaves 30 to March (130 available), March leaves 66.50: 166.50, 23 x 7 = 161.
    "chain": ({2: ("50", "hard", "none"), 3: ("100", "hard", "surplus"),
               4: ("100", "hard", "surplus")}, {2: "20.00", 3: "63.50"}, "66.50", 23),
}  # fmt: skip


@pytest.mark.parametrize("round_", ROUNDS)
@pytest.mark.parametrize("variant", CARRY_RACES)
def test_a_race_on_a_carried_amount_accepts_exactly_what_it_affords(
    live_server, conn, variant, round_
):
    api = Api(live_server.base, conn)
    food = api.category("Food")
    plan, spent, carried, affordable = CARRY_RACES[variant]
    for month, (amount, mode, rollover) in plan.items():
        api.budget(month, amount, category_id=food, mode=mode, rollover=rollover)
    for month, amount in spent.items():
        assert api.spend(food, amount, month)[0] == 201
    available = Decimal(100) + Decimal(carried)
    assert api.usage(4)[food][:2] == (carried, f"{available:.2f}")

    results = race(40, lambda _: api.spend(food, "7.00", 4)[0])
    assert results.count(201) == affordable, results
    assert results.count(409) == 40 - affordable, results
    used = 7 * affordable
    assert api.usage(4)[food] == (carried, f"{available:.2f}", f"{used:.2f}",
                                  f"{available - used:.2f}")  # fmt: skip
    assert_no_hard_budget_over(assert_consistent(api, conn, sorted(plan)))


# (c) March's budget saved (three amounts) and deleted while 30 writers of 10.00 race into
# April, whose budget (hard, 100, surplus) carries what March leaves of its 50 spent: April has
# 100, 130 or 150 available, whichever March budget a writer's check saw.
@pytest.mark.parametrize("round_", ROUNDS)
def test_budget_changes_of_the_month_before_race_expenses(live_server, conn, round_):
    api = Api(live_server.base, conn)
    food = api.category("Food")
    march = api.budget(3, "100", category_id=food)
    api.budget(4, "100", category_id=food, rollover="surplus")
    assert api.spend(food, "50.00", 3)[0] == 201

    def work(index):
        if index % 4 == 3:  # 10 budget writers: save March at 50, 80 or 100, or delete it
            choice = index // 4 % 4
            if choice == 3:
                return "delete", api.call("DELETE", f"/api/budgets/{march['id']}")[0]
            amount = ("50", "80", "100")[choice]
            body = {"categoryId": food, "amount": amount, "month": 3, "year": 2026}
            return "save", api.call("POST", "/api/budgets", body)[0]
        status, answer = api.spend(food, "10.00", 4, 1 + index % 28)
        return "spend", status, (answer or {}).get("code")

    results = race(40, work)
    saves = [r[1] for r in results if r[0] == "save"]
    deletes = [r[1] for r in results if r[0] == "delete"]
    spends = [r[1:] for r in results if r[0] == "spend"]
    assert set(saves) <= {200, 201} and len(saves) == 8, results  # never refused
    assert set(deletes) <= {204, 404} and 204 in deletes, results  # 404: deleted already
    assert set(spends) <= {(201, None), (409, "budget_exceeded")}, results
    # April never had less than 100 available nor more than 150: at least 10 and at most 15
    # accepted; and never more than the March budget its last writer left allows.
    accepted = spends.count((201, None))
    assert 10 <= accepted <= 15, results
    figures = assert_consistent(api, conn, (3, 4))
    assert figures[(4, food)][3] == 10 * accepted


def test_an_expense_waits_for_a_budget_change_of_the_month_before(live_server, database_url, conn):
    """An April expense in flight while March's budget is lowered (uncommitted) waits for it,
    then is checked against the lower carry: refused with the new figures."""
    api = Api(live_server.base, conn)
    food = api.category("Food")
    api.budget(3, "100", category_id=food)
    april = api.budget(4, "100", category_id=food, rollover="surplus")
    assert api.spend(food, "50.00", 3)[0] == 201
    assert api.spend(food, "60.00", 4)[0] == 201  # 150 available
    with ThreadPoolExecutor(max_workers=1) as pool, psycopg.connect(database_url) as saver:
        values = {"category_id": food, "year": 2026, "month": 3, "amount": Decimal("60"),
                  "mode": None, "alert_threshold": None, "rollover": None}  # fmt: skip
        budgets.save(saver, acting(saver, api.ledger_id), values=values)  # April: 110 available
        # (No alert of April's fires: 60 of 110 is under its threshold, so nothing but the
        # budget scope lock holds the expense back.)
        answer = pool.submit(api.spend, food, "60.00", 4)
        wait_until_blocked_by(conn, saver.info.backend_pid)
        assert not answer.done()
        saver.commit()
        status, refused = answer.result(timeout=30)
    assert status == 409 and refused["code"] == "budget_exceeded", refused
    assert refused["budget"] == {
        "id": april["id"], "categoryId": food, "year": 2026, "month": 4, "amount": "100.00",
        "carried": "10.00", "available": "110.00", "spent": "60.00", "remaining": "50.00",
        "wouldExceedBy": "10.00",
    }  # fmt: skip


def test_a_budget_delete_waits_for_an_expense_in_flight_and_is_never_refused(
    live_server, database_url, conn
):
    """March's budget deleted while an April expense that counted on March's surplus is
    uncommitted: the delete waits for it, then goes through (never refused) and fires April's
    limit alert, April now being over what it has available."""
    api = Api(live_server.base, conn)
    food = api.category("Food")
    march = api.budget(3, "100", category_id=food)
    april = api.budget(4, "100", category_id=food, rollover="surplus")
    assert api.spend(food, "50.00", 3)[0] == 201
    assert api.spend(food, "90.00", 4)[0] == 201  # 150 available
    deleted = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool, psycopg.connect(database_url) as writer:
        values = {"category_id": food, "type": "EXPENSE", "amount": Decimal("50"),
                  "description": "", "occurred_on": date(2026, 4, 20)}  # fmt: skip
        transactions.create(writer, acting(writer, api.ledger_id), values=values)  # 140 of 150

        def delete():
            result = api.call("DELETE", f"/api/budgets/{march['id']}")[0]
            deleted.set()
            return result

        answer = pool.submit(delete)
        wait_until_blocked_by(conn, writer.info.backend_pid)
        assert not deleted.is_set()
        writer.commit()
        assert answer.result(timeout=30) == 204
    assert api.usage(4)[food] == ("0.00", "100.00", "140.00", "-40.00")
    kinds = conn.execute(
        "SELECT kind FROM alerts WHERE budget_id = %s ORDER BY kind", (april["id"],)
    ).fetchall()
    assert ("limit",) in kinds
