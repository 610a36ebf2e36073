"""Idempotency-Key on POST: replay, conflicting reuse, concurrency, expiry, per-user scope."""

from __future__ import annotations

import threading
from datetime import timedelta

from tests.factories import category
from tests.helpers import User, assert_problem, client_from


def _body(category_id, amount="10.00"):
    return {"amount": amount, "type": "EXPENSE", "categoryId": category_id, "date": "2026-08-01"}


def _count(conn, user) -> int:
    query = "SELECT count(*) FROM transactions WHERE ledger_id = %s"
    return conn.execute(query, (user.ledger_id,)).fetchone()[0]


def test_same_key_same_body_replays_without_doing_the_work_again(alice, conn):
    body, headers = _body(category(alice)), {"Idempotency-Key": "order-1"}
    first = alice.post("/api/transactions", json=body, headers=headers)
    again = alice.post("/api/transactions", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _count(conn, alice) == 1


def test_the_same_json_written_differently_is_the_same_request(alice, conn):
    food = category(alice)
    headers = {"Idempotency-Key": "spacing", "Content-Type": "application/json"}
    compact = '{"amount":"1.00","type":"EXPENSE","categoryId":%d,"date":"2026-08-01"}' % food
    spaced = (
        '{ "date": "2026-08-01", "categoryId": %d, "type": "EXPENSE", "amount": "1.00" }' % food
    )
    assert alice.post("/api/transactions", data=compact, headers=headers).status_code == 201
    assert alice.post("/api/transactions", data=spaced, headers=headers).status_code == 201
    assert _count(conn, alice) == 1


def test_same_key_different_body_is_422(alice, conn):
    food = category(alice)
    headers = {"Idempotency-Key": "order-2"}
    alice.post("/api/transactions", json=_body(food), headers=headers)
    reused = alice.post("/api/transactions", json=_body(food, "11.00"), headers=headers)
    assert_problem(reused, 422, "idempotency_key_reused")
    other_path = alice.post("/api/categories", json={"name": "x"}, headers=headers)
    assert_problem(other_path, 422, "idempotency_key_reused")
    assert _count(conn, alice) == 1


def test_an_error_answer_frees_the_key_for_a_retry(alice, conn):
    food = category(alice)
    headers = {"Idempotency-Key": "retry-me"}
    failed = alice.post("/api/transactions", json={**_body(food), "amount": "0"}, headers=headers)
    assert_problem(failed, 422)
    # The client fixes nothing but the key was never used: the same key with a good body works.
    assert alice.post("/api/transactions", json=_body(food), headers=headers).status_code == 201
    assert _count(conn, alice) == 1


def test_keys_expire_after_24_hours(alice, conn):
    food = category(alice)
    headers = {"Idempotency-Key": "old-key"}
    alice.post("/api/transactions", json=_body(food), headers=headers)
    kept = conn.execute(
        "SELECT expires_at - created_at FROM idempotency_keys WHERE user_id = %s AND key = %s",
        (alice.id, "old-key"),
    ).fetchone()[0]
    assert kept == timedelta(hours=24)
    conn.execute(
        "UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE user_id = %s",
        (alice.id,),
    )
    again = alice.post("/api/transactions", json=_body(food, "12.00"), headers=headers)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert _count(conn, alice) == 2


def test_prune_deletes_expired_keys_only(app, alice, conn):
    from expense_api.services import housekeeping

    for key in ("live", "expired"):
        alice.post("/api/categories", json={"name": key}, headers={"Idempotency-Key": key})
    conn.execute(
        "UPDATE idempotency_keys SET expires_at = now() WHERE user_id = %s AND key = 'expired'",
        (alice.id,),
    )
    housekeeping.prune(conn, app.config["SETTINGS"])
    left = conn.execute("SELECT key FROM idempotency_keys WHERE user_id = %s", (alice.id,))
    assert [row[0] for row in left] == ["live"]


def test_keys_belong_to_one_user(alice, bob, conn):
    headers = {"Idempotency-Key": "shared-name"}
    assert (
        alice.post("/api/transactions", json=_body(category(alice)), headers=headers).status_code
        == 201
    )
    assert (
        bob.post("/api/transactions", json=_body(category(bob)), headers=headers).status_code == 201
    )
    assert (_count(conn, alice), _count(conn, bob)) == (1, 1)


def test_invalid_keys_are_422(alice):
    for key in ("", "x" * 256, "has space", "ünïcode"):
        response = alice.post(
            "/api/categories", json={"name": "k"}, headers={"Idempotency-Key": key}
        )
        # The empty key too: a header that is present must be a usable key, never silently none.
        assert "Idempotency-Key" in assert_problem(response, 422)["errors"], repr(key)


def test_concurrent_requests_with_one_key_do_the_work_once(app, alice, conn):
    food = category(alice)
    body, headers = _body(food), {"Idempotency-Key": "race"}
    results, barrier = [], threading.Barrier(16, timeout=60)

    def send():
        user = User(client_from(app, "10.200.0.1"), alice.data, alice.tokens)
        barrier.wait()
        response = user.post("/api/transactions", json=body, headers=headers)
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=send) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _count(conn, alice) == 1
    assert {status for status, _ in results} == {201}
    assert len({body["id"] for _, body in results}) == 1


def test_keys_stored_before_session_bindings_still_match_their_retry(app):
    """The hash of an unbound request is what it was before refresh and logout bound theirs to a
    session, so a retry spanning the upgrade replays instead of getting 422."""
    import hashlib

    from expense_api.api.core import idempotency

    with app.test_request_context("/api/categories", method="POST", json={"name": "x"}):
        digest = hashlib.sha256()
        for part in (b"POST", b"/api/categories", b"", b'{"name":"x"}'):
            digest.update(len(part).to_bytes(8, "big") + part)
        assert idempotency._request_hash(b"") == digest.digest()


def test_a_body_nested_too_deep_for_hashing_is_400_not_500(alice):
    """The key's request hash reads the body before the view does: a body nested beyond what
    Python's JSON reader can take must still get the view's 400, never a 500."""
    deep = "[" * 5000 + "]" * 5000
    response = alice.post(
        "/api/categories",
        data=deep,
        headers={"Content-Type": "application/json", "Idempotency-Key": "deep-1"},
    )
    assert_problem(response, 400, "malformed_json")
