"""The ledger-role matrix over every GraphQL field and mutation that takes an id: owners do
everything, editors write contents, viewers read, and a non-member (an admin too) finds nothing
(not_found); a disabled account's token is 401. A refusal changes nothing."""

from __future__ import annotations

import uuid

import pytest

from expense_api.repositories import ledgers as ledger_rows
from tests.factories import graphql_codes

ROLES = ("owner", "editor", "viewer", "non-member", "admin non-member", "disabled editor")
RANK = {"read": 0, "write": 1, "manage": 2}
ROLE_RANK = {"viewer": 0, "editor": 1, "owner": 2}

READ_LEDGER = "{ ledger(id: $ledger) { %s } }"
HOOK = "http://127.0.0.1:9/hook"  # never called: nothing delivers here
# name -> (what it needs, GraphQL document with $ledger and the world's ids as {placeholders})
OPERATIONS = {
    "ledger": ("read", READ_LEDGER % "id name"),
    "ledger.category": ("read", READ_LEDGER % "category(id: {category}) { id }"),
    "ledger.transaction": ("read", READ_LEDGER % "transaction(id: {transaction}) { id }"),
    "ledger.budget": ("read", READ_LEDGER % "budget(id: {budget}) { id }"),
    "ledger.categories": ("read", READ_LEDGER % "categories { id }"),
    "ledger.transactions": ("read", READ_LEDGER % "transactions(filter: {year: 2026, month: 3}) { nodes { id } }"),
    "ledger.budgets": ("read", READ_LEDGER % "budgets { id }"),
    "ledger.summary": ("read", READ_LEDGER % "summary(year: 2026, month: 3) { totalExpense }"),
    "ledger.members": ("read", READ_LEDGER % "members { userId }"),
    "ledger.changes": ("read", READ_LEDGER % "changes(first: 5) { nodes { seq entity } }"),
    "ledger.invitations": ("manage", READ_LEDGER % "invitations { id }"),
    "notifications": ("read", "{ notifications(ledgerId: $ledger) { nodes { id } } }"),
    "markNotificationRead": ("read", "mutation { markNotificationRead(ledgerId: $ledger, id: {alert}) { id } }"),
    "createCategory": ("write", 'mutation { createCategory(ledgerId: $ledger, input: {name: "New"}) { id } }'),
    "updateCategory": ("write", 'mutation { updateCategory(ledgerId: $ledger, id: {spare}, input: {name: "Renamed"}) { id } }'),
    "deleteCategory": ("write", "mutation { deleteCategory(ledgerId: $ledger, id: {spare}) }"),
    "createTransaction": ("write", 'mutation { createTransaction(ledgerId: $ledger, input: {amount: "1", type: INCOME, categoryId: {category}, date: "2026-03-02"}) { transaction { id } } }'),
    "updateTransaction": ("write", 'mutation { updateTransaction(ledgerId: $ledger, id: {transaction}, input: {description: "x"}) { transaction { id } } }'),
    "deleteTransaction": ("write", "mutation { deleteTransaction(ledgerId: $ledger, id: {transaction}) }"),
    "upsertBudget": ("write", 'mutation { upsertBudget(ledgerId: $ledger, input: {amount: "9", month: 4, year: 2026}) { budget { id } } }'),
    "deleteBudget": ("write", "mutation { deleteBudget(ledgerId: $ledger, id: {budget}) }"),
    "updateLedger": ("manage", 'mutation { updateLedger(id: $ledger, input: {name: "Taken"}) { id } }'),
    "deleteLedger": ("manage", "mutation { deleteLedger(id: $ledger) }"),
    "updateMember": ("manage", "mutation { updateMember(ledgerId: $ledger, userId: {target}, input: {role: editor}) { userId } }"),
    "removeMember": ("manage", "mutation { removeMember(ledgerId: $ledger, userId: {target}) }"),
    "createInvitation": ("manage", 'mutation { createInvitation(ledgerId: $ledger, input: {email: "new@example.com", role: viewer}) { id } }'),
    "revokeInvitation": ("manage", "mutation { revokeInvitation(ledgerId: $ledger, id: {invitation}) }"),
    "ledger.recurring": ("read", READ_LEDGER % "recurring { id }"),
    "ledger.recurringRule": ("read", READ_LEDGER % "recurringRule(id: {rule}) { id occurrences { nodes { date } } preview(count: 2) }"),
    "createRecurring": ("write", 'mutation { createRecurring(ledgerId: $ledger, input: {amount: "1", type: EXPENSE, categoryId: {category}, frequency: monthly, startDate: "2029-01-01"}) { id } }'),
    "updateRecurring": ("write", 'mutation { updateRecurring(ledgerId: $ledger, id: {rule}, input: {description: "x"}) { id } }'),
    "deleteRecurring": ("write", "mutation { deleteRecurring(ledgerId: $ledger, id: {rule}) }"),
    "ledger.webhooks": ("manage", READ_LEDGER % "webhooks { id }"),
    "ledger.webhook": ("manage", READ_LEDGER % "webhook(id: {hook}) { id deliveries { nodes { id } } }"),
    "createWebhook": ("manage", 'mutation { createWebhook(ledgerId: $ledger, input: {url: "%s", events: ["budget.updated"]}) { id } }' % HOOK),
    "updateWebhook": ("manage", 'mutation { updateWebhook(ledgerId: $ledger, id: {hook}, input: {description: "x"}) { id } }'),
    "deleteWebhook": ("manage", "mutation { deleteWebhook(ledgerId: $ledger, id: {hook}) }"),
    "rotateWebhookSecret": ("manage", "mutation { rotateWebhookSecret(ledgerId: $ledger, id: {hook}) { id } }"),
    "redeliverWebhookDelivery": ("manage", "mutation { redeliverWebhookDelivery(ledgerId: $ledger, webhookId: {hook}, deliveryId: {delivery}) { id } }"),
}  # fmt: skip


def _expected(role: str, needs: str) -> str:
    if role in ("non-member", "admin non-member"):
        return "not_found"
    if role == "disabled editor":
        return "401"
    return "ok" if ROLE_RANK[role] >= RANK[needs] else "forbidden"


def _world(owner, members, target, conn, *, invitation: bool) -> dict:
    """A shared ledger (not anyone's default) with one of each thing in it; the worlds made
    before it are deleted (one person belongs to at most MAX_LEDGERS_PER_USER ledgers)."""
    for old in owner.get("/api/ledgers").get_json()["items"]:
        if old["name"] == "Shared":
            assert owner.delete(f"/api/ledgers/{old['id']}").status_code == 204
    ledger = owner.post("/api/ledgers", json={"name": "Shared"}).get_json()["id"]
    for role, user in members.items():
        ledger_rows.add_member(conn, ledger_id=ledger, user_id=user.id, role=role.split()[-1])
    ledger_rows.add_member(conn, ledger_id=ledger, user_id=target.id, role="viewer")
    base = f"/api/ledgers/{ledger}"
    category = owner.post(f"{base}/categories", json={"name": "Food"}).get_json()["id"]
    spare = owner.post(f"{base}/categories", json={"name": "Spare"}).get_json()["id"]
    budget = owner.post(f"{base}/budgets", json={"categoryId": category, "amount": "5",
                                                  "month": 3, "year": 2026, "mode": "soft"})  # fmt: skip
    rule = owner.post(f"{base}/recurring", json={"amount": "2", "type": "EXPENSE",
        "categoryId": category, "frequency": "monthly", "startDate": "2029-01-01"})  # fmt: skip
    hook = owner.post(f"{base}/webhooks", json={"url": HOOK, "events": ["transaction.created"]})
    transaction = owner.post(f"{base}/transactions", json={
        "amount": "5", "type": "EXPENSE", "categoryId": category, "date": "2026-03-01"}).get_json()  # fmt: skip
    if invitation:  # only where needed: invitations are rate-limited per owner
        invitation = owner.post(f"{base}/invitations", json={
            "email": f"i-{uuid.uuid4().hex[:8]}@example.com", "role": "viewer"}).get_json()  # fmt: skip
    return {"ledger": ledger, "category": category, "spare": spare,
            "budget": budget.get_json()["id"], "transaction": transaction["id"],
            "alert": transaction["alerts"][0]["id"], "target": target.id,
            "invitation": invitation["id"] if invitation else None,
            "rule": rule.get_json()["id"], "hook": hook.get_json()["id"],
            "delivery": _delivery(owner, base, hook.get_json()["id"])}  # fmt: skip


def _delivery(owner, base: str, hook: int) -> int:
    """The delivery of the world's transaction.created event."""
    [delivery] = owner.get(f"{base}/webhooks/{hook}/deliveries").get_json()["items"]
    return delivery["id"]


def _snapshot(owner, ledger: int) -> dict:
    base = f"/api/ledgers/{ledger}"
    return {path: owner.get(base + path).get_json()
            for path in ("", "/categories", "/transactions?year=2026&month=3", "/budgets",
                         "/members", "/invitations", "/recurring", "/webhooks")}  # fmt: skip


@pytest.fixture
def users(accounts, conn):
    """One user per role of ROLES (the admin non-member is a system admin)."""
    cast = {role: accounts.new_user(name=role.title()) for role in ROLES}
    conn.execute("UPDATE users SET role = 'admin' WHERE id = %s", (cast["admin non-member"].id,))
    return cast


@pytest.fixture
def target(accounts):
    """The user whose ledger the roles act on."""
    return accounts.new_user(name="Target")


def test_every_id_taking_field_answers_each_role_as_the_contract_says(users, target, conn):
    owner = users["owner"]
    members = {role: users[role] for role in ("editor", "viewer", "disabled editor")}
    disabled = users["disabled editor"]
    failures = []
    for name, (needs, template) in OPERATIONS.items():
        world = None
        for role in ROLES:
            if world is None:  # afresh after a success (a deletion must find its rows)
                world = _world(owner, members, target, conn, invitation="{invitation}" in template)
            if role == "disabled editor":
                conn.execute("UPDATE users SET disabled_at = now() WHERE id = %s", (disabled.id,))
            document = template
            for key, value in world.items():
                document = document.replace("{%s}" % key, str(value))
            document = document.replace("$ledger", str(world["ledger"]))
            before = _snapshot(owner, world["ledger"])
            response = users[role].post("/api/graphql", json={"query": document})
            conn.execute("UPDATE users SET disabled_at = NULL WHERE id = %s", (disabled.id,))
            expected = _expected(role, needs)
            if expected == "401":
                got = str(response.status_code)
            else:
                body = response.get_json()
                codes = graphql_codes(body)
                got = codes[0] if codes else "ok"
            if got == "ok":
                world = None
            if got != expected:
                failures.append(f"{name} as {role}: {got}, expected {expected}")
            elif expected != "ok" and _snapshot(owner, world["ledger"]) != before:
                failures.append(f"{name} as {role}: refused, but something changed")
    assert not failures, "\n".join(failures)
