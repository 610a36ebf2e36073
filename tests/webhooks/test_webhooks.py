"""Webhook endpoints through the API (docs/WEBHOOKS.md): owner only, secrets shown once
and stored encrypted, URL rules (the SSRF matrix, with an injected resolver: no real name is
ever resolved), limits, the outbox written in the change's own transaction, and payloads equal
to the API's own answers. Delivery over HTTP: tests/webhooks/test_webhook_delivery.py."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from expense_api.api.app import create_app
from expense_api.services import housekeeping
from expense_api.services.webhooks import delivery as webhook_delivery
from expense_api.services.webhooks import endpoints as webhooks
from expense_api.services.webhooks import network, signing
from tests.factories import category, graphql, graphql_codes, ledger, member, record, save
from tests.helpers import assert_problem, make_settings

HOOK = "http://127.0.0.1:9/hook"  # never called here: nothing delivers in this module


def create(user, prefix="/api", **body):
    body.setdefault("url", HOOK)
    body.setdefault("events", ["transaction.created"])
    return user.post(f"{prefix}/webhooks", json=body)


def outbox(conn, ledger_id) -> list[tuple]:
    """(event type, data, deliveries) of the ledger's recorded events, oldest first."""
    return conn.execute(
        "SELECT e.type, e.data, count(d.id) FROM webhook_events e"
        " LEFT JOIN webhook_deliveries d ON d.ledger_id = e.ledger_id AND d.event_id = e.id"
        " WHERE e.ledger_id = %s GROUP BY e.ledger_id, e.id ORDER BY e.id",
        (ledger_id,),
    ).fetchall()


@pytest.fixture
def no_dns(monkeypatch):
    """Names resolve through this table only; any other name fails the test."""
    table = {"hooks.example.com": ["93.184.216.34"], "internal.example": ["10.0.0.5"]}

    def resolve(host, port):
        assert host in table, f"the test tried to resolve {host}"
        return table[host]

    monkeypatch.setattr(network, "resolver", resolve)
    return table


# --- Endpoints --------------------------------------------------------------------------------


def test_create_answers_the_secret_once_and_stores_it_encrypted(alice, conn, app):
    response = create(alice, events=["alert.threshold", "alert.limit"], description="Chat bot")
    assert response.status_code == 201, response.get_json()
    hook = response.get_json()
    assert set(hook) == {"id", "ledgerId", "url", "events", "description", "enabled",
                         "disabledAt", "disabledReason", "createdAt", "secret"}  # fmt: skip
    assert (hook["url"], hook["events"], hook["enabled"]) == (
        HOOK,
        ["alert.threshold", "alert.limit"],
        True,
    )
    assert hook["secret"].startswith("whsec_")
    assert len(base64.b64decode(hook["secret"].removeprefix("whsec_"))) == 32
    shown = alice.get(f"/api/webhooks/{hook['id']}").get_json()
    assert "secret" not in shown and shown == {k: v for k, v in hook.items() if k != "secret"}
    assert alice.get("/api/webhooks").get_json()["items"] == [shown]
    # The database holds the secret encrypted only: a dump alone cannot sign.
    [stored] = conn.execute("SELECT secret FROM webhook_endpoints WHERE id = %s", (hook["id"],))
    secret_bytes = base64.b64decode(hook["secret"].removeprefix("whsec_"))
    assert hook["secret"].encode() not in bytes(stored[0]) and secret_bytes not in bytes(stored[0])
    key = app.config["SETTINGS"].webhook_secrets_key
    assert signing.decrypt(key, stored[0]) == hook["secret"]
    with pytest.raises(ValueError, match="not configured"):
        signing.decrypt(signing.new_key(), stored[0])


def test_the_ledger_path_acts_in_that_ledger(alice, bob, conn):
    shared = ledger(conn, alice)
    hook = create(alice, prefix=f"/api/ledgers/{shared}").get_json()
    assert hook["ledgerId"] == shared
    assert alice.get("/api/webhooks").get_json()["items"] == []  # the default ledger has none
    assert_problem(alice.get(f"/api/webhooks/{hook['id']}"), 404, "not_found")
    listed = alice.get(f"/api/ledgers/{shared}/webhooks").get_json()["items"]
    assert [item["id"] for item in listed] == [hook["id"]]
    assert_problem(bob.get(f"/api/ledgers/{shared}/webhooks"), 404, "not_found")


def test_editors_and_viewers_get_403_other_ledgers_404_and_tokens_401(alice, bob, accounts, conn):
    shared = ledger(conn, alice)
    hook = create(alice, prefix=f"/api/ledgers/{shared}").get_json()
    carol = accounts.new_user(name="Carol")
    member(conn, shared, bob, "editor")
    member(conn, shared, carol, "viewer")
    path = f"/api/ledgers/{shared}/webhooks"
    for user in (bob, carol):
        assert_problem(user.get(path), 403, "forbidden")
        assert_problem(create(user, prefix=f"/api/ledgers/{shared}"), 403, "forbidden")
        assert_problem(user.get(f"{path}/{hook['id']}/deliveries"), 403, "forbidden")
        assert_problem(user.post(f"{path}/{hook['id']}/rotate-secret"), 403, "forbidden")
    # Another ledger's webhook from the caller's own ledger: 404, whatever the operation.
    for method in ("GET", "PATCH", "DELETE"):
        assert_problem(bob.request(method, f"/api/webhooks/{hook['id']}",
                                   json={"description": "x"} if method == "PATCH" else None),
                       404, "not_found")  # fmt: skip
    assert_problem(bob.post(f"/api/webhooks/{hook['id']}/rotate-secret"), 404, "not_found")
    assert_problem(bob.get(f"/api/webhooks/{hook['id']}/deliveries"), 404, "not_found")
    anonymous = alice.client
    assert_problem(anonymous.get("/api/webhooks"), 401)
    assert_problem(anonymous.post("/api/webhooks", json={"url": HOOK, "events": []}), 401)
    bad = {"Authorization": "Bearer not-a-token"}
    assert_problem(anonymous.get(f"/api/webhooks/{hook['id']}", headers=bad), 401)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["transaction.created"]}, "url"),
        ({"url": HOOK}, "events"),
        ({"url": HOOK, "events": []}, "events"),
        ({"url": HOOK, "events": ["budget.deleted"]}, "events"),
        ({"url": HOOK, "events": "alert.limit"}, "events"),
        ({"url": "ftp://127.0.0.1/hook", "events": ["alert.limit"]}, "url"),
        ({"url": "http://user:pw@127.0.0.1/hook", "events": ["alert.limit"]}, "url"),
        ({"url": "http://127.0.0.1/hook#part", "events": ["alert.limit"]}, "url"),
        ({"url": "not a url", "events": ["alert.limit"]}, "url"),
        ({"url": "http://127.0.0.1/a\tb", "events": ["alert.limit"]}, "url"),
        ({"url": "https://unknown.example/", "events": ["alert.limit"]}, "url"),
        ({"url": "http://127.0.0.1:99999/", "events": ["alert.limit"]}, "url"),
        ({"url": "http://127.0.0.1/" + "a" * 2048, "events": ["alert.limit"]}, "url"),
        ({"url": HOOK, "events": ["alert.limit"], "description": "d" * 501}, "description"),
        ({"url": HOOK, "events": ["alert.limit"], "secret": "whsec_mine"}, "secret"),
    ],
)
def test_invalid_bodies_are_422_and_create_nothing(alice, body, field):
    body = assert_problem(alice.post("/api/webhooks", json=body), 422, "validation_error")
    assert any(key.split(".")[0] == field for key in body["errors"]), body
    assert alice.get("/api/webhooks").get_json()["items"] == []


def test_a_name_that_does_not_resolve_is_422(alice, no_dns, monkeypatch):
    monkeypatch.setitem(no_dns, "nowhere.example", [])
    response = create(alice, url="https://nowhere.example/hook")
    assert "does not resolve" in assert_problem(response, 422)["errors"]["url"][0]


def test_at_most_ten_endpoints_per_ledger(alice):
    for n in range(webhooks.MAX_PER_LEDGER):
        assert create(alice, description=f"n{n}").status_code == 201
    assert_problem(create(alice), 409, "too_many_webhooks")
    assert len(alice.get("/api/webhooks").get_json()["items"]) == webhooks.MAX_PER_LEDGER


def test_patch_changes_what_is_given_and_checks_a_new_url(alice):
    hook = create(alice, description="before").get_json()
    path = f"/api/webhooks/{hook['id']}"
    changed = alice.patch(path, json={"events": ["budget.updated", "budget.updated"]})
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["events"], changed.get_json()["description"]) == (
        ["budget.updated"],
        "before",
    )
    assert_problem(alice.patch(path, json={"url": "ftp://127.0.0.1/"}), 422, "validation_error")
    assert_problem(alice.patch(path, json={}), 422, "validation_error")
    assert_problem(alice.patch(path, json={"enabled": "maybe"}), 422, "validation_error")
    off = alice.patch(path, json={"enabled": False}).get_json()
    assert (off["enabled"], off["disabledReason"]) == (False, "disabled by an owner")
    assert off["disabledAt"] is not None
    on = alice.patch(path, json={"enabled": True, "url": HOOK + "2"}).get_json()
    assert (on["enabled"], on["disabledAt"], on["disabledReason"], on["url"]) == (
        True,
        None,
        None,
        HOOK + "2",
    )
    assert alice.delete(path).status_code == 204
    assert_problem(alice.get(path), 404, "not_found")
    assert_problem(alice.delete(path), 404, "not_found")


def test_rotating_gives_a_new_secret_and_keeps_the_old_one_for_24_hours(alice, conn):
    hook = create(alice).get_json()
    rotated = alice.post(f"/api/webhooks/{hook['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.get_json()
    assert rotated.get_json()["secret"].startswith("whsec_")
    assert rotated.get_json()["secret"] != hook["secret"]
    [(previous, until)] = conn.execute(
        "SELECT previous_secret, previous_secret_until - now() FROM webhook_endpoints"
        " WHERE id = %s",
        (hook["id"],),
    ).fetchall()
    assert previous is not None and timedelta(hours=23) < until <= timedelta(hours=24)
    assert_problem(alice.post("/api/webhooks/999999999/rotate-secret"), 404, "not_found")


# --- The URL rules (SSRF) -------------------------------------------------------------------

# IPv6 addresses carrying a private or metadata IPv4 address (issue 25, item 6).
EMBEDDED_IPV4 = [
    "http://[::127.0.0.1]/",  # IPv4-compatible loopback
    "http://[::7f00:1]/",  # the same, in hex
    "http://[::169.254.169.254]/",  # IPv4-compatible metadata address
    "http://[64:ff9b::10.0.0.5]/",  # NAT64, well-known prefix
    "http://[64:ff9b:1::10.0.0.5]/",  # NAT64, local-use prefix
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://[2a00:1450:1:2::5efe:10.0.0.5]/",  # ISATAP host 10.0.0.5 (u/l bit clear)
    "http://[2606:4700::200:5efe:a9fe:a9fe]/",  # ISATAP, u/l bit set, metadata address
]

REFUSED = [
    "http://127.0.0.1/",
    "http://127.8.9.10:8080/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://172.31.255.254/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://0.0.0.0/",
    "http://100.64.0.1/",  # shared address space (carrier-grade NAT)
    "http://224.0.0.1/",
    "http://[::1]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
    "http://[::ffff:10.0.0.5]/",
    "http://[2002:a00:5::1]/",  # 6to4 of 10.0.0.5
    *EMBEDDED_IPV4,
    "http://[::ffff:0:a00:5]/",  # IPv4-translated (SIIT) 10.0.0.5
    "http://[2001:0:4136:e378:8000:63bf:f5ff:fffa]/",  # Teredo, client 10.0.0.5
    "http://[64:ff9b:1:808:8:800::]/",  # local-use NAT64 (8.8.8.8 behind a /48): never public
    "http://internal.example/hook",  # the injected resolver maps it to 10.0.0.5
    "http://localhost/",  # not in the table: resolving it fails the test
]


@pytest.mark.parametrize("url", REFUSED)
def test_private_addresses_are_refused_unless_allowed(url, no_dns):
    if "localhost" in url:
        no_dns["localhost"] = ["127.0.0.1", "::1"]
    with pytest.raises(network.UrlRefused, match="webhooks go to public addresses only"):
        network.check_url(url, https_only=False, allow_private=False)
    assert network.check_url(url, https_only=False, allow_private=True).address


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("https://hooks.example.com/expenses", "93.184.216.34"),
        ("http://8.8.8.8:8080/x?y=1", "8.8.8.8"),
        ("http://[2606:4700:4700::1111]/", "2606:4700:4700::1111"),
        ("https://v6.example/", "2606:4700:4700::1111"),  # a name with a public IPv6 address
        ("http://[64:ff9b::8.8.8.8]/", "64:ff9b::808:808"),  # NAT64 of a public address
        ("http://[2002:808:808::1]/", "2002:808:808::1"),  # 6to4 of a public address
        ("http://[2606:4700::5efe:808:808]/", "2606:4700::5efe:808:808"),  # ISATAP, public host
    ],
)
def test_public_addresses_are_allowed_and_pinned(url, address, no_dns):
    no_dns["v6.example"] = ["2606:4700:4700::1111"]
    target = network.check_url(url, https_only=False, allow_private=False)
    assert target.address == address
    assert address in target.pinned_url()


def test_a_name_is_refused_when_any_of_its_addresses_is_private(no_dns):
    no_dns["mixed.example"] = ["93.184.216.34", "192.168.0.10"]
    with pytest.raises(network.UrlRefused, match=r"192\.168\.0\.10"):
        network.check_url("https://mixed.example/", https_only=False, allow_private=False)


@pytest.mark.parametrize("url", ["http://8.8.8.8:0/", "https://hooks.example.com:00/x"])
def test_port_zero_is_refused_even_where_private_networks_are_allowed(url, no_dns):
    for allow_private in (False, True):
        with pytest.raises(network.UrlRefused, match="port must be 1-65535"):
            network.check_url(url, https_only=False, allow_private=allow_private)


def test_production_takes_https_only(no_dns):
    with pytest.raises(network.UrlRefused, match="https"):
        network.check_url("http://hooks.example.com/", https_only=True, allow_private=False)
    assert network.check_url("https://hooks.example.com/", https_only=True, allow_private=False)


@pytest.fixture(scope="module")
def strict_app(database_url):
    """The app as deployed: private networks not allowed."""
    application = create_app(make_settings(WEBHOOK_ALLOW_PRIVATE_NETWORKS="false"), database_url)
    yield application
    application.extensions["database"].close()


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/hook", "http://169.254.169.254/", "http://internal.example/"]
)
def test_the_api_refuses_private_urls_on_create_and_on_patch(strict_app, url, no_dns, conn):
    from tests.helpers import Accounts

    owner = Accounts(strict_app.test_client()).new_user(name="Strict")
    assert_problem(create(owner, url=url), 422, "validation_error")
    hook = create(owner, url="https://hooks.example.com/x").get_json()
    response = owner.patch(f"/api/webhooks/{hook['id']}", json={"url": url})
    assert "public addresses only" in assert_problem(response, 422)["errors"]["url"][0]
    assert owner.get(f"/api/webhooks/{hook['id']}").get_json()["url"] == hook["url"]


@pytest.mark.parametrize(
    ("url", "says"),
    [(url, "public addresses only") for url in EMBEDDED_IPV4]
    + [("http://8.8.8.8:0/", "port must be 1-65535"),
       ("https://hooks.example.com:65536/", "Not a valid URL")],
)  # fmt: skip
def test_rest_and_graphql_refuse_embedded_private_addresses_and_port_zero(
    strict_app, url, says, no_dns
):
    """Each door (REST and GraphQL, create and PATCH) answers 422 naming `url`, and changes
    nothing."""
    from tests.helpers import Accounts

    owner = Accounts(strict_app.test_client()).new_user(name="Strict")
    response = create(owner, url=url)
    assert says in assert_problem(response, 422, "validation_error")["errors"]["url"][0]
    hook = create(owner, url="https://hooks.example.com/x").get_json()
    response = owner.patch(f"/api/webhooks/{hook['id']}", json={"url": url})
    assert says in assert_problem(response, 422, "validation_error")["errors"]["url"][0]
    created = graphql(
        owner,
        'mutation($url: String!) { createWebhook(input: {url: $url, events: ["alert.limit"]})'
        " { id } }",
        {"url": url},
    )
    updated = graphql(
        owner,
        "mutation($id: Int!, $url: String!) { updateWebhook(id: $id, input: {url: $url}) { id } }",
        {"id": hook["id"], "url": url},
    )
    for body in (created, updated):
        assert graphql_codes(body) == ["validation_error"], body
        assert says in body["errors"][0]["extensions"]["errors"]["url"][0]
    assert [h["url"] for h in owner.get("/api/webhooks").get_json()["items"]] == [hook["url"]]


# --- The outbox ---------------------------------------------------------------------------------


def test_nothing_is_recorded_for_a_ledger_without_a_subscribed_endpoint(alice, conn):
    food = category(alice, "Food")
    record(alice, food)
    create(alice, events=["budget.updated"])
    record(alice, food)  # an endpoint, but not for this event
    assert outbox(conn, alice.ledger_id) == []
    alice.patch(
        f"/api/webhooks/{alice.get('/api/webhooks').get_json()['items'][0]['id']}",
        json={"events": ["transaction.created"], "enabled": False},
    )
    record(alice, food)  # subscribed, but disabled
    assert outbox(conn, alice.ledger_id) == []


def test_each_change_records_its_event_with_the_resource_as_the_api_answers_it(alice, conn):
    create(alice, events=["transaction.created", "transaction.updated", "transaction.deleted",
                          "budget.updated", "alert.threshold", "alert.limit"])  # fmt: skip
    food = category(alice, "Food")
    budget = save(alice, categoryId=food, amount="100", mode="soft").get_json()
    spent = record(alice, food, amount="85.50", description="Weekly shop")
    changed = alice.patch(f"/api/transactions/{spent['id']}", json={"amount": "120"}).get_json()
    assert alice.delete(f"/api/transactions/{spent['id']}").status_code == 204
    events = outbox(conn, alice.ledger_id)
    assert [(kind, deliveries) for kind, _data, deliveries in events] == [
        ("budget.updated", 1),
        ("transaction.created", 1),  # a change's event, then those of the alerts it fired
        ("alert.threshold", 1),
        ("transaction.updated", 1),
        ("alert.limit", 1),
        ("transaction.deleted", 1),
    ]
    data = {kind: data for kind, data, _ in events}
    assert data["budget.updated"] == {k: v for k, v in budget.items() if k != "alerts"}
    assert data["transaction.created"] == {k: v for k, v in spent.items() if k != "alerts"}
    assert data["transaction.updated"] == {k: v for k, v in changed.items() if k != "alerts"}
    assert data["transaction.deleted"] == {"id": spent["id"], "ledgerId": alice.ledger_id}
    assert data["alert.threshold"] == spent["alerts"][0]
    assert data["alert.limit"] == changed["alerts"][0]
    notifications = alice.get("/api/notifications").get_json()["items"]
    assert sorted([data["alert.threshold"], data["alert.limit"]], key=lambda a: -a["id"]) == [
        {**n, "readAt": None} for n in notifications
    ]


def test_a_refused_or_dry_run_change_records_nothing(alice, conn):
    create(alice, events=["transaction.created", "alert.threshold", "alert.limit"])
    food = category(alice, "Food")
    save(alice, categoryId=food, amount="100")
    body = {"amount": "150", "type": "EXPENSE", "categoryId": food, "date": "2026-03-10"}
    assert_problem(alice.post("/api/transactions", json=body), 409, "budget_exceeded")
    dry = alice.post("/api/transactions?dryRun=true", json={**body, "amount": "90"})
    assert dry.status_code == 200 and dry.get_json()["alerts"]
    assert outbox(conn, alice.ledger_id) == []
    record(alice, food, amount="90", date="2026-03-10")  # committed: recorded
    assert [kind for kind, _, _ in outbox(conn, alice.ledger_id)] == [
        "transaction.created",
        "alert.threshold",
    ]


def test_one_event_has_a_delivery_per_subscribed_endpoint(alice, conn):
    for events in (
        ["transaction.created"],
        ["transaction.created", "alert.limit"],
        ["alert.limit"],
    ):
        create(alice, events=events)
    record(alice, category(alice))
    assert [(kind, n) for kind, _, n in outbox(conn, alice.ledger_id)] == [
        ("transaction.created", 2)
    ]


# --- Deliveries through the API -----------------------------------------------------------------


def test_deliveries_are_listed_newest_first_and_paginated(alice):
    hook = create(alice).get_json()
    food = category(alice)
    first, second = record(alice, food), record(alice, food)
    path = f"/api/webhooks/{hook['id']}/deliveries"
    page = alice.get(path + "?limit=1").get_json()
    [newest] = page["items"]
    assert set(newest) == {"id", "event", "status", "attempts", "responseStatus", "lastError",
                           "nextAttemptAt", "createdAt"}  # fmt: skip
    assert (newest["event"], newest["status"], newest["attempts"]) == (
        "transaction.created",
        "pending",
        0,
    )
    assert newest["nextAttemptAt"] is not None and first["id"] < second["id"]
    rest = alice.get(f"{path}?limit=1&cursor={page['nextCursor']}").get_json()
    assert len(rest["items"]) == 1 and rest["items"][0]["id"] < newest["id"]
    assert rest["nextCursor"] is None
    assert_problem(alice.get(path + "?cursor=bogus"), 422, "validation_error")
    assert_problem(alice.get(path + "?limit=0"), 422, "validation_error")


def test_redelivering_a_pending_delivery_makes_it_due_now(alice, conn):
    hook = create(alice).get_json()
    record(alice, category(alice))
    [delivery] = alice.get(f"/api/webhooks/{hook['id']}/deliveries").get_json()["items"]
    conn.execute(
        "UPDATE webhook_deliveries SET next_attempt_at = now() + interval '1 hour' WHERE id = %s",
        (delivery["id"],),
    )
    path = f"/api/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver"
    response = alice.post(path)
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["id"] == delivery["id"]
    due = datetime.fromisoformat(response.get_json()["nextAttemptAt"])
    assert due <= datetime.now(UTC)
    other = create(alice).get_json()
    wrong = f"/api/webhooks/{other['id']}/deliveries/{delivery['id']}/redeliver"
    assert_problem(alice.post(wrong), 404, "not_found")


def test_history_past_its_days_is_pruned_but_pending_deliveries_stay(alice, conn, app):
    hook = create(alice).get_json()
    food = category(alice)
    record(alice, food, description=f"old-{uuid.uuid4().hex[:6]}")
    record(alice, food)
    conn.execute(
        "UPDATE webhook_events SET created_at = now() - interval '31 days' WHERE ledger_id = %s",
        (alice.ledger_id,),
    )
    [older, _newer] = sorted(
        d["id"] for d in alice.get(f"/api/webhooks/{hook['id']}/deliveries").get_json()["items"]
    )
    conn.execute(
        "UPDATE webhook_deliveries SET status = 'delivered', finished_at = now() WHERE id = %s",
        (older,),
    )
    deleted = housekeeping.prune(conn, app.config["SETTINGS"])["webhook_events"]
    assert deleted >= 1
    left = alice.get(f"/api/webhooks/{hook['id']}/deliveries").get_json()["items"]
    assert [d["status"] for d in left] == ["pending"]


def test_retries_back_off_exponentially_with_a_fifth_of_jitter():
    first = [webhook_delivery.backoff(1) for _ in range(50)]
    assert len(set(first)) > 1
    assert all(timedelta(seconds=4) <= wait <= timedelta(seconds=6) for wait in first)
    assert timedelta(hours=8) <= webhook_delivery.backoff(7) <= timedelta(hours=12)
    steps = webhook_delivery.BACKOFF
    assert list(steps) == sorted(steps)
