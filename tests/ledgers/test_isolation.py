"""Tenant isolation, generated from the app's route map: a new route cannot escape it.

Every route that takes an id is called, with every method it allows, with another user's id:
always 404 problem+json. Every list and report is read by a user while another user's data is
present: none of it shows. The owner's data is unchanged afterwards.

Every route under /api/ledgers/<id:ledger_id>/ is called, with every method, by each role in the
ledger: the owner and an editor may do everything, a viewer reads (2xx) and every write of theirs
is 403 with nothing changed, and a user who is not a member gets 404 everywhere.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from datetime import UTC, datetime

from expense_api.repositories import ledgers as ledger_rows
from tests.helpers import assert_problem, session_id_of

# A valid body per (method, id parameter), so a request reaches the ownership check instead of
# stopping at validation.
BODIES = {
    ("PATCH", "category_id"): {"name": "Taken over"},
    ("PATCH", "transaction_id"): {"amount": "1.00"},
    ("PATCH", "ledger_id"): {"name": "Taken over"},
    ("PATCH", "user_id"): {"role": "viewer"},  # /api/ledgers/<ledger_id>/members/<user_id>
    ("PATCH", "rule_id"): {"amount": "1.00"},
    ("PATCH", "webhook_id"): {"description": "Taken over"},
    ("PUT", "currency"): {"items": [{"date": "2026-03-02", "rate": "1.1"}]},
}
# Path arguments that name nobody's data: the docs page's and the dashboard's files (public).
NOT_IDS = {"asset", "file"}
ADMIN_PREFIX = "/api/admin/"
NOT_LISTS = {"/api/openapi.json", "/api/docs", "/api/docs/", "/healthz", "/readyz", "/api/auth/me"}
SECRET_AMOUNT = "777.77"
# A webhook endpoint that is never called (nothing delivers in these tests).
WEBHOOK = {"url": "http://127.0.0.1:9/hook", "events": ["transaction.created"]}


def _owner_world(owner) -> dict:
    """One of each resource for the owner, dated this month so default periods include it."""
    secret = f"secret-{uuid.uuid4().hex[:8]}"
    today = datetime.now(UTC).date()
    category = owner.post("/api/categories", json={"name": secret}).get_json()
    webhook = owner.post("/api/webhooks", json=WEBHOOK).get_json()
    budget = owner.post(
        "/api/budgets",
        json={
            "categoryId": category["id"],
            "amount": "100",
            "month": today.month,
            "year": today.year,
            "mode": "soft",
        },
    ).get_json()
    transaction = owner.post(
        "/api/transactions",
        json={"amount": SECRET_AMOUNT, "type": "EXPENSE", "categoryId": category["id"],
              "description": secret, "date": today.isoformat()},
    ).get_json()  # fmt: skip
    alert = transaction["alerts"][0]
    rule = owner.post(
        "/api/recurring",
        json={"amount": SECRET_AMOUNT, "type": "EXPENSE", "categoryId": category["id"],
              "description": secret, "frequency": "monthly", "startDate": "2099-01-01"},
    ).get_json()  # fmt: skip
    import_rule = owner.post(
        f"/api/ledgers/{owner.ledger_id}/rules",
        json={"match": {"payee": {"contains": secret}}, "set": {"payee": secret}},
    ).get_json()
    invitation = owner.post(
        f"/api/ledgers/{owner.ledger_id}/invitations",
        json={"email": f"invitee-{uuid.uuid4().hex[:8]}@example.com", "role": "viewer"},
    ).get_json()
    [delivery] = owner.get(f"/api/webhooks/{webhook['id']}/deliveries").get_json()["items"]
    statement = f"Date,Amount,Payee\n{today.isoformat()},-1.00,{secret}\n".encode()
    imported = owner.post(
        f"/api/ledgers/{owner.ledger_id}/imports",
        data={"file": (io.BytesIO(statement), "bank.csv")},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 201, imported.get_json()
    # A security event of the owner's account carrying the secret (GET /api/auth/events): a
    # login from a user agent named after it.
    login = owner.client.post(
        "/api/auth/login",
        json={"email": owner.data["email"], "password": owner.data["password"]},
        headers={"User-Agent": secret},
    )
    assert login.status_code == 200
    token = owner.post("/api/auth/tokens", json={"name": secret, "scope": "read"}).get_json()
    return {
        "secret": secret,
        "ids": {"category_id": category["id"], "budget_id": budget["id"],
                "transaction_id": transaction["id"], "alert_id": alert["id"],
                "ledger_id": owner.ledger_id, "user_id": owner.id,
                "invitation_id": invitation["id"], "rule_id": rule["id"],
                "import_rule_id": import_rule["id"],
                "webhook_id": webhook["id"], "delivery_id": delivery["id"],
                "import_id": imported.get_json()["id"],
                "session_id": session_id_of(owner.tokens["accessToken"]),
                "token_id": token["id"],
                "currency": "EUR"},
    }  # fmt: skip


def _snapshot(owner, world) -> dict:
    ids = world["ids"]
    paths = [
        f"/api/categories/{ids['category_id']}", f"/api/budgets/{ids['budget_id']}",
        f"/api/transactions/{ids['transaction_id']}", "/api/notifications", "/api/categories",
        "/api/budgets", "/api/transactions", "/api/summary", "/api/ledgers", "/api/recurring",
        f"/api/ledgers/{ids['ledger_id']}", f"/api/ledgers/{ids['ledger_id']}/members",
        "/api/auth/tokens",
    ]  # fmt: skip
    return {path: owner.get(path).get_json() for path in paths}


def _routes(app):
    for rule in app.url_map.iter_rules():
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        yield rule, methods


def test_every_route_with_an_id_answers_404_for_another_users_id(app, accounts):
    owner, intruder = accounts.new_user(name="Owner"), accounts.new_user(name="Intruder")
    world = _owner_world(owner)
    before = _snapshot(owner, world)
    adapter = app.url_map.bind("localhost")
    checked, failures = 0, []
    for rule, methods in _routes(app):
        if not rule.arguments or rule.arguments <= NOT_IDS or rule.rule.startswith(ADMIN_PREFIX):
            continue
        unknown = rule.arguments - world["ids"].keys()
        assert not unknown, f"{rule.rule}: add a resource for {unknown} to _owner_world"
        values = {name: world["ids"][name] for name in rule.arguments}
        for method in methods:
            path = adapter.build(rule.endpoint, values, method=method)
            last = re.findall(r"<(?:\w+:)?(\w+)>", rule.rule)[-1]  # the resource's own id
            body = BODIES.get((method, last))
            response = (
                intruder.request(method, path, json=body)
                if body
                else intruder.request(method, path)
            )
            checked += 1
            if response.status_code != 404 or response.mimetype != "application/problem+json":
                body = response.get_data(as_text=True)[:200]
                failures.append(f"{method} {path}: {response.status_code} {body}")
    assert not failures, "\n".join(failures)
    assert checked >= 8  # get/patch/delete of categories and transactions, budgets, alert read
    assert _snapshot(owner, world) == before


def test_no_list_or_report_shows_another_users_data(app, accounts):
    owner, intruder = accounts.new_user(name="Owner"), accounts.new_user(name="Intruder")
    world = _owner_world(owner)
    before = _snapshot(owner, world)
    listed = 0
    for rule, methods in _routes(app):
        if (
            rule.arguments
            or "GET" not in methods
            or rule.rule in NOT_LISTS
            or rule.rule.startswith(ADMIN_PREFIX)
            or "static" in rule.rule
        ):
            continue
        response = intruder.get(rule.rule)
        assert response.status_code == 200, (rule.rule, response.get_json())
        text = json.dumps(response.get_json())
        assert world["secret"] not in text and SECRET_AMOUNT not in text, (rule.rule, text[:300])
        owner_view = json.dumps(owner.get(rule.rule).get_json())
        listed += 1
        # The same route shows the owner their own data (so the check above can fail).
        if rule.rule in ("/api/categories", "/api/transactions", "/api/category-breakdown",
                         "/api/auth/tokens", "/api/auth/events"):  # fmt: skip
            assert world["secret"] in owner_view, rule.rule
        if rule.rule in ("/api/summary", "/api/transactions", "/api/category-breakdown"):
            assert SECRET_AMOUNT in owner_view, rule.rule
    assert listed >= 8
    assert _snapshot(owner, world) == before


def test_ids_of_nonexistent_rows_are_404_too(alice):
    for path in (
        "/api/categories/999999999",
        "/api/transactions/999999999",
        "/api/budgets/999999999",
    ):
        assert_problem(alice.get(path), 404, "not_found")
    assert_problem(alice.get("/api/categories/99999999999999999999"), 404)  # beyond bigint
    assert_problem(alice.get("/api/categories/0"), 404)
    assert_problem(alice.get("/api/categories/-1"), 404)


# --- Roles on ledger paths ----------------------------------------------------------------------

LEDGER_PREFIX = "/api/ledgers/<id:ledger_id>"
ROLES = ("owner", "editor", "viewer", "non-member", "admin non-member", "disabled editor")
# POSTs that only read: marking an alert read is each member's own business (a viewer may).
READS_BY_POST = {LEDGER_PREFIX + "/notifications/<id:alert_id>/read"}
# (method, rule) of operations that need the MANAGE action (the ledger itself, its members, its
# invitations): owners only, editors and viewers get 403 (reads too: listing invitations).
OWNER_ONLY = {
    ("PATCH", LEDGER_PREFIX),
    ("PATCH", LEDGER_PREFIX + "/members/<id:user_id>"),
    ("DELETE", LEDGER_PREFIX + "/members/<id:user_id>"),
    ("GET", LEDGER_PREFIX + "/invitations"),
    ("POST", LEDGER_PREFIX + "/invitations"),
    ("DELETE", LEDGER_PREFIX + "/invitations/<id:invitation_id>"),
    *(
        (method, LEDGER_PREFIX + "/webhooks" + path)
        for method, path in (
            ("GET", ""),
            ("POST", ""),
            ("GET", "/<id:webhook_id>"),
            ("PATCH", "/<id:webhook_id>"),
            ("DELETE", "/<id:webhook_id>"),
            ("POST", "/<id:webhook_id>/rotate-secret"),
            ("GET", "/<id:webhook_id>/deliveries"),
            ("POST", "/<id:webhook_id>/deliveries/<id:delivery_id>/redeliver"),
        )
    ),
}
# Deleting the ledger itself would take every other operation's rows along, and the matrix's
# ledger is its owner's default one (409 ledger_is_default); tests/ledgers/test_ledger_routes.py checks
# each role's answer to it on a ledger of its own.
NOT_IN_MATRIX = {("DELETE", LEDGER_PREFIX)}


def _ledger_world(owner, target, conn) -> dict:
    """_owner_world plus a category nothing uses (the one the id routes get, so that deleting it
    succeeds for the roles allowed to), and a member (`target`, an editor) whom the member routes
    change or remove."""
    world = _owner_world(owner)
    spare = owner.post("/api/categories", json={"name": f"spare-{uuid.uuid4().hex[:8]}"})
    world["used_category_id"] = world["ids"]["category_id"]
    world["ids"]["category_id"] = spare.get_json()["id"]
    conn.execute(
        "DELETE FROM ledger_members WHERE ledger_id = %s AND user_id = %s",
        (owner.ledger_id, target.id),
    )
    _member_of(conn, owner.ledger_id, target, "editor")
    world["ids"]["user_id"] = target.id
    return world


def _write_body(method: str, rule: str, world: dict):
    """A valid body for a write on a ledger path (None: it takes none). A write that needs a
    body and has none here is 422 for the roles allowed to write, and the matrix fails."""
    today = datetime.now(UTC).date()
    used = world["used_category_id"]
    return {
        ("POST", "/categories"): {"name": f"new-{uuid.uuid4().hex[:8]}"},
        ("PATCH", "/categories/<id:category_id>"): {"name": f"renamed-{uuid.uuid4().hex[:8]}"},
        ("POST", "/transactions"): {"amount": "1.00", "type": "EXPENSE", "categoryId": used,
                                    "date": today.isoformat()},
        ("PATCH", "/transactions/<id:transaction_id>"): {"amount": "2.00"},
        ("POST", "/budgets"): {"categoryId": used, "amount": "200", "month": today.month,
                               "year": today.year, "mode": "soft"},
        ("PATCH", ""): {"name": f"renamed-{uuid.uuid4().hex[:8]}"},
        ("PATCH", "/members/<id:user_id>"): {"role": "viewer"},
        ("POST", "/invitations"): {"email": f"new-{uuid.uuid4().hex[:8]}@example.com",
                                   "role": "editor"},
        ("POST", "/recurring"): {"amount": "1.00", "type": "EXPENSE", "categoryId": used,
                                 "frequency": "weekly", "startDate": "2099-01-01"},
        ("PATCH", "/recurring/<id:rule_id>"): {"amount": "3.00"},
        ("POST", "/webhooks"): WEBHOOK,
        ("PATCH", "/webhooks/<id:webhook_id>"): {"description": "changed"},
        ("POST", "/rules"): {"match": {"type": "EXPENSE"}, "set": {"payee": "Anyone"}},
        ("PATCH", "/rules/<id:import_rule_id>"): {"position": 1},
        ("PUT", "/rates/<currency:currency>"): {"items": [{"date": today.isoformat(),
                                                          "rate": "1.1"}]},
        ("POST", "/budgets/copy"): {"from": {"month": 1, "year": 2026},
                                    "to": {"month": 2, "year": 2026}},
    }.get((method, rule.removeprefix(LEDGER_PREFIX)))  # fmt: skip


# Operations that need more than a JSON body: a query parameter, a file upload, a preview.
QUERIES = {("GET", "/export"): "?format=json"}
UPLOAD_IMPORT = ("POST", "/imports")
UPLOAD_RATES = ("POST", "/rates/import")
DISCARD_IMPORT = ("DELETE", "/imports/<id:import_id>")


def _statement_form() -> dict:
    statement = f"Date,Amount,Payee\n{datetime.now(UTC).date().isoformat()},-1.00,Shop\n"
    return {"file": (io.BytesIO(statement.encode()), "bank.csv")}


def _preview(owner) -> int:
    """A new import in preview in the owner's ledger."""
    response = owner.post(
        f"/api/ledgers/{owner.ledger_id}/imports",
        data=_statement_form(),
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _ledger_operations(app) -> list[tuple]:
    """(rule, method) of every route with a ledger in its path; deletions last, so that each
    role's other operations find the rows they name."""
    operations = [
        (rule, method)
        for rule, methods in _routes(app)
        if "ledger_id" in rule.arguments
        for method in methods
        if (method, rule.rule) not in NOT_IN_MATRIX
    ]
    return sorted(operations, key=lambda op: (op[1] == "DELETE", op[0].rule, op[1]))


def _expected(role: str, method: str, rule: str) -> str:
    if role in ("non-member", "admin non-member"):
        return "404"
    if role == "disabled editor":
        return "401"
    if (method, rule) in OWNER_ONLY:
        return "2xx" if role == "owner" else "403"
    if method == "GET" or rule in READS_BY_POST or role == "owner":
        return "2xx"
    if role == "editor" and (method, rule) not in OWNER_ONLY:
        return "2xx"
    return "403"


def _member_of(conn, ledger_id: int, user, role: str) -> None:
    ledger_rows.add_member(conn, ledger_id=ledger_id, user_id=user.id, role=role)


def _ledger_snapshot(owner, world) -> dict:
    """What the ledger holds, read through its ledger path by its owner."""
    prefix = f"/api/ledgers/{world['ids']['ledger_id']}"
    return {
        path: owner.get(prefix + path).get_json()
        for path in (
            "/categories",
            "/transactions",
            "/budgets",
            "/notifications",
            "/summary",
            "/recurring",
            "/rules",
            "/rates",
        )
    }


def test_every_ledger_path_answers_each_role_as_the_contract_says(app, accounts, conn):
    owner = accounts.new_user(name="Owner")
    users = {
        "owner": owner,
        "editor": accounts.new_user(name="Editor"),
        "viewer": accounts.new_user(name="Viewer"),
        "non-member": accounts.new_user(name="Stranger"),
        "admin non-member": accounts.new_user(name="Admin"),
        "disabled editor": accounts.new_user(name="Disabled"),
    }
    target = accounts.new_user(name="Target")
    _member_of(conn, owner.ledger_id, users["editor"], "editor")
    _member_of(conn, owner.ledger_id, users["viewer"], "viewer")
    _member_of(conn, owner.ledger_id, users["disabled editor"], "editor")
    conn.execute("UPDATE users SET role = 'admin' WHERE id = %s", (users["admin non-member"].id,))
    conn.execute(
        "UPDATE users SET disabled_at = now() WHERE id = %s", (users["disabled editor"].id,)
    )
    adapter = app.url_map.bind("localhost")
    operations = _ledger_operations(app)
    failures, checked = [], set()
    for role in ROLES:
        world = _ledger_world(owner, target, conn)  # afresh: deletions must find their rows
        before = _ledger_snapshot(owner, world)
        for rule, method in operations:
            unknown = rule.arguments - world["ids"].keys()
            assert not unknown, f"{rule.rule}: add a resource for {unknown} to _owner_world"
            values = {name: world["ids"][name] for name in rule.arguments}
            if (method, rule.rule.removeprefix(LEDGER_PREFIX)) == DISCARD_IMPORT:
                values["import_id"] = _preview(owner)  # only a preview can be discarded
            path = adapter.build(rule.endpoint, values, method=method)
            path += QUERIES.get((method, rule.rule.removeprefix(LEDGER_PREFIX)), "")
            body = _write_body(method, rule.rule, world)
            kwargs = {"json": body} if body is not None else {}
            if (method, rule.rule.removeprefix(LEDGER_PREFIX)) == UPLOAD_IMPORT:
                kwargs = {"data": _statement_form(), "content_type": "multipart/form-data"}
            if (method, rule.rule.removeprefix(LEDGER_PREFIX)) == UPLOAD_RATES:
                rates = io.BytesIO(b"Date,USD,GBP\n2026-03-02,1.08,0.84\n")
                kwargs = {"data": {"file": (rates, "eurofxref-hist.csv")},
                          "content_type": "multipart/form-data"}  # fmt: skip
            response = users[role].request(method, path, **kwargs)
            expected = _expected(role, method, rule.rule)
            checked.add((rule.rule, method, role))
            status = response.status_code
            ok = 200 <= status < 300 if expected == "2xx" else str(status) == expected
            if ok and expected != "2xx":
                code = {"404": "not_found", "403": "forbidden", "401": "token_revoked"}[expected]
                ok = response.mimetype == "application/problem+json" and (
                    response.get_json()["code"] == code
                )
            if not ok:
                text = response.get_data(as_text=True)[:200]
                failures.append(f"{role} {method} {path}: {status}, want {expected}: {text}")
            # A streamed answer (an export) left open keeps its request's context, and so its
            # connection in its READ ONLY snapshot, as the test thread's: the next request would
            # run in it (under gunicorn the server reads and closes every answer first).
            response.close()
        if role != "owner" and role != "editor":
            assert _ledger_snapshot(owner, world) == before, role
    assert not failures, "\n".join(failures)
    ledger_rules = {rule for rule, _method, _role in checked}
    # Every resource path of v1 is there (categories, transactions, budgets, notifications: 2
    # each; 4 reports), each with every role.
    assert len(ledger_rules) >= 12 and len(checked) == len(ROLES) * len(operations), ledger_rules
