"""The change log's images are the REST API's own answers (services/changes/shapes.py): each
entity's logged `after` equals its GET, in a currency whose digits are not two; and the bulk
path's images, rendered by the database (sql/changes.sql), equal the ones Python renders, on
values only a bulk load writes (more fraction digits than the currency's, timestamps to the
microsecond). Every writer's images against REST: tests/ledgers/test_change_log.py."""

from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from expense_api.api.schemas.imports import ImportSchema
from expense_api.repositories import budgets, categories, recurring, transactions
from expense_api.services import ledgers
from expense_api.services.changes import hook, shapes
from tests.factories import graphql
from tests.imports.tiny_reader import install

HOOK = "http://127.0.0.1:9/hook"


def _after(conn, ledger_id: int, entity: str, entity_id: int) -> dict:
    """The `after` of the entity's latest entry."""
    return conn.execute(
        "SELECT after FROM ledger_changes WHERE ledger_id = %s AND entity = %s"
        " AND entity_id = %s ORDER BY id DESC LIMIT 1",
        (ledger_id, entity, entity_id),
    ).fetchone()[0]


def _ok(response) -> dict:
    assert response.status_code < 300, response.get_json()
    return response.get_json()


@pytest.fixture
def kwd_ledger(alice, bob) -> int:
    """A ledger in Kuwaiti dinars (three fraction digits) with bob invited into it and a
    member."""
    ledger_id = _ok(alice.post("/api/ledgers", json={"name": "Dinars", "currency": "KWD"}))["id"]
    invitation = _ok(
        alice.post(
            f"/api/ledgers/{ledger_id}/invitations",
            json={"email": bob.data["email"], "role": "editor"},
        )
    )
    _ok(bob.post(f"/api/invitations/{invitation['id']}/accept"))
    return ledger_id


def test_each_entitys_logged_after_is_its_rest_answer(alice, bob, kwd_ledger, conn):
    base = f"/api/ledgers/{kwd_ledger}"
    food = _ok(alice.post(f"{base}/categories", json={"name": "Food"}))["id"]
    spent = _ok(
        alice.post(
            f"{base}/transactions",
            json={"amount": "1.5", "type": "EXPENSE", "categoryId": food, "date": "2026-03-15"},
        )
    )
    home = _ok(alice.post(f"{base}/categories", json={"name": "Home"}))["id"]
    lines = [{"categoryId": food, "amount": "0.125", "memo": "bread"},
             {"categoryId": home, "amount": 2}]  # fmt: skip
    split = _ok(
        alice.post(
            f"{base}/transactions",
            json={
                "amount": "2.125",
                "type": "EXPENSE",
                "splits": lines,
                "date": "2026-03-15",
                "payee": "Souq",
                "tags": ["b", "A"],
            },
        )
    )
    # In yen (no fraction digits) at a recorded rate, split: amounts in yen, shares in dinars.
    foreign = _ok(
        alice.post(
            f"{base}/transactions",
            json={"amount": "1000", "currency": "JPY", "rate": "0.00205", "type": "EXPENSE",
                  "date": "2026-03-15", "splits": [{"categoryId": food, "amount": 333},
                                                   {"categoryId": home, "amount": "667"}]},
        )
    )  # fmt: skip
    budget = _ok(alice.post(f"{base}/budgets", json={"amount": "40", "month": 3, "year": 2026}))
    weekly = {"amount": "2.125", "type": "EXPENSE", "categoryId": food, "frequency": "weekly",
              "byWeekday": ["MO", "TH"], "startDate": "2999-01-01"}  # fmt: skip
    rule = _ok(alice.post(f"{base}/recurring", json=weekly))
    # A rule in yen: its amount with the yen's (no) fraction digits, not the dinar's three.
    in_yen = {"amount": "1500", "currency": "JPY", "type": "EXPENSE", "categoryId": food,
              "frequency": "monthly", "startDate": "2999-01-01"}  # fmt: skip
    yen_rule = _ok(alice.post(f"{base}/recurring", json=in_yen))
    matching = {"payee": {"regex": "^souq"}, "amountMin": "0.5", "amountMax": 2, "type": "EXPENSE"}
    rule_ = _ok(
        alice.post(
            f"{base}/rules",
            json={"match": matching, "set": {"categoryId": food, "tags": ["b", "A"]}},
        )
    )
    hook_ = _ok(alice.post(f"{base}/webhooks", json={"url": HOOK, "events": ["budget.updated"]}))
    invitation = _ok(
        alice.post(
            f"{base}/invitations",
            json={"email": f"x-{uuid.uuid4().hex[:8]}@example.com", "role": "viewer"},
        )
    )
    answers = {
        ("ledger", kwd_ledger): _ok(alice.get(base)),
        ("category", food): _ok(alice.get(f"{base}/categories/{food}")),
        ("transaction", spent["id"]): _ok(alice.get(f"{base}/transactions/{spent['id']}")),
        ("transaction", split["id"]): _ok(alice.get(f"{base}/transactions/{split['id']}")),
        ("transaction", foreign["id"]): _ok(alice.get(f"{base}/transactions/{foreign['id']}")),
        ("budget", budget["id"]): _ok(alice.get(f"{base}/budgets/{budget['id']}")),
        ("recurring", rule["id"]): _ok(alice.get(f"{base}/recurring/{rule['id']}")),
        ("recurring", yen_rule["id"]): _ok(alice.get(f"{base}/recurring/{yen_rule['id']}")),
        ("webhook", hook_["id"]): _ok(alice.get(f"{base}/webhooks/{hook_['id']}")),
        ("rule", rule_["id"]): _ok(alice.get(f"{base}/rules/{rule_['id']}")),
    }
    for member in _ok(alice.get(f"{base}/members"))["items"]:
        answers[("member", member["userId"])] = member
    for listed in _ok(alice.get(f"{base}/invitations"))["items"]:
        answers[("invitation", listed["id"])] = listed
    assert ("invitation", invitation["id"]) in answers and ("member", bob.id) in answers
    assert answers[("transaction", spent["id"])]["amount"] == "1.500"
    assert answers[("rule", rule_["id"])]["match"]["amountMin"] == "0.500"
    assert [line["amount"] for line in answers[("transaction", split["id"])]["splits"]] == [
        "0.125",
        "2.000",
    ]
    shown = answers[("transaction", foreign["id"])]
    assert (shown["amount"], shown["currency"], shown["rate"], shown["ledgerAmount"]) == (
        "1000", "JPY", "0.00205", "2.050")  # fmt: skip
    assert [(line["amount"], line["ledgerAmount"]) for line in shown["splits"]] == [
        ("333", "0.683"), ("667", "1.367")]  # fmt: skip
    for (entity, entity_id), answer in answers.items():
        assert _after(conn, kwd_ledger, entity, entity_id) == answer, entity


def test_graphqls_writes_log_the_same_images(alice, kwd_ledger, conn):
    base = f"/api/ledgers/{kwd_ledger}"
    food = _ok(alice.post(f"{base}/categories", json={"name": "Food"}))["id"]
    body = graphql(
        alice,
        'mutation($l: Int, $c: Int!) { createTransaction(ledgerId: $l, input: {amount: "3",'
        ' type: EXPENSE, categoryId: $c, date: "2026-03-15"}) { transaction { id } } }',
        {"l": kwd_ledger, "c": food},
    )
    spent = body["data"]["createTransaction"]["transaction"]["id"]
    answer = _ok(alice.get(f"{base}/transactions/{spent}"))
    assert _after(conn, kwd_ledger, "transaction", spent) == answer


# --- The bulk path's images (rendered in SQL) -------------------------------------------------


def _bulk_rows(own, ledger_id: int, owner_id: int) -> dict[str, list[int]]:
    """Rows written straight to the database, as a bulk load writes them: amounts with more
    fraction digits than the currency has (half up), timestamps to the microsecond."""
    at = datetime.fromisoformat("2026-05-31T23:59:59.999999+00:00")
    category = own.execute(
        "INSERT INTO categories (ledger_id, name, created_at) VALUES (%s, 'Bulk', %s) RETURNING id",
        (ledger_id, at),
    ).fetchone()[0]
    spent = [
        own.execute(
            "INSERT INTO transactions (ledger_id, category_id, type, amount, description,"
            " occurred_on, created_by, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " RETURNING id",
            (ledger_id, category, kind, amount, text, day, by, at - timedelta(microseconds=n)),
        ).fetchone()[0]
        for n, (kind, amount, text, day, by) in enumerate(
            [
                ("EXPENSE", Decimal("12.3455"), "Half up", date(2026, 5, 31), owner_id),
                ("INCOME", Decimal("0.5"), "", date(99, 1, 1), None),
                ("EXPENSE", Decimal("7"), 'Quote " and ünïcode', date(2999, 12, 31), owner_id),
            ]
        )
    ]
    plans = [
        own.execute(
            "INSERT INTO budgets (ledger_id, category_id, year, month, amount, mode,"
            " alert_threshold) VALUES (%s, %s, 2026, 5, %s, %s, %s) RETURNING id",
            (ledger_id, category_id, amount, mode, threshold),
        ).fetchone()[0]
        for category_id, amount, mode, threshold in [
            (None, Decimal("100.0005"), "soft", 80),
            (category, Decimal("2.5"), "hard", 90),
        ]
    ]
    schedules = [
        {"amount": Decimal("9.9999"), "frequency": "weekly", "repeat_interval": 2,
         "by_weekday": ["MO", "FR"], "by_month_day": None, "end_date": None,
         "max_occurrences": 3, "paused": False, "paused_reason": None,
         "next_date": date(2026, 1, 2), "failures": 2, "retry_at": at,
         "last_error": "RuntimeError: boom"},
        {"amount": Decimal("1"), "frequency": "monthly", "repeat_interval": 1,
         "by_weekday": None, "by_month_day": -1, "end_date": date(2026, 12, 31),
         "max_occurrences": None, "paused": True, "paused_reason": "failing", "next_date": None,
         "failures": 10, "retry_at": None, "last_error": None},
        # In another currency: its amount with that currency's digits (half up), whatever the
        # ledger's.
        {"amount": Decimal("1.235"), "currency": "EUR", "frequency": "yearly",
         "repeat_interval": 1, "by_weekday": None, "by_month_day": None, "end_date": None,
         "max_occurrences": None, "paused": False, "paused_reason": None,
         "next_date": date(2027, 1, 1), "failures": 0, "retry_at": None, "last_error": None},
    ]  # fmt: skip
    rules = [
        own.execute(
            "INSERT INTO recurring_rules (ledger_id, acts_as, category_id, type, amount, currency,"
            " description, frequency, repeat_interval, by_weekday, by_month_day, start_date,"
            " end_date, max_occurrences, paused, paused_reason, next_date, failures, retry_at,"
            " last_error) VALUES (%(ledger_id)s, %(acts_as)s, %(category_id)s, 'EXPENSE',"
            " %(amount)s, %(currency)s, 'Rule', %(frequency)s, %(repeat_interval)s, %(by_weekday)s,"
            " %(by_month_day)s, '2026-01-01', %(end_date)s, %(max_occurrences)s, %(paused)s,"
            " %(paused_reason)s, %(next_date)s, %(failures)s, %(retry_at)s, %(last_error)s)"
            " RETURNING id",
            {
                "ledger_id": ledger_id,
                "acts_as": owner_id,
                "category_id": category,
                "currency": None,
                **schedule,
            },
        ).fetchone()[0]
        for schedule in schedules
    ]
    # A split one with a payee and tags: its lines' amounts half up too, tags in name order.
    split = own.execute(
        "INSERT INTO transactions (ledger_id, category_id, type, amount, occurred_on, created_at)"
        " VALUES (%s, NULL, 'EXPENSE', 3.0005, '2026-05-02', %s) RETURNING id",
        (ledger_id, at),
    ).fetchone()[0]
    own.execute(
        "INSERT INTO transaction_splits (ledger_id, transaction_id, line_no, category_id, amount,"
        " memo, occurred_on, type) VALUES (%(l)s, %(t)s, 1, %(c)s, 1.0005, 'first', '-infinity',"
        " 'EXPENSE'), (%(l)s, %(t)s, 2, %(c)s, 2, NULL, '-infinity', 'EXPENSE')",
        {"l": ledger_id, "t": split, "c": category},
    )
    payee = own.execute(
        "INSERT INTO payees (ledger_id, name) VALUES (%s, 'Bulk Payee') RETURNING id", (ledger_id,)
    ).fetchone()[0]
    own.execute("UPDATE transactions SET payee_id = %s WHERE id = %s", (payee, split))
    own.execute(
        "WITH t AS (INSERT INTO tags (ledger_id, name) VALUES (%(l)s, 'zeta'), (%(l)s, 'Alpha')"
        " RETURNING id) INSERT INTO transaction_tags SELECT %(l)s, %(s)s, id FROM t",
        {"l": ledger_id, "s": split},
    )
    # One in another currency (yen: no fraction digits whatever the ledger's), split too.
    foreign = own.execute(
        "INSERT INTO transactions (ledger_id, category_id, type, amount, occurred_on, created_at,"
        " currency, rate, foreign_amount) VALUES (%s, NULL, 'EXPENSE', 6.7, '2026-05-03', %s,"
        " 'JPY', 0.006700, 1000) RETURNING id",
        (ledger_id, at),
    ).fetchone()[0]
    own.execute(
        "INSERT INTO transaction_splits (ledger_id, transaction_id, line_no, category_id, amount,"
        " memo, occurred_on, type, foreign_amount) VALUES (%(l)s, %(t)s, 1, %(c)s, 3.35, NULL,"
        " '-infinity', 'EXPENSE', 500), (%(l)s, %(t)s, 2, %(c)s, 3.35, NULL, '-infinity',"
        " 'EXPENSE', 500)",
        {"l": ledger_id, "t": foreign, "c": category},
    )
    spent += [split, foreign]
    return {"category": [category], "transaction": spent, "budget": plans, "recurring": rules}


READ_BACK = {
    "category": lambda c, ledger_id, id: categories.get(c, ledger_id=ledger_id, category_id=id),
    "transaction": lambda c, ledger_id, id: transactions.get(
        c, ledger_id=ledger_id, transaction_id=id
    ),
    "budget": lambda c, ledger_id, id: budgets.get(c, ledger_id=ledger_id, budget_id=id),
    "recurring": lambda c, ledger_id, id: recurring.get(c, ledger_id=ledger_id, rule_id=id),
}


@pytest.mark.parametrize("currency", ["KWD", "JPY", "USD"])
def test_the_bulk_paths_images_are_the_ones_python_renders(alice, database_url, currency):
    ledger_id = _ok(alice.post("/api/ledgers", json={"name": "Bulk", "currency": currency}))["id"]
    with psycopg.connect(database_url) as own:
        written = _bulk_rows(own, ledger_id, alice.id)
        actor = ledgers.actor_in(own, user_id=alice.id, ledger_id=ledger_id)
        for entity, ids in written.items():
            assert hook.record_created_in_bulk(own, actor, entity) == len(ids)
            for entity_id in ids:
                expected = shapes.render(
                    entity, READ_BACK[entity](own, ledger_id, entity_id), currency
                )
                assert _after(own, ledger_id, entity, entity_id) == expected, (entity, entity_id)
        own.rollback()


def test_the_bulk_path_logs_each_row_once_after_what_the_transaction_logged(alice, database_url):
    """Rows with an entry are passed over; the transaction's earlier entries (the ledger's
    own, here) keep their place before the bulk's; seqs run on without a gap."""
    with psycopg.connect(database_url) as own:
        user = {"id": alice.id, "currency": "USD", "timezone": "UTC"}
        ledger_id = ledgers.create(own, user, name="Loaded", currency=None, timezone=None)["id"]
        written = _bulk_rows(own, ledger_id, alice.id)
        actor = ledgers.actor_in(own, user_id=alice.id, ledger_id=ledger_id)
        assert hook.record_created_in_bulk(own, actor, "transaction") == 5
        assert hook.record_created_in_bulk(own, actor, "transaction") == 0
        assert hook.record_created_in_bulk(own, actor, "category") == 1
        own.commit()
    with psycopg.connect(database_url) as check:
        rows = check.execute(
            "SELECT seq, entity, entity_id, actor_id, via FROM ledger_changes"
            " WHERE ledger_id = %s ORDER BY id",
            (ledger_id,),
        ).fetchall()
        knowledge = check.execute(
            "SELECT knowledge FROM ledger_generations WHERE ledger_id = %s", (ledger_id,)
        ).fetchone()[0]
    expected = ["ledger", "member", *["transaction"] * 5, "category"]
    assert [(seq, entity) for seq, entity, *_ in rows] == list(enumerate(expected, 1))
    assert [entity_id for _, entity, entity_id, *_ in rows if entity == "transaction"] == sorted(
        written["transaction"]
    )
    assert {(actor, via) for *_, actor, via in rows} == {(alice.id, "cli")}
    assert knowledge == 8


def test_the_bulk_path_refuses_a_ledger_with_webhooks(alice, database_url):
    _ok(alice.post("/api/webhooks", json={"url": HOOK, "events": ["transaction.created"]}))
    with psycopg.connect(database_url) as own:
        actor = ledgers.actor_in(own, user_id=alice.id, ledger_id=alice.ledger_id)
        with pytest.raises(ValueError, match="no webhook events"):
            hook.record_created_in_bulk(own, actor, "transaction")


# --- Imports: the marshmallow schema and the change log's shape agree --------------------------


def test_the_import_schema_has_the_change_logs_keys_in_its_order():
    declared = [field.data_key or name for name, field in ImportSchema().dump_fields.items()]
    assert declared == [key for key, _, _ in shapes.SHAPES["import"]]


def test_an_imports_logged_images_are_its_rest_answers(alice, kwd_ledger, conn, monkeypatch):
    """Upload, commit over a hard budget (overBudget's amounts in dinars), undo: each entry's
    `after` is the GET that follows."""
    install(monkeypatch)
    base = f"/api/ledgers/{kwd_ledger}"
    _ok(
        alice.post(
            f"{base}/budgets", json={"amount": "1", "month": 3, "year": 2026, "mode": "hard"}
        )
    )
    content = b"2026-03-02,-1.5,Souq\n2026-03-03,-0.125,Cafe\n"
    created = _ok(
        alice.post(
            f"{base}/imports",
            data={"file": (io.BytesIO(content), "dinars.csv")},
            content_type="multipart/form-data",
        )
    )
    path = f"{base}/imports/{created['id']}"
    assert _after(conn, kwd_ledger, "import", created["id"]) == _ok(alice.get(path)) == created
    committed = _ok(alice.post(f"{path}/commit"))
    [over] = committed["overBudget"]
    assert (over["amount"], over["spent"]) == ("1.000", "1.625")
    assert _after(conn, kwd_ledger, "import", created["id"]) == _ok(alice.get(path)) == committed
    undone = _ok(alice.post(f"{path}/undo"))
    assert _after(conn, kwd_ledger, "import", created["id"]) == _ok(alice.get(path)) == undone
