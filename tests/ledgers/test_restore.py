"""POST /api/ledgers with `restore`: a JSON export becomes a new ledger holding the same data
(its reports and rows equal the original's), the caller its owner, recurring rules paused,
written whole or not at all; every rule of the document refused with its path.

The module has a database of its own: it runs the worker's recurring job."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from tests.factories import recurring, run_worker
from tests.helpers import assert_problem, module_database_fixtures

database_url, app, database = module_database_fixtures()

REPORTS = (
    "summary?month=3&year=2026",
    "category-breakdown?month=3&year=2026",
    "budget-usage?month=3&year=2026",
    "budget-usage?month=2&year=2026",
    "trends?from=2025-12-01&to=2026-03-31",
)
LISTS = ("categories", "budgets", "recurring", "payees", "tags")
ALL = "from=1900-01-01&to=2999-12-31&limit=500"
# Ids differ between the two ledgers (their references are checked through names), and so do
# the creation times; a restored rule is paused (its own test says so).
UNCOMPARED = {"id", "categoryId", "budgetId", "createdAt", "paused", "pausedReason"}


def _plain(value):
    """The value without the keys that name an id or a creation time, at any depth."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in UNCOMPARED}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _post(user, path: str, body: dict) -> dict:
    response = user.post(path, json=body)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def _ledger(user, ledger_id: int) -> dict:
    """Everything the REST API shows of the ledger (reports and rows), ids and times left out."""
    base = f"/api/ledgers/{ledger_id}"
    shown = {}
    for path in (*REPORTS, *LISTS, f"transactions?{ALL}"):
        response = user.get(f"{base}/{path}")
        assert response.status_code == 200, (path, response.get_json())
        shown[path] = _plain(response.get_json())
    return shown


@pytest.fixture
def original(alice, database):
    """A ledger with categories, plain and split transactions, payees, tags, budgets (overall
    and a category's, hard and soft), recurring rules (one with dates already handled), and
    transactions that came from a bank file (account, bank id, import key)."""
    body = {"name": "Home", "currency": "EUR", "timezone": "Europe/Berlin"}
    ledger_id = _post(alice, "/api/ledgers", body)["id"]
    base = f"/api/ledgers/{ledger_id}"
    food = _post(alice, f"{base}/categories", {"name": "Food"})["id"]
    home = _post(alice, f"{base}/categories", {"name": "Home"})["id"]
    salary = _post(alice, f"{base}/categories", {"name": "Salary"})["id"]
    _post(alice, f"{base}/categories", {"name": "Unused"})

    def spend(**body):
        return _post(alice, f"{base}/transactions", {"type": "EXPENSE", **body})

    spend(amount="12.30", categoryId=food, date="2026-03-02", payee="Market", tags=["weekly"])
    spend(amount="50.00", date="2026-03-09", payee="Mega Store", tags=["weekly", "Big"],
          description="Shop", splits=[{"categoryId": food, "amount": "30.25", "memo": "food"},
                                      {"categoryId": home, "amount": "19.75"}])  # fmt: skip
    spend(amount="8.00", categoryId=home, date="2026-02-27", description="Bulbs")
    spend(amount="5.55", categoryId=food, date="2025-12-24")
    _post(alice, f"{base}/transactions", {"type": "INCOME", "amount": "2500", "date": "2026-03-01",
                                          "categoryId": salary, "payee": "Employer"})  # fmt: skip
    _post(alice, f"{base}/budgets", {"amount": "1000", "month": 3, "year": 2026, "mode": "soft"})
    _post(alice, f"{base}/budgets", {"amount": "40", "month": 3, "year": 2026,
                                     "categoryId": food, "alertThreshold": 50,
                                     "rollover": "both"})  # fmt: skip
    _post(alice, f"{base}/budgets", {"amount": "10", "month": 2, "year": 2026,
                                     "categoryId": home, "mode": "hard"})  # fmt: skip
    recurring(alice, home, path=f"{base}/recurring", startDate="2026-01-31", count=3,
              amount="20.00", description="Cleaning")  # fmt: skip
    recurring(alice, food, path=f"{base}/recurring", frequency="weekly", startDate="2026-06-01",
              byWeekday=["MO", "TH"], endDate="2026-12-31")  # fmt: skip
    # Import rules: the second by position is created first.
    _post(alice, f"{base}/rules", {"match": {"payee": {"contains": "market"}},
                                   "set": {"categoryId": food, "tags": ["weekly"]}})  # fmt: skip
    _post(alice, f"{base}/rules", {"position": 1, "match": {"amountMin": "100", "type": "INCOME"},
                                   "set": {"categoryId": salary, "payee": "Employer"}})  # fmt: skip
    # Only this ledger's rules are due: the job runs over the module's database.
    with database.pool.connection() as conn:
        conn.execute("UPDATE recurring_rules SET paused = true WHERE ledger_id <> %s", (ledger_id,))
    # Jan 31 recorded; Feb 28 skipped: Home's hard budget of February would be exceeded.
    assert run_worker(database, datetime(2026, 3, 5, 12, tzinfo=UTC)) == 2
    with database.pool.connection() as conn:
        conn.execute(
            "UPDATE transactions SET account = 'giro', bank_id = 'FIT-' || id"
            " WHERE ledger_id = %s AND description = 'Bulbs'",
            (ledger_id,),
        )
        conn.execute(
            "UPDATE transactions SET account = 'giro', import_key = 'giro|' || id"
            " WHERE ledger_id = %s AND occurred_on = '2025-12-24'",
            (ledger_id,),
        )
    return ledger_id


def _export(user, ledger_id: int) -> dict:
    response = user.get(f"/api/ledgers/{ledger_id}/export?format=json")
    assert response.status_code == 200
    return response.get_json()


def _restore(user, document: dict, name: str = "Restored"):
    return user.post("/api/ledgers", json={"name": name, "restore": document})


def test_a_restored_export_holds_the_same_data(alice, original):
    document = _export(alice, original)
    response = _restore(alice, document)
    assert response.status_code == 201, response.get_json()
    restored = response.get_json()
    assert {k: restored[k] for k in ("name", "currency", "timezone", "role", "isDefault")} == {
        "name": "Restored", "currency": "EUR", "timezone": "Europe/Berlin", "role": "owner",
        "isDefault": False,
    }  # fmt: skip
    before, after = _ledger(alice, original), _ledger(alice, restored["id"])
    assert before == after
    assert len(after[f"transactions?{ALL}"]["items"]) == 6  # 5 recorded, 1 by the rule
    # Where the transactions came from, and the rules' progress: the export says so again.
    again = _export(alice, restored["id"])
    assert _plain(again["transactions"]) == _plain(document["transactions"])
    assert _plain(again["recurring"]) == _plain(document["recurring"])
    assert [(r["lastDate"], r["occurrenceCount"], r["nextDate"]) for r in again["recurring"]] == [
        ("2026-02-28", 2, "2026-03-31"), (None, 0, "2026-06-01")
    ]  # fmt: skip


def test_restored_recurring_rules_are_paused_and_resume_where_they_were(alice, original, database):
    restored = _restore(alice, _export(alice, original)).get_json()["id"]
    rules = alice.get(f"/api/ledgers/{restored}/recurring").get_json()["items"]
    assert [(rule["paused"], rule["pausedReason"]) for rule in rules] == [(True, None)] * 2
    with database.pool.connection() as conn:  # the original's rules run on: not watched here
        conn.execute("UPDATE recurring_rules SET paused = true WHERE ledger_id <> %s", (restored,))
    assert run_worker(database, datetime(2026, 4, 5, 12, tzinfo=UTC)) == 0  # paused: nothing
    path = f"/api/ledgers/{restored}/recurring/{rules[0]['id']}"
    resumed = alice.patch(path, json={"paused": False})
    assert resumed.status_code == 200, resumed.get_json()
    assert resumed.get_json()["nextDate"] == "2026-03-31"  # not Jan 31 again
    assert run_worker(database, datetime(2026, 5, 5, 12, tzinfo=UTC)) == 1  # its third, last


def test_a_restore_logs_each_entity_it_created(alice, original, database):
    restored = _restore(alice, _export(alice, original)).get_json()["id"]
    with database.pool.connection() as conn:
        rows = conn.execute(
            "SELECT entity, count(*), bool_and(op = 'created' AND actor_id = %s AND via = 'rest'"
            " AND seq IS NOT NULL) FROM ledger_changes WHERE ledger_id = %s GROUP BY entity",
            (alice.id, restored),
        ).fetchall()
    assert {entity: (count, ok) for entity, count, ok in rows} == {
        "ledger": (1, True), "member": (1, True), "category": (4, True),
        "transaction": (6, True), "budget": (3, True), "recurring": (2, True), "rule": (2, True),
    }  # fmt: skip


def test_anonymous_restore_is_401(client, alice, original):
    document = _export(alice, original)
    response = client.post("/api/ledgers", json={"name": "X", "restore": document})
    assert_problem(response, 401)


# --- Every rule of the document -----------------------------------------------------------------


def _base() -> dict:
    """A small valid document in JPY (no fraction digits)."""
    return {
        "version": 1,
        "ledger": {"name": "Trip", "currency": "JPY", "timezone": "Asia/Tokyo"},
        "categories": [{"id": 1, "name": "Food"}, {"id": 2, "name": "Hotel"}],
        "payees": [{"id": 1, "name": "Inn"}],
        "tags": [{"id": 1, "name": "trip"}],
        "budgets": [{"id": 1, "categoryId": 1, "amount": "5000", "month": 4, "year": 2026}],
        "transactions": [
            {"id": 1, "amount": "1200", "type": "EXPENSE", "categoryId": 1, "date": "2026-04-02",
             "payee": "Inn", "tags": ["trip"], "splits": []},
            {"id": 2, "amount": "9000", "type": "EXPENSE", "categoryId": None, "date": "2026-04-03",
             "splits": [{"categoryId": 1, "amount": "1000"}, {"categoryId": 2, "amount": "8000"}]},
        ],
        "rules": [],
        "recurring": [{"id": 1, "amount": "500", "type": "EXPENSE", "categoryId": 2,
                       "frequency": "monthly", "startDate": "2026-04-01"}],
    }  # fmt: skip


def test_the_small_document_restores(alice):
    response = _restore(alice, _base())
    assert response.status_code == 201, response.get_json()
    ledger_id = response.get_json()["id"]
    items = alice.get(f"/api/ledgers/{ledger_id}/transactions?{ALL}").get_json()["items"]
    assert sorted(item["amount"] for item in items) == ["1200", "9000"]


def _set(path: str, value):
    def change(document: dict) -> None:
        *parents, last = path.split(".")
        target = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is _DELETE:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return change


_DELETE = object()


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (_set("version", 2), "restore.version"),
        (_set("budgets", _DELETE), "restore.budgets"),
        (_set("extra", []), "restore.extra"),
        (_set("ledger.currency", "XXY"), "restore.ledger.currency"),
        (_set("ledger.timezone", "Mars/Olympus"), "restore.ledger.timezone"),
        (_set("transactions.0.amount", "12.5"), "restore.transactions.0.amount"),  # JPY: 0 digits
        (_set("transactions.0.amount", "0"), "restore.transactions.0.amount"),
        (_set("transactions.0.type", "GIFT"), "restore.transactions.0.type"),
        (_set("transactions.0.date", "2026-02-30"), "restore.transactions.0.date"),
        (_set("transactions.0.categoryId", 3), "restore.transactions.0.categoryId"),
        (_set("transactions.0.categoryId", None), "restore.transactions.0.categoryId"),
        (_set("transactions.0.payee", "Nobody"), "restore.transactions.0.payee"),
        (_set("transactions.0.tags", ["trip", "work"]), "restore.transactions.0.tags.1"),
        (_set("transactions.0.bankId", ""), "restore.transactions.0.bankId"),
        (_set("transactions.0.unknown", 1), "restore.transactions.0.unknown"),
        (_set("transactions.1.categoryId", 1), "restore.transactions.1.splits"),
        (_set("transactions.1.splits.1.categoryId", 9), "restore.transactions.1.splits.1.categoryId"),
        (_set("transactions.1.splits.1.amount", "7999"), "restore.transactions.1.splits"),
        (_set("transactions.1.splits", [{"categoryId": 1, "amount": "9000"}]),
         "restore.transactions.1.splits"),
        (_set("categories.1.id", 1), "restore.categories.1.id"),
        (_set("categories.1.name", "FOOD"), "restore.categories.1.name"),
        (_set("categories.1.name", ""), "restore.categories.1.name"),
        (_set("payees", [{"id": 1, "name": "Inn"}, {"id": 2, "name": "inn"}]),
         "restore.payees.1.name"),
        (_set("tags", [{"id": 1, "name": "trip"}, {"id": 2, "name": "Trip"}]),
         "restore.tags.1.name"),
        (_set("budgets.0.categoryId", 7), "restore.budgets.0.categoryId"),
        (_set("budgets.0.mode", "strict"), "restore.budgets.0.mode"),
        (_set("recurring.0.categoryId", 5), "restore.recurring.0.categoryId"),
        (_set("recurring.0.byWeekday", ["MO"]), "restore.recurring.0.byWeekday"),
        (_set("recurring.0.frequency", "hourly"), "restore.recurring.0.frequency"),
        (_set("rules", [{"id": 1, "position": 1, "match": {}, "set": {"payee": "x"}}]),
         "restore.rules.0.match"),
        (_set("rules", [{"id": 1, "position": 1, "match": {"type": "INCOME"},
                         "set": {"categoryId": 999999}}]), "restore.rules.0.set.categoryId"),
        (_set("ledger", _DELETE), "restore.ledger"),
    ],
)  # fmt: skip
def test_each_rule_of_the_document_is_422_naming_its_path(alice, database, change, path):
    document = _base()
    change(document)
    with database.pool.connection() as conn:
        count = conn.execute("SELECT count(*) FROM ledgers").fetchone()[0]
    body = assert_problem(_restore(alice, document), 422, "validation_error")
    assert path in body["errors"], body["errors"]
    with database.pool.connection() as conn:  # nothing written
        assert conn.execute("SELECT count(*) FROM ledgers").fetchone()[0] == count


def test_duplicate_bank_ids_and_budget_scopes_are_422(alice):
    document = _base()
    for item in document["transactions"]:
        item.update(account="giro", bankId="B-1", importId="K-1")
    document["budgets"].append(copy.deepcopy(document["budgets"][0]) | {"id": 2})
    errors = assert_problem(_restore(alice, document), 422)["errors"]
    assert {"restore.transactions.1.bankId", "restore.transactions.1.importId",
            "restore.budgets.1"} <= errors.keys()  # fmt: skip
    for item, account in zip(document["transactions"], ("giro", "card"), strict=True):
        item["account"] = account  # the same bank id in two accounts: two bank lines
    document["budgets"].pop()
    assert _restore(alice, document).status_code == 201


@pytest.mark.parametrize("field", ["currency", "timezone"])
def test_a_restore_takes_the_documents_currency_and_time_zone_only(alice, field):
    body = {"name": "X", "restore": _base(), field: "EUR" if field == "currency" else "UTC"}
    errors = assert_problem(alice.post("/api/ledgers", json=body), 422)["errors"]
    assert field in errors


def test_a_restore_is_not_a_list_or_text(alice):
    for value in ([], "{}", None):
        response = alice.post("/api/ledgers", json={"name": "X", "restore": value})
        errors = assert_problem(response, 422)["errors"]
        assert any(key.startswith("restore") for key in errors), errors


def test_import_rules_come_back_in_their_order_with_their_categories(alice, original):
    restored = _restore(alice, _export(alice, original)).get_json()["id"]

    def rules_of(ledger_id: int) -> list[tuple]:
        base = f"/api/ledgers/{ledger_id}"
        names = {c["id"]: c["name"] for c in alice.get(f"{base}/categories").get_json()["items"]}
        items = alice.get(f"{base}/rules").get_json()["items"]
        return [
            (rule["position"], rule["match"], names.get(rule["set"]["categoryId"]),
             rule["set"]["payee"], rule["set"]["tags"])
            for rule in items
        ]  # fmt: skip

    assert rules_of(restored) == rules_of(original)
    assert [entry[2] for entry in rules_of(restored)] == ["Salary", "Food"]
