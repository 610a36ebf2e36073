"""Invitations as the contract says ("Ledgers: shared books, member roles"): create, list,
revoke, replace; the invitee's list, accept and decline; binding at creation (no account
enumeration, no claiming by registering later); expiry; the per-owner rate limit; a race-free
accept; tokens and another user's ids; and the household flow up to the shared hard budget."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from expense_api.repositories import ledgers as ledger_rows
from expense_api.services import invitations
from expense_api.services.invitations import InvitationAnswered
from tests import factories
from tests.helpers import assert_problem, wait_until_blocked_by

INVITATION_KEYS = {"id", "ledgerId", "email", "role", "status", "createdAt", "expiresAt"}
LEDGER_KEYS = {"id", "name", "currency", "timezone", "isDefault", "role", "createdAt"}


def _email() -> str:
    return f"nobody-{uuid.uuid4().hex[:12]}@example.com"


def _shared(owner, name="Household") -> int:
    response = owner.post("/api/ledgers", json={"name": name})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _invite(owner, ledger_id, email, role="editor"):
    return owner.post(f"/api/ledgers/{ledger_id}/invitations", json={"email": email, "role": role})


def _invited(owner, ledger_id, email, role="editor") -> dict:
    response = _invite(owner, ledger_id, email, role)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _listed(owner, ledger_id) -> list[dict]:
    response = owner.get(f"/api/ledgers/{ledger_id}/invitations")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def _roles(conn, ledger_id) -> dict[int, str]:
    rows = conn.execute(
        "SELECT user_id, role FROM ledger_members WHERE ledger_id = %s", (ledger_id,)
    ).fetchall()
    return dict(rows)


# Owner: create, list, revoke -------------------------------------------------------------------


def test_create_list_and_the_invitees_view(alice, bob):
    ledger_id = _shared(alice)
    invitation = _invited(alice, ledger_id, bob.data["email"].upper(), role="viewer")
    assert set(invitation) == INVITATION_KEYS
    assert invitation["ledgerId"] == ledger_id
    assert (invitation["role"], invitation["status"]) == ("viewer", "pending")
    created = datetime.fromisoformat(invitation["createdAt"])
    expires = datetime.fromisoformat(invitation["expiresAt"])
    assert (expires - created).days == 7
    assert _listed(alice, ledger_id) == [invitation]

    mine = bob.get("/api/invitations")
    assert mine.status_code == 200
    [item] = mine.get_json()["items"]
    assert item == {
        **invitation,
        "ledgerName": "Household",
        "invitedBy": {"id": alice.id, "name": "Alice"},
    }
    assert alice.get("/api/invitations").get_json() == {"items": []}


def test_an_existing_members_email_is_409_already_member(alice, bob, conn):
    ledger_id = _shared(alice)
    factories.member(conn, ledger_id, bob, "viewer")
    assert_problem(_invite(alice, ledger_id, bob.data["email"].upper()), 409, "already_member")
    assert_problem(_invite(alice, ledger_id, alice.data["email"]), 409, "already_member")
    assert _listed(alice, ledger_id) == []


def test_a_new_invitation_replaces_the_pending_one(alice, bob):
    ledger_id = _shared(alice)
    first = _invited(alice, ledger_id, bob.data["email"], role="viewer")
    second = _invited(alice, ledger_id, bob.data["email"].upper(), role="editor")
    assert second["id"] != first["id"]
    assert _listed(alice, ledger_id) == [second]
    [item] = bob.get("/api/invitations").get_json()["items"]
    assert (item["id"], item["role"]) == (second["id"], "editor")
    assert_problem(bob.post(f"/api/invitations/{first['id']}/accept"), 404, "not_found")


def test_revoke(alice, bob):
    ledger_id = _shared(alice)
    invitation = _invited(alice, ledger_id, bob.data["email"])
    path = f"/api/ledgers/{ledger_id}/invitations/{invitation['id']}"
    assert alice.delete(path).status_code == 204
    assert _listed(alice, ledger_id) == []
    assert bob.get("/api/invitations").get_json() == {"items": []}
    assert_problem(bob.post(f"/api/invitations/{invitation['id']}/accept"), 404, "not_found")
    assert_problem(alice.delete(path), 404, "not_found")


def test_an_answered_invitation_cannot_be_revoked(alice, bob):
    ledger_id = _shared(alice)
    invitation = _invited(alice, ledger_id, bob.data["email"])
    assert bob.post(f"/api/invitations/{invitation['id']}/decline").status_code == 204
    path = f"/api/ledgers/{ledger_id}/invitations/{invitation['id']}"
    assert_problem(alice.delete(path), 409, "invitation_answered")


def test_statuses_in_the_owners_list(alice, accounts, conn):
    ledger_id = _shared(alice)
    users = [accounts.new_user(name=f"U{n}") for n in range(3)]
    accepted, declined, expired = (_invited(alice, ledger_id, u.data["email"]) for u in users)
    pending = _invited(alice, ledger_id, _email())
    users[0].post(f"/api/invitations/{accepted['id']}/accept")
    users[1].post(f"/api/invitations/{declined['id']}/decline")
    _age(conn, expired["id"])
    statuses = {item["id"]: item["status"] for item in _listed(alice, ledger_id)}
    assert statuses == {
        accepted["id"]: "accepted",
        declined["id"]: "declined",
        expired["id"]: "expired",
        pending["id"]: "pending",
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "editor"}, "email"),
        ({"email": "not-an-email", "role": "editor"}, "email"),
        ({"email": "a@example.com"}, "role"),
        ({"email": "a@example.com", "role": "owner"}, "role"),
        ({"email": "a@example.com", "role": "editor", "extra": 1}, "extra"),
    ],
)
def test_create_validation(alice, body, field):
    ledger_id = _shared(alice)
    response = alice.post(f"/api/ledgers/{ledger_id}/invitations", json=body)
    problem = assert_problem(response, 422, "validation_error")
    assert field in problem["errors"]


# No account enumeration; binding at creation ---------------------------------------------------


def _shape(body: dict) -> dict:
    """An answer with its ids, timestamps and the address itself blanked out."""
    blank = {"id", "ledgerId", "createdAt", "expiresAt", "email"}
    return {key: ("*" if key in blank else value) for key, value in body.items()}


def test_the_answer_is_the_same_whether_or_not_an_account_has_the_email(alice, bob):
    ledger_id = _shared(alice)
    known = _invite(alice, ledger_id, bob.data["email"])
    unknown = _invite(alice, ledger_id, _email())
    assert known.status_code == unknown.status_code == 201
    assert sorted(known.headers.keys()) == sorted(unknown.headers.keys())
    assert known.mimetype == unknown.mimetype
    assert _shape(known.get_json()) == _shape(unknown.get_json())
    assert [_shape(item) for item in _listed(alice, ledger_id)] == [_shape(unknown.get_json())] * 2


def test_registering_the_address_later_never_claims_the_invitation(alice, accounts):
    ledger_id = _shared(alice)
    email = _email()
    invitation = _invited(alice, ledger_id, email)
    latecomer = accounts.new_user(email=email, name="Latecomer")
    assert latecomer.get("/api/invitations").get_json() == {"items": []}
    assert_problem(latecomer.post(f"/api/invitations/{invitation['id']}/accept"), 404)
    assert_problem(latecomer.post(f"/api/invitations/{invitation['id']}/decline"), 404)
    assert latecomer.get(f"/api/ledgers/{ledger_id}").status_code == 404
    # A new invitation, made now that the account exists, binds to it.
    again = _invited(alice, ledger_id, email.upper())
    assert latecomer.post(f"/api/invitations/{again['id']}/accept").status_code == 200


# Invitee: accept, decline ----------------------------------------------------------------------


def test_accept_makes_a_member_with_the_invited_role(alice, bob, conn):
    ledger_id = _shared(alice)
    invitation = _invited(alice, ledger_id, bob.data["email"], role="viewer")
    response = bob.post(f"/api/invitations/{invitation['id']}/accept")
    assert response.status_code == 200, response.get_json()
    ledger = response.get_json()
    assert set(ledger) == LEDGER_KEYS
    assert ledger == bob.get(f"/api/ledgers/{ledger_id}").get_json()
    assert (ledger["id"], ledger["role"], ledger["isDefault"]) == (ledger_id, "viewer", False)
    assert _roles(conn, ledger_id) == {alice.id: "owner", bob.id: "viewer"}
    assert bob.get("/api/invitations").get_json() == {"items": []}
    assert_problem(
        bob.post(f"/api/invitations/{invitation['id']}/accept"), 409, "invitation_answered"
    )
    assert_problem(
        bob.post(f"/api/invitations/{invitation['id']}/decline"), 409, "invitation_answered"
    )


def test_an_invitation_dies_with_its_inviters_ownership(alice, bob, accounts, conn):
    """An invitation is the owner's word: once the member who made it is no longer an owner
    (ownership handed over, or they left), accepting it is 409 and nobody joins."""
    ledger_id = _shared(alice)
    partner = accounts.new_user(name="Partner")
    ledger_rows.add_member(conn, ledger_id=ledger_id, user_id=partner.id, role="editor")
    invitation = _invited(alice, ledger_id, bob.data["email"])
    handed = alice.patch(f"/api/ledgers/{ledger_id}/members/{partner.id}", json={"role": "owner"})
    assert handed.status_code == 200, handed.get_json()
    refused = bob.post(f"/api/invitations/{invitation['id']}/accept")
    assert_problem(refused, 409, "invitation_withdrawn")
    assert bob.id not in _roles(conn, ledger_id)
    # Declining it still works: the invitee can clear it from their list.
    assert bob.post(f"/api/invitations/{invitation['id']}/decline").status_code == 204


def test_accept_and_decline_take_an_empty_body_too(alice, accounts):
    ledger_id = _shared(alice)
    first, second = accounts.new_user(), accounts.new_user()
    one = _invited(alice, ledger_id, first.data["email"])
    two = _invited(alice, ledger_id, second.data["email"])
    assert first.post(f"/api/invitations/{one['id']}/accept", json={}).status_code == 200
    assert second.post(f"/api/invitations/{two['id']}/decline", json={}).status_code == 204


def test_decline(alice, bob, conn):
    ledger_id = _shared(alice)
    invitation = _invited(alice, ledger_id, bob.data["email"])
    assert bob.post(f"/api/invitations/{invitation['id']}/decline").status_code == 204
    assert _roles(conn, ledger_id) == {alice.id: "owner"}
    assert bob.get("/api/invitations").get_json() == {"items": []}
    assert_problem(
        bob.post(f"/api/invitations/{invitation['id']}/accept"), 409, "invitation_answered"
    )


def _age(conn, invitation_id: int) -> None:
    conn.execute(
        "UPDATE invitations SET created_at = created_at - interval '8 days',"
        " expires_at = expires_at - interval '8 days' WHERE id = %s",
        (invitation_id,),
    )


def test_an_expired_invitation_is_409_and_no_longer_listed_for_the_invitee(alice, bob, conn):
    ledger_id = _shared(alice)
    invitation = _invited(alice, ledger_id, bob.data["email"])
    _age(conn, invitation["id"])
    assert bob.get("/api/invitations").get_json() == {"items": []}
    for answer in ("accept", "decline"):
        response = bob.post(f"/api/invitations/{invitation['id']}/{answer}")
        assert_problem(response, 409, "invitation_expired")
    assert _roles(conn, ledger_id) == {alice.id: "owner"}
    [listed] = _listed(alice, ledger_id)
    assert listed["status"] == "expired"
    # The owner may invite the address again.
    assert _invited(alice, ledger_id, bob.data["email"])["status"] == "pending"


def test_an_invitation_bound_to_someone_else_is_404(alice, bob, accounts):
    ledger_id = _shared(alice)
    invitation = _invited(alice, ledger_id, bob.data["email"])
    carol = accounts.new_user(name="Carol")
    for answer in ("accept", "decline"):
        assert_problem(carol.post(f"/api/invitations/{invitation['id']}/{answer}"), 404)
        assert_problem(alice.post(f"/api/invitations/{invitation['id']}/{answer}"), 404)
    assert_problem(carol.post("/api/invitations/999999999/accept"), 404)
    assert bob.post(f"/api/invitations/{invitation['id']}/accept").status_code == 200


def test_two_accepts_at_once_make_one_membership(alice, bob, conn, database_url):
    ledger_id = _shared(alice)
    invitation = _invited(alice, ledger_id, bob.data["email"])
    outcome = {}
    with psycopg.connect(database_url) as first, psycopg.connect(database_url) as second:
        invitations.accept(first, bob.id, invitation["id"])  # uncommitted, the row locked

        def accept_again():
            try:
                with second.transaction():
                    invitations.accept(second, bob.id, invitation["id"])
                outcome["second"] = "accepted"
            except InvitationAnswered as error:
                outcome["second"] = error.code

        thread = threading.Thread(target=accept_again)
        thread.start()
        wait_until_blocked_by(conn, first.info.backend_pid)
        first.commit()
        thread.join(15)
    assert outcome == {"second": "invitation_answered"}
    assert _roles(conn, ledger_id) == {alice.id: "owner", bob.id: "editor"}


# Rate limit ------------------------------------------------------------------------------------


def test_at_most_20_invitations_an_hour_per_owner(alice, conn):
    first, second = _shared(alice, "One"), _shared(alice, "Two")
    for n in range(20):
        ledger_id = first if n % 2 else second
        made = _invited(alice, ledger_id, _email())
        if n == 0:
            oldest = made
    # Revoking does not give an invitation back.
    alice.delete(f"/api/ledgers/{second}/invitations/{oldest['id']}")
    response = _invite(alice, first, _email())
    problem = assert_problem(response, 429, "too_many_invitations")
    assert 3500 <= int(response.headers["Retry-After"]) <= 3600, problem
    # Once the oldest is more than an hour old, the next one is allowed.
    conn.execute(
        "UPDATE invitations SET created_at = created_at - interval '61 minutes',"
        " expires_at = expires_at - interval '61 minutes' WHERE id = %s",
        (oldest["id"],),
    )
    assert _invite(alice, first, _email()).status_code == 201


def test_the_limit_is_documented(app):
    spec = app.test_client().get("/api/openapi.json").get_json()
    post = spec["paths"]["/api/ledgers/{ledger_id}/invitations"]["post"]
    assert "20 invitations an hour" in post["description"]
    assert "too_many_invitations" in post["responses"]["429"]["description"]


# Authorization ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_only_the_owner_invites_lists_and_revokes(alice, bob, conn, role):
    ledger_id = _shared(alice)
    factories.member(conn, ledger_id, bob, role)
    invitation = _invited(alice, ledger_id, _email())
    prefix = f"/api/ledgers/{ledger_id}/invitations"
    assert_problem(_invite(bob, ledger_id, _email()), 403, "forbidden")
    assert_problem(bob.get(prefix), 403, "forbidden")
    assert_problem(bob.delete(f"{prefix}/{invitation['id']}"), 403, "forbidden")
    assert _listed(alice, ledger_id) == [invitation]


def test_another_users_ledger_is_404(alice, bob):
    ledger_id = _shared(alice)
    invitation = _invited(alice, ledger_id, _email())
    prefix = f"/api/ledgers/{ledger_id}/invitations"
    assert_problem(_invite(bob, ledger_id, _email()), 404, "not_found")
    assert_problem(bob.get(prefix), 404, "not_found")
    assert_problem(bob.delete(f"{prefix}/{invitation['id']}"), 404, "not_found")
    # Another of Bob's own ledgers does not reach Alice's invitation either.
    own = _shared(bob, "Bob's")
    assert_problem(bob.delete(f"/api/ledgers/{own}/invitations/{invitation['id']}"), 404)
    assert _listed(alice, ledger_id) == [invitation]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/invitations"),
        ("POST", "/api/invitations/1/accept"),
        ("POST", "/api/invitations/1/decline"),
        ("GET", "/api/ledgers/1/invitations"),
        ("POST", "/api/ledgers/1/invitations"),
        ("DELETE", "/api/ledgers/1/invitations/1"),
    ],
)
@pytest.mark.parametrize("token", [None, "Bearer not-a-token"])
def test_requires_a_token(client, method, path, token):
    headers = {"Authorization": token} if token else {}
    assert_problem(client.open(path, method=method, headers=headers), 401)


# The household flow ----------------------------------------------------------------------------


def test_household_flow_partner_joins_and_the_shared_hard_budget_holds(alice, bob):
    ledger_id = _shared(alice)
    prefix = f"/api/ledgers/{ledger_id}"
    today = datetime.now(UTC).date()
    category = alice.post(f"{prefix}/categories", json={"name": "Groceries"}).get_json()["id"]
    budget = alice.post(
        f"{prefix}/budgets",
        json={"categoryId": category, "amount": "100", "month": today.month,
              "year": today.year, "mode": "hard"},
    )  # fmt: skip
    assert budget.status_code == 201, budget.get_json()

    invitation = _invited(alice, ledger_id, bob.data["email"], role="editor")
    [pending] = bob.get("/api/invitations").get_json()["items"]
    assert pending["id"] == invitation["id"]
    joined = bob.post(f"/api/invitations/{invitation['id']}/accept").get_json()
    assert (joined["id"], joined["role"]) == (ledger_id, "editor")

    expense = {"type": "EXPENSE", "categoryId": category, "date": today.isoformat()}
    first = bob.post(f"{prefix}/transactions", json={**expense, "amount": "80.00"})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["createdBy"] == {"id": bob.id, "name": "Bob"}
    over = bob.post(f"{prefix}/transactions", json={**expense, "amount": "30.00"})
    assert_problem(over, 409, "budget_exceeded")
    members = alice.get(f"{prefix}/members").get_json()["items"]
    assert {m["userId"]: m["role"] for m in members} == {alice.id: "owner", bob.id: "editor"}
