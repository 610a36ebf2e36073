"""GraphQL over recurring rules and webhooks: parity with REST (values, money strings, dates,
pagination cursors), the same codes on errors, the secret shown only by createWebhook and
rotateWebhookSecret, and the per-item fields refused below their lists.

The module has a database of its own (the recurring worker acts on every due rule in it)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.factories import category, graphql, graphql_codes, record, recurring, run_worker
from tests.helpers import module_database_fixtures

NOW = datetime(2030, 2, 20, 12, 0, tzinfo=UTC)
HOOK = "http://127.0.0.1:9/hook"  # never called: nothing delivers in this module
RULE_FIELDS = """id amount currency type categoryId category description frequency interval byWeekday
    byMonthDay startDate endDate count paused pausedReason nextDate failures retryAt lastError
    createdAt"""
HOOK_FIELDS = "id ledgerId url events description enabled disabledAt disabledReason createdAt"
DELIVERY_FIELDS = "id event status attempts responseStatus lastError nextAttemptAt createdAt"


database_url, app, database = module_database_fixtures()


def _default_ledger(user) -> int:
    return user.get("/api/ledgers").get_json()["items"][0]["id"]


def _ledger(user, selection, variables=None, declared="") -> dict:
    query = f"query($id: Int!{declared}) {{ ledger(id: $id) {{ {selection} }} }}"
    body = graphql(user, query, {"id": _default_ledger(user), **(variables or {})})
    assert "errors" not in body, body
    return body["data"]["ledger"]


def _rest(user, path):
    response = user.get(path)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- Recurring rules --------------------------------------------------------------------------


def test_rules_and_their_preview_read_as_rest(alice):
    food = category(alice)
    rule = recurring(alice, food, amount="1200.5", description="Rent", startDate="2029-01-31",
                     count=24)  # fmt: skip
    weekly = recurring(alice, food, frequency="weekly", byWeekday=["MO", "FR"],
                       startDate="2029-01-01", endDate="2029-12-31")  # fmt: skip
    got = _ledger(
        alice,
        f"""recurring {{ {RULE_FIELDS} }}
        recurringRule(id: $rule) {{ {RULE_FIELDS} preview(count: 4) ledger {{ id }} }}""",
        {"rule": rule["id"]},
        ", $rule: Int!",
    )
    assert got["recurring"] == _rest(alice, "/api/recurring")["items"] == [rule, weekly]
    one = got["recurringRule"]
    assert one.pop("ledger") == {"id": _default_ledger(alice)}
    preview = one.pop("preview")
    assert one == rule and rule["amount"] == "1200.50"
    rest_preview = _rest(alice, f"/api/recurring/{rule['id']}/preview?count=4")["items"]
    assert preview == [item["date"] for item in rest_preview] == [
        "2029-01-31", "2029-02-28", "2029-03-31", "2029-04-30",
    ]  # fmt: skip


def test_occurrences_follow_the_rest_cursor(alice, database):
    rule = recurring(alice, category(alice), frequency="daily", startDate="2030-02-01")
    run_worker(database, NOW)
    selection = """recurringRule(id: $rule) { occurrences(first: 7, after: $after) {
        edges { cursor node { date status reason transactionId budgetId } }
        pageInfo { hasNextPage endCursor } } }"""
    after, rest_cursor, pages = None, None, []
    while True:
        got = _ledger(alice, selection, {"rule": rule["id"], "after": after},
                      ", $rule: Int!, $after: String")["recurringRule"]["occurrences"]  # fmt: skip
        path = f"/api/recurring/{rule['id']}/occurrences?limit=7"
        rest = _rest(alice, path + (f"&cursor={rest_cursor}" if rest_cursor else ""))
        assert [edge["node"] for edge in got["edges"]] == rest["items"]
        assert got["pageInfo"]["hasNextPage"] == (rest["nextCursor"] is not None)
        pages.append(len(rest["items"]))
        if rest["nextCursor"] is None:
            break
        assert got["pageInfo"]["endCursor"] == rest["nextCursor"]
        after = rest_cursor = rest["nextCursor"]
    assert pages == [7, 7, 6]
    bad = graphql(
        alice,
        "query($id: Int!) { ledger(id: $id) { recurringRule(id: %d) {"
        ' occurrences(after: "garbage") { nodes { date } } } } }' % rule["id"],
        {"id": _default_ledger(alice)},
    )
    assert graphql_codes(bad) == ["validation_error"]


def test_create_update_delete_through_the_services(alice):
    food = category(alice)
    created = graphql(
        alice,
        """mutation($c: Int!) { createRecurring(input: {amount: "12.3", type: EXPENSE,
        categoryId: $c, frequency: monthly, byMonthDay: -1, startDate: "2029-01-15"}) {
        %s } }"""
        % RULE_FIELDS,
        {"c": food},
    )
    assert "errors" not in created, created
    rule = created["data"]["createRecurring"]
    assert rule == _rest(alice, f"/api/recurring/{rule['id']}")
    assert (rule["amount"], rule["byMonthDay"], rule["nextDate"]) == ("12.30", -1, "2029-01-31")
    updated = graphql(
        alice,
        "mutation($id: Int!) { updateRecurring(id: $id, input: {paused: true, endDate: null,"
        " count: 3}) { %s } }" % RULE_FIELDS,
        {"id": rule["id"]},
    )
    assert "errors" not in updated, updated
    assert updated["data"]["updateRecurring"] == _rest(alice, f"/api/recurring/{rule['id']}")
    assert updated["data"]["updateRecurring"]["paused"] is True
    deleted = graphql(alice, "mutation($id: Int!) { deleteRecurring(id: $id) }", {"id": rule["id"]})
    assert deleted == {"data": {"deleteRecurring": True}}
    assert alice.get(f"/api/recurring/{rule['id']}").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"count": 3, "endDate": "2030-01-01"}, "count"),
        ({"amount": "1.234"}, "amount"),
        ({"interval": 0}, "interval"),
        ({"frequency": "weekly", "byMonthDay": 3}, "byMonthDay"),
        ({"startDate": "1900-01-01"}, "startDate"),
    ],
)
def test_bad_rules_are_rests_validation_errors_and_store_nothing(alice, changes, field):
    rule = {"amount": "10", "type": "EXPENSE", "categoryId": category(alice),
            "frequency": "monthly", "startDate": "2029-01-01", **changes}  # fmt: skip
    document = "mutation($i: RecurringInput!) { createRecurring(input: $i) { id } }"
    body = graphql(alice, document, {"i": rule})
    rest = alice.post("/api/recurring", json=rule).get_json()
    assert graphql_codes(body) == [rest["code"]] == ["validation_error"]
    assert body["errors"][0]["extensions"]["errors"] == rest["errors"]
    assert field in rest["errors"], rest
    assert body["data"] == {"createRecurring": None}
    assert _rest(alice, "/api/recurring")["items"] == []


def test_another_ledgers_rule_is_not_found_as_in_rest(alice, bob):
    rule = recurring(alice, category(alice), startDate="2029-01-01")
    bob_ledger = _default_ledger(bob)
    for document in (
        "{ ledger(id: %d) { recurringRule(id: %d) { id } } }" % (bob_ledger, rule["id"]),
        'mutation { updateRecurring(id: %d, input: {description: "x"}) { id } }' % rule["id"],
        "mutation { deleteRecurring(id: %d) }" % rule["id"],
    ):
        assert graphql_codes(graphql(bob, document)) == ["not_found"], document
    assert bob.get(f"/api/recurring/{rule['id']}").get_json()["code"] == "not_found"
    assert _rest(alice, f"/api/recurring/{rule['id']}") == rule


# --- Webhooks ---------------------------------------------------------------------------------


def _create_hook(user, ledger_id=None) -> dict:
    body = graphql(
        user,
        "mutation($l: Int, $url: String!) { createWebhook(ledgerId: $l, input: {url: $url,"
        ' events: ["transaction.created"], description: "Bot"}) { %s secret } }' % HOOK_FIELDS,
        {"l": ledger_id, "url": HOOK},
    )
    assert "errors" not in body, body
    return body["data"]["createWebhook"]


def test_create_answers_the_secret_once_and_reads_as_rest(alice):
    hook = _create_hook(alice)
    secret = hook.pop("secret")
    assert secret.startswith("whsec_")
    assert hook == _rest(alice, f"/api/webhooks/{hook['id']}")
    got = _ledger(alice, f"webhooks {{ {HOOK_FIELDS} }} webhook(id: {hook['id']}) {{ id url }}")
    assert got["webhooks"] == _rest(alice, "/api/webhooks")["items"] == [hook]
    assert got["webhook"] == {"id": hook["id"], "url": HOOK}
    # Nothing else answers the secret: it is not a field of Webhook.
    body = graphql(alice, "{ ledger(id: %d) { webhooks { secret } } }" % _default_ledger(alice))
    assert graphql_codes(body) == ["validation_error"] and "data" not in body
    rotated = graphql(alice, "mutation { rotateWebhookSecret(id: %d) { id secret } }" % hook["id"])[
        "data"
    ]["rotateWebhookSecret"]
    assert rotated["id"] == hook["id"] and rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != secret


def test_update_delete_and_bad_input_as_rest(alice):
    hook = _create_hook(alice)
    updated = graphql(
        alice,
        'mutation { updateWebhook(id: %d, input: {enabled: false, description: "Off"}) { %s } }'
        % (hook["id"], HOOK_FIELDS),
    )["data"]["updateWebhook"]
    assert updated == _rest(alice, f"/api/webhooks/{hook['id']}")
    assert (updated["enabled"], updated["description"]) == (False, "Off")
    bad = graphql(
        alice,
        'mutation { createWebhook(input: {url: "%s", events: ["nope"]}) { id } }' % HOOK,
    )
    rest = alice.post("/api/webhooks", json={"url": HOOK, "events": ["nope"]}).get_json()
    assert graphql_codes(bad) == [rest["code"]] == ["validation_error"]
    assert bad["errors"][0]["extensions"]["errors"] == rest["errors"]
    empty = graphql(alice, "mutation { updateWebhook(id: %d, input: {}) { id } }" % hook["id"])
    assert graphql_codes(empty) == ["validation_error"]
    deleted = graphql(alice, "mutation { deleteWebhook(id: %d) }" % hook["id"])
    assert deleted == {"data": {"deleteWebhook": True}}
    assert _rest(alice, "/api/webhooks")["items"] == []


def test_deliveries_page_as_rest_and_redeliver(alice, conn):
    hook = _create_hook(alice)
    food = category(alice)
    record(alice, food), record(alice, food)
    selection = (
        """webhook(id: $hook) { deliveries(first: 1, after: $after) {
        edges { cursor node { %s } } pageInfo { hasNextPage endCursor } } }"""
        % DELIVERY_FIELDS
    )
    after, nodes = None, []
    while True:
        got = _ledger(alice, selection, {"hook": hook["id"], "after": after},
                      ", $hook: Int!, $after: String")["webhook"]["deliveries"]  # fmt: skip
        path = f"/api/webhooks/{hook['id']}/deliveries?limit=1"
        rest = _rest(alice, path + (f"&cursor={after}" if after else ""))
        assert [edge["node"] for edge in got["edges"]] == rest["items"]
        nodes += rest["items"]
        if rest["nextCursor"] is None:
            assert not got["pageInfo"]["hasNextPage"]
            break
        assert got["pageInfo"]["endCursor"] == rest["nextCursor"]
        after = rest["nextCursor"]
    assert len(nodes) == 2 and nodes[0]["id"] > nodes[1]["id"]
    conn.execute(
        "UPDATE webhook_deliveries SET next_attempt_at = now() + interval '1 hour' WHERE id = %s",
        (nodes[0]["id"],),
    )
    redelivered = graphql(
        alice,
        "mutation { redeliverWebhookDelivery(webhookId: %d, deliveryId: %d) { id nextAttemptAt } }"
        % (hook["id"], nodes[0]["id"]),
    )["data"]["redeliverWebhookDelivery"]
    assert redelivered["id"] == nodes[0]["id"]
    assert datetime.fromisoformat(redelivered["nextAttemptAt"]) <= datetime.now(UTC)
    other = _create_hook(alice)
    wrong = graphql(
        alice,
        "mutation { redeliverWebhookDelivery(webhookId: %d, deliveryId: %d) { id } }"
        % (other["id"], nodes[0]["id"]),
    )
    assert graphql_codes(wrong) == ["not_found"]


def test_another_ledgers_webhook_is_not_found_as_in_rest(alice, bob):
    hook = _create_hook(alice)
    record(alice, category(alice))
    [delivery] = _rest(alice, f"/api/webhooks/{hook['id']}/deliveries")["items"]
    bob_ledger = _default_ledger(bob)
    for document in (
        "{ ledger(id: %d) { webhook(id: %d) { id } } }" % (bob_ledger, hook["id"]),
        'mutation { updateWebhook(id: %d, input: {description: "x"}) { id } }' % hook["id"],
        "mutation { rotateWebhookSecret(id: %d) { secret } }" % hook["id"],
        "mutation { redeliverWebhookDelivery(webhookId: %d, deliveryId: %d) { id } }"
        % (hook["id"], delivery["id"]),
        "mutation { deleteWebhook(id: %d) }" % hook["id"],
    ):
        assert graphql_codes(graphql(bob, document)) == ["not_found"], document
    assert bob.get(f"/api/webhooks/{hook['id']}").get_json()["code"] == "not_found"
    hook.pop("secret")
    assert _rest(alice, f"/api/webhooks/{hook['id']}") == hook
