"""Parity: on one seeded ledger, each REST read and its GraphQL twin give the same values (money
strings, dates, timestamps, ordering, pagination cursors); each REST refusal has a GraphQL twin
with the same code."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.factories import category, graphql, graphql_codes, record, save

TX_FIELDS = (
    "id amount type categoryId category description date createdAt createdBy { id name }"
    " payee tags splits { categoryId category amount memo ledgerAmount } currency rate ledgerAmount"
)
BUDGET_FIELDS = "id categoryId category amount month year mode alertThreshold rollover createdAt"
ALERT_FIELDS = "id ledgerId budgetId kind percentUsed recurringId createdAt readAt"


@pytest.fixture
def seeded(alice):
    """A KWD ledger (3 fraction digits) with categories, a month of transactions, budgets and
    the alerts they fired, besides alice's default USD ledger."""
    ledger = alice.post("/api/ledgers", json={"name": "Kuwait", "currency": "KWD"}).get_json()
    base = f"/api/ledgers/{ledger['id']}"
    ids = [alice.post(f"{base}/categories", json={"name": n}).get_json()["id"]
           for n in ("rent", "Food", "travel")]  # fmt: skip
    alice.post(f"{base}/budgets", json={"categoryId": ids[1], "amount": "20", "month": 3,
                                        "year": 2026, "mode": "soft"})  # fmt: skip
    alice.post(f"{base}/budgets", json={"amount": "1000.5", "month": 3, "year": 2026})
    for day in range(1, 13):
        body = {"amount": f"{day}.125", "type": "EXPENSE" if day % 3 else "INCOME",
                "categoryId": ids[day % 3], "description": f"day {day}",
                "date": f"2026-03-{day % 6 + 1:02d}"}  # fmt: skip
        assert alice.post(f"{base}/transactions", json=body).status_code == 201
    return ledger["id"], base


def _rest(user, path):
    response = user.get(path)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _ledger(user, ledger_id, selection, variables=None, declared=""):
    query = f"query($id: Int!{declared}) {{ ledger(id: $id) {{ {selection} }} }}"
    body = graphql(user, query, {"id": ledger_id, **(variables or {})})
    assert "errors" not in body, body
    return body["data"]["ledger"]


def test_categories_budgets_and_the_ledger(alice, seeded):
    ledger_id, base = seeded
    got = _ledger(
        alice,
        ledger_id,
        f"""id name currency timezone isDefault role createdAt
        categories {{ id name createdAt }} budgets(month: 3, year: 2026) {{ {BUDGET_FIELDS} }}
        members {{ userId name email role joinedAt }}""",
    )
    assert got["categories"] == _rest(alice, f"{base}/categories")["items"]
    assert got["budgets"] == _rest(alice, f"{base}/budgets?month=3&year=2026")["items"]
    assert got["members"] == _rest(alice, f"{base}/members")["items"]
    rest_ledger = _rest(alice, base)
    assert {k: got[k] for k in rest_ledger} == rest_ledger
    assert any(b["amount"] == "1000.500" for b in got["budgets"])


def test_transaction_pages_follow_the_rest_cursor(alice, seeded):
    ledger_id, base = seeded
    selection = f"""transactions(first: 5, after: $after, filter: {{month: 3, year: 2026}}) {{
        edges {{ cursor node {{ {TX_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }}"""
    rest_path = f"{base}/transactions?month=3&year=2026&limit=5"
    after, rest_cursor, pages = None, None, 0
    while True:
        page = _ledger(alice, ledger_id, selection, {"after": after}, ", $after: String")
        rest = _rest(alice, rest_path + (f"&cursor={rest_cursor}" if rest_cursor else ""))
        nodes = [edge["node"] for edge in page["transactions"]["edges"]]
        assert nodes == rest["items"]
        info = page["transactions"]["pageInfo"]
        assert info["hasNextPage"] == (rest["nextCursor"] is not None)
        pages += 1
        if not info["hasNextPage"]:
            break
        assert info["endCursor"] == rest["nextCursor"]
        after = rest_cursor = rest["nextCursor"]
    assert pages == 3
    assert nodes[-1]["amount"].endswith(".125")


def test_filters_as_rest(alice, seeded):
    ledger_id, base = seeded
    selection = f"""transactions(filter: {{from: "2026-03-02", to: "2026-03-04", type: EXPENSE,
        q: "DAY 1", minAmount: "1.125", maxAmount: 12}}) {{ nodes {{ {TX_FIELDS} }} }}"""
    got = _ledger(alice, ledger_id, selection)["transactions"]["nodes"]
    rest = _rest(alice, f"{base}/transactions?from=2026-03-02&to=2026-03-04&type=EXPENSE"
                        "&q=DAY%201&minAmount=1.125&maxAmount=12")  # fmt: skip
    assert got == rest["items"] and got


def test_reports_as_rest(alice, seeded):
    ledger_id, base = seeded
    got = _ledger(
        alice,
        ledger_id,
        """
        summary(month: 3, year: 2026) { from to currency totalIncome totalExpense savings
                                       savingsRate }
        categoryBreakdown(from: "2026-03-01", to: "2026-03-31") { from to total
            items { categoryId category amount share } }
        budgetUsage(month: 3, year: 2026) { month year items { budgetId categoryId category
            budget spent remaining percentUsed mode carried available rollover } }
        trends(from: "2026-01-01", to: "2026-03-31") { items { month income expense savings } }
    """,
    )
    assert got["summary"] == _rest(alice, f"{base}/summary?month=3&year=2026")
    assert got["categoryBreakdown"] == _rest(
        alice, f"{base}/category-breakdown?from=2026-03-01&to=2026-03-31"
    )
    assert got["budgetUsage"] == _rest(alice, f"{base}/budget-usage?month=3&year=2026")
    assert got["trends"] == _rest(alice, f"{base}/trends?from=2026-01-01&to=2026-03-31")


def test_notifications_me_and_ledgers_as_rest(alice, seeded):
    ledger_id, base = seeded
    body = graphql(
        alice,
        f"""{{ me {{ id name email role currency timezone createdAt totpEnabled }}
        ledgers {{ id name currency timezone isDefault role createdAt }}
        notifications(first: 1) {{ nodes {{ {ALERT_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }}
        one: notifications(ledgerId: {ledger_id}) {{ nodes {{ {ALERT_FIELDS} }} }} }}""",
    )
    data = body["data"]
    assert data["me"] == _rest(alice, "/api/auth/me")["user"]
    assert data["ledgers"] == _rest(alice, "/api/ledgers")["items"]
    rest = _rest(alice, "/api/notifications?limit=1")
    assert data["notifications"]["nodes"] == rest["items"] and rest["items"]
    assert data["notifications"]["pageInfo"] == {
        "hasNextPage": True,
        "endCursor": rest["nextCursor"],
    }
    assert data["one"]["nodes"] == _rest(alice, f"{base}/notifications")["items"]


CHANGE_FIELDS = "seq at actor { id name } via requestId entity entityId op before after"


def test_change_log_pages_follow_the_rest_cursor(alice, seeded):
    ledger_id, base = seeded
    selection = f"""changes(first: 5, after: $after) {{
        edges {{ cursor node {{ {CHANGE_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }}"""
    after, rest_cursor, pages, seen = None, None, 0, []
    while True:
        page = _ledger(alice, ledger_id, selection, {"after": after}, ", $after: String")
        rest = _rest(
            alice, f"{base}/changes?limit=5" + (f"&cursor={rest_cursor}" if rest_cursor else "")
        )
        nodes = [edge["node"] for edge in page["changes"]["edges"]]
        assert nodes == rest["items"]
        seen += nodes
        info = page["changes"]["pageInfo"]
        assert info["hasNextPage"] == (rest["nextCursor"] is not None)
        pages += 1
        if not info["hasNextPage"]:
            break
        assert info["endCursor"] == rest["nextCursor"]
        after = rest_cursor = rest["nextCursor"]
    assert pages == 4  # 3 categories, 2 budgets, 12 transactions
    money = [node["after"]["amount"] for node in seen if node["entity"] == "transaction"]
    assert money and all(amount.endswith(".125") for amount in money)


def test_change_log_filters_as_rest(alice, seeded):
    ledger_id, base = seeded
    created = graphql(alice, f'mutation {{ createCategory(ledgerId: {ledger_id}, '
                             'input: {name: "Via GraphQL"}) { id } }')["data"]["createCategory"]  # fmt: skip
    # The newest entry's day in the ledger's time zone, as from/to read days.
    newest = datetime.fromisoformat(_rest(alice, f"{base}/changes?limit=1")["items"][0]["at"])
    today = newest.astimezone(ZoneInfo(_rest(alice, base)["timezone"])).date().isoformat()
    for graphql_filter, query in [
        ("{entity: transaction}", "entity=transaction"),
        (
            f"{{entity: category, entityId: {created['id']}}}",
            f"entity=category&entityId={created['id']}",
        ),
        (f"{{entityId: {created['id']}}}", f"entityId={created['id']}"),
        (f"{{actorId: {alice.id}}}", f"actorId={alice.id}"),
        (f'{{from: "{today}", to: "{today}"}}', f"from={today}&to={today}"),
        ('{to: "2000-01-01"}', "to=2000-01-01"),
    ]:
        got = _ledger(alice, ledger_id, f"changes(first: 500, filter: {graphql_filter}) "
                                        f"{{ nodes {{ {CHANGE_FIELDS} }} }}")  # fmt: skip
        rest = _rest(alice, f"{base}/changes?limit=500&{query}")
        assert got["changes"]["nodes"] == rest["items"], query
        assert bool(rest["items"]) == (query != "to=2000-01-01"), query
    [entry] = _rest(alice, f"{base}/changes?entity=category&entityId={created['id']}")["items"]
    assert entry["via"] == "graphql"


# (REST method, REST path, REST body, GraphQL document, variables): the same refusal both ways.
def _twins(alice, bob):
    food = category(alice, "Food")
    spent = record(alice, food, amount="5", date="2026-03-01")
    assert save(alice, categoryId=food, amount="10").status_code == 201
    bobs = record(bob, category(bob, "Bob's"), date="2026-03-01")
    over = {"amount": "6", "type": "EXPENSE", "categoryId": food, "date": "2026-03-09"}
    bad = {**over, "amount": "-1"}
    return [
        ("POST", "/api/transactions", over, "mutation($i: TransactionInput!) "
         "{ createTransaction(input: $i) { transaction { id } } }", {"i": over},
         "budget_exceeded"),
        ("POST", "/api/transactions", bad, "mutation($i: TransactionInput!) "
         "{ createTransaction(input: $i) { transaction { id } } }", {"i": bad},
         "validation_error"),
        ("GET", f"/api/transactions/{bobs['id']}", None,
         f"{{ ledger(id: {alice.ledger_id}) {{ transaction(id: {bobs['id']}) {{ id }} }} }}", None,
         "not_found"),
        ("PATCH", f"/api/transactions/{bobs['id']}", {"amount": "1"},
         f'mutation {{ updateTransaction(id: {bobs["id"]}, input: {{amount: "1"}}) '
         "{ transaction { id } } }", None, "not_found"),
        ("PATCH", f"/api/transactions/{spent['id']}", {}, f"mutation {{ updateTransaction("
         f"id: {spent['id']}, input: {{}}) {{ transaction {{ id }} }} }}", None,
         "validation_error"),
        ("POST", "/api/categories", {"name": " food "},
         'mutation { createCategory(input: {name: " food "}) { id } }', None, "category_exists"),
        ("DELETE", f"/api/categories/{food}", None,
         f"mutation {{ deleteCategory(id: {food}) }}", None, "category_in_use"),
        ("DELETE", f"/api/ledgers/{alice.ledger_id}", None,
         f"mutation {{ deleteLedger(id: {alice.ledger_id}) }}", None, "ledger_is_default"),
        ("PATCH", f"/api/ledgers/{alice.ledger_id}/members/{alice.id}", {"role": "viewer"},
         f"mutation {{ updateMember(ledgerId: {alice.ledger_id}, userId: {alice.id}, "
         "input: {role: viewer}) { userId } }", None, "last_owner"),
        ("POST", f"/api/ledgers/{alice.ledger_id}/invitations",
         {"email": alice.data["email"], "role": "viewer"},
         f'mutation {{ createInvitation(ledgerId: {alice.ledger_id}, input: {{email: '
         f'"{alice.data["email"]}", role: viewer}}) {{ id }} }}', None, "already_member"),
        ("GET", "/api/ledgers/999999999", None, "{ ledger(id: 999999999) { id } }", None,
         "not_found"),
        ("GET", "/api/transactions?cursor=bogus", None,
         f'{{ ledger(id: {alice.ledger_id}) {{ transactions(after: "bogus") {{ nodes {{ id }} }} }} }}',
         None, "validation_error"),
        ("GET", f"/api/ledgers/{alice.ledger_id}/changes?cursor=bogus", None,
         f'{{ ledger(id: {alice.ledger_id}) {{ changes(after: "bogus") {{ nodes {{ seq }} }} }} }}',
         None, "validation_error"),
        ("GET", f"/api/ledgers/{alice.ledger_id}/changes?from=2026-03-02&to=2026-03-01", None,
         f'{{ ledger(id: {alice.ledger_id}) {{ changes(filter: {{from: "2026-03-02", '
         'to: "2026-03-01"}) { nodes { seq } } } }', None, "validation_error"),
        ("GET", f"/api/ledgers/{bob.ledger_id}/changes", None,
         f"{{ ledger(id: {bob.ledger_id}) {{ changes {{ nodes {{ seq }} }} }} }}", None,
         "not_found"),
        ("GET", "/api/summary?month=3&from=2026-03-01", None,
         f'{{ ledger(id: {alice.ledger_id}) {{ summary(month: 3, from: "2026-03-01") {{ from }} }} }}',
         None, "validation_error"),
        ("POST", "/api/notifications/999999999/read", None,
         "mutation { markNotificationRead(id: 999999999) { id } }", None, "not_found"),
        ("POST", "/api/invitations/999999999/accept", None,
         "mutation { acceptInvitation(id: 999999999) { id } }", None, "not_found"),
    ]  # fmt: skip


def test_each_rest_refusal_has_a_graphql_twin(alice, bob):
    for method, path, body, document, variables, code in _twins(alice, bob):
        rest = alice.request(method, path, **({"json": body} if body is not None else {}))
        assert rest.get_json()["code"] == code, (path, rest.get_json())
        answer = graphql(alice, document, variables)
        assert graphql_codes(answer) == [code], (document, answer)
        error = answer["errors"][0]
        assert error["extensions"]["status"] == rest.status_code
        if code == "validation_error" and method != "GET":
            assert error["extensions"]["errors"] == rest.get_json()["errors"]


PAYEE_FIELDS = "id name count lastUsedOn"


def test_payees_tags_and_their_filters_as_rest(alice):
    base = f"/api/ledgers/{alice.ledger_id}"
    food, home = category(alice, "Food"), category(alice, "Home")
    for day, payee, tags in [(1, "Corner Shop", ["trip"]), (2, "corner shop", ["Trip", "work"]),
                             (3, "Bakery", []), (4, "50% Off", ["work"])]:  # fmt: skip
        record(alice, food, f"{day}.50", date=f"2026-03-0{day}", payee=payee, tags=tags)
    split = {"amount": "9.00", "type": "EXPENSE", "date": "2026-03-05", "payee": "Bakery",
             "tags": ["trip", "work"], "splits": [{"categoryId": home, "amount": "4.00"},
                                                  {"categoryId": food, "amount": "5.00"}]}  # fmt: skip
    assert alice.post(f"{base}/transactions", json=split).status_code == 201
    got = _ledger(
        alice,
        alice.ledger_id,
        f"""all: payees {{ {PAYEE_FIELDS} }} some: payees(q: "SHOP", limit: 1) {{ {PAYEE_FIELDS} }}
        literal: payees(q: "0%") {{ name }} tags {{ id name count }}""",
    )
    assert got["all"] == _rest(alice, f"{base}/payees")["items"] and len(got["all"]) == 3
    assert got["some"] == _rest(alice, f"{base}/payees?q=SHOP&limit=1")["items"]
    assert got["literal"] == [{"name": "50% Off"}]
    assert got["tags"] == _rest(alice, f"{base}/tags")["items"] and len(got["tags"]) == 2
    for graphql_filter, query in [
        ('{payee: "CORNER SHOP"}', "payee=CORNER%20SHOP"),
        ('{tags: ["TRIP", "work"]}', "tag=TRIP&tag=work"),
        (f"{{categoryId: {home}}}", f"categoryId={home}"),
        (f'{{categoryId: {food}, tags: ["work"], payee: "bakery"}}',
         f"categoryId={food}&tag=work&payee=bakery"),
    ]:  # fmt: skip
        selection = f"""transactions(filter: {{month: 3, year: 2026, {graphql_filter[1:-1]}}}) {{
            nodes {{ {TX_FIELDS} }} }}"""
        nodes = _ledger(alice, alice.ledger_id, selection)["transactions"]["nodes"]
        rest = _rest(alice, f"{base}/transactions?month=3&year=2026&{query}")["items"]
        assert nodes == rest and rest, query


def test_payees_and_tags_below_ledgers_as_rest_in_one_statement_each(alice):
    other = alice.post("/api/ledgers", json={"name": "Other", "currency": "JPY"}).get_json()
    record(alice, category(alice), payee="Home Shop", tags=["mine"])
    food = alice.post(f"/api/ledgers/{other['id']}/categories", json={"name": "F"}).get_json()
    body = {"amount": "500", "type": "EXPENSE", "categoryId": food["id"], "date": "2026-03-01",
            "payee": "Away Shop", "tags": ["away"]}  # fmt: skip
    assert alice.post(f"/api/ledgers/{other['id']}/transactions", json=body).status_code == 201
    answer = graphql(
        alice, f"{{ ledgers {{ id payees {{ {PAYEE_FIELDS} }} tags {{ name count }} }} }}"
    )
    assert "errors" not in answer, answer
    for ledger in answer["data"]["ledgers"]:
        base = f"/api/ledgers/{ledger['id']}"
        assert ledger["payees"] == _rest(alice, f"{base}/payees")["items"]
        assert ledger["tags"] == [
            {"name": t["name"], "count": t["count"]} for t in _rest(alice, f"{base}/tags")["items"]
        ]
    assert {len(ledger["payees"]) for ledger in answer["data"]["ledgers"]} == {1}


@pytest.mark.parametrize(
    ("rest_query", "graphql_arguments"),
    [("limit=201", "limit: 201"), ("limit=0", "limit: 0"), ("q=", 'q: ""')],
)
def test_a_bad_payee_list_argument_is_the_same_refusal(alice, rest_query, graphql_arguments):
    rest = alice.get(f"/api/ledgers/{alice.ledger_id}/payees?{rest_query}")
    assert rest.status_code == 422
    answer = graphql(
        alice, f"{{ ledger(id: {alice.ledger_id}) {{ payees({graphql_arguments}) {{ id }} }} }}"
    )
    assert graphql_codes(answer) == ["validation_error"]
    assert answer["errors"][0]["extensions"]["errors"] == rest.get_json()["errors"]


RULE_FIELDS = (
    "id position createdAt match { payee { contains equals regex } description { contains equals"
    " regex } amountMin amountMax type } set { categoryId payee tags }"
)


def _shown(value):
    """A GraphQL answer as REST shows it: only the conditions (and text tests) given."""
    if isinstance(value, dict):
        return {key: _shown(inner) for key, inner in value.items() if inner is not None}
    return value


def _rule(rule: dict) -> dict:
    """A rule with only the conditions given, its `set` whole (both doors show its nulls)."""
    return {**_shown({k: v for k, v in rule.items() if k != "set"}), "set": rule["set"]}


def test_rules_and_their_mutations_as_rest(alice, bob, seeded):
    ledger_id, base = seeded
    food = alice.get(f"{base}/categories").get_json()["items"][0]["id"]
    body = {"match": {"payee": {"regex": "^souq"}, "amountMin": "0.5", "type": "EXPENSE"},
            "set": {"categoryId": food, "tags": ["b", "A"]}}  # fmt: skip
    first = alice.post(f"{base}/rules", json=body).get_json()
    created = graphql(
        alice,
        f"mutation($l: Int, $i: RuleInput!) {{ createRule(ledgerId: $l, input: $i) {{ {RULE_FIELDS}"
        " ledger { id } } }",
        {"l": ledger_id, "i": {"position": 1, "match": {"description": {"contains": "day"},
                                                        "amountMax": "3"},
                               "set": {"payee": "Daily"}}},
    )["data"]["createRule"]  # fmt: skip
    assert created.pop("ledger") == {"id": ledger_id}
    assert created["match"]["amountMax"] == "3.000"  # the ledger's digits (KWD)
    rest = _rest(alice, f"{base}/rules")["items"]
    assert [rule["id"] for rule in rest] == [created["id"], first["id"]]
    assert _rule(created) == rest[0]
    listed = _ledger(alice, ledger_id, f"rules {{ {RULE_FIELDS} }}")["rules"]
    assert [_rule(rule) for rule in listed] == rest

    moved = graphql(
        alice,
        "mutation($l: Int, $id: Int!) { updateRule(ledgerId: $l, id: $id, input: {position: 1})"
        " { id position } }",
        {"l": ledger_id, "id": first["id"]},
    )["data"]["updateRule"]
    assert moved == {"id": first["id"], "position": 1}
    assert [r["position"] for r in _rest(alice, f"{base}/rules")["items"]] == [1, 2]

    # apply over every transaction of March: GraphQL changes the two it matches (days 1 and 2,
    # at most 3.000); REST's same call then finds nothing left to change.
    applied = graphql(
        alice,
        "mutation($l: Int, $id: Int!) { applyRule(ledgerId: $l, id: $id, month: 3, year: 2026,"
        " onlyUncategorized: false) { changed refused } }",
        {"l": ledger_id, "id": created["id"]},
    )["data"]["applyRule"]
    rest_applied = alice.post(
        f"{base}/rules/{created['id']}/apply?month=3&year=2026&onlyUncategorized=false"
    ).get_json()
    assert applied == {"changed": 2, "refused": 0}
    assert rest_applied == {"changed": 0, "refused": 0}

    # The same refusals, with the same fields.
    bad = {"match": {"payee": {"regex": "(a"}}, "set": {"payee": "X"}}
    rest_bad = alice.post(f"{base}/rules", json=bad).get_json()
    answer = graphql(
        alice,
        "mutation($l: Int, $i: RuleInput!) { createRule(ledgerId: $l, input: $i) { id } }",
        {"l": ledger_id, "i": bad},
    )
    assert graphql_codes(answer) == [rest_bad["code"]] == ["validation_error"]
    assert answer["errors"][0]["extensions"]["errors"] == rest_bad["errors"]
    assert list(rest_bad["errors"]) == ["match.payee.regex"]
    answer = graphql(bob, f"mutation {{ deleteRule(ledgerId: {ledger_id}, id: {first['id']}) }}")
    assert graphql_codes(answer) == ["not_found"]
    deleted = graphql(alice, f"mutation {{ deleteRule(ledgerId: {ledger_id}, id: {first['id']}) }}")
    assert deleted["data"]["deleteRule"] is True
    assert [r["id"] for r in _rest(alice, f"{base}/rules")["items"]] == [created["id"]]
