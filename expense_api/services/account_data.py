"""The caller's own data: everything the service holds about their account, as JSON (the right
of access and to portability), and erasing the account (the right to erasure).

Export. One JSON document in one REPEATABLE READ READ ONLY snapshot (db/snapshot.py: the door
opens it around the stream), streamed: the account, its sessions, personal access tokens
(names and dates), memberships, invitations made and received, the recurring rules acting as
it, the bank files it uploaded, then the JSON export of each ledger it owns (services/exports.py,
the very text `GET /api/ledgers/{id}/export?format=json` answers: a keyset page of
transactions at a time) and its security events (a keyset page at a time). Memory stays a page
whatever the size; one person owns at most MAX_LEDGERS_PER_USER ledgers. Never a secret: no
password hash, two-factor secret, recovery code, token or token digest.

Erasure. In the caller's one transaction, after the password (and with two-factor on, a
second factor) is checked, and only when the account is nobody's last owner of a shared ledger
(`sole_owner`, naming the ledgers): the ledgers it alone belongs to are deleted; the
transactions it created elsewhere show no creator (each logged `updated`, so sync sends them
anew); the recurring rules acting as it pause (`member_left`, as when a member leaves); the
invitations it made or that were made to it are deleted (logged); it leaves every other ledger
(logged); then the change logs forget its name (repositories/erasure.py, under migration 0023's
exception): its entries' actor name, its member entries' name and email, its transactions'
createdBy name, the email of invitations to it, and the webhook payloads of its transactions
say "deleted user" (or null for an email). Its failed-login and rate-limit counters go, and
the account itself, with everything it alone owns (sessions, so every token dies at once;
personal access tokens, recovery codes, security events, idempotency keys).

The pseudonymous id stays where the log keeps it: an entry's actor id (the trigger keeps who,
when and what of every entry), a member entry's `userId`, a transaction image's
`createdBy.id`. Ids are never reused and, the account gone, name nobody the service knows;
they keep the audit trail able to say that two entries were by one person.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from psycopg import Connection

from ..db import snapshot
from ..domain import exportfiles
from ..domain.errors import Conflict, NotFound
from ..domain.periods import utc_timestamp
from ..repositories import account_data, erasure, recurring
from . import exports, ledgers
from .auth import events, two_factor
from .auth import throttle as login_throttle
from .auth.accounts import AuthSetup
from .auth.events import Origin
from .auth.passwords import InvalidPassword
from .changes import hook
from .ledgers import Actor

log = logging.getLogger(__name__)

VERSION = 1
DELETED_USER = "deleted user"


class SoleOwner(Conflict):
    code = "sole_owner"


# --- Export -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountExport:
    """What the door needs before the first byte; `chunks(conn)` streams the JSON text inside
    one snapshot on `conn`."""

    user_id: int
    file_name: str

    def chunks(self, conn: Connection) -> Iterator[str]:
        snapshot.require(conn)
        yield from _document(conn, self.user_id)


def export(user_id: int) -> AccountExport:
    """The caller's own data; nobody else's account can be asked for."""
    return AccountExport(user_id, f"account-{user_id}.json")


def _document(conn: Connection, user_id: int) -> Iterator[str]:
    value = exportfiles.json_value
    row = account_data.account(conn, user_id=user_id)
    if row is None:  # erased between the session check and the snapshot
        raise NotFound("No such account.")
    lists = account_data.lists(conn, user_id=user_id)
    head = {
        "version": VERSION,
        "exportedAt": utc_timestamp(datetime.now(UTC)),
        "user": _shown(row, USER),
        "sessions": [_shown(item, SESSION) for item in lists["sessions"]],
        "personalAccessTokens": [_shown(item, TOKEN) for item in lists["personal_access_tokens"]],
        "memberships": [_shown(item, MEMBERSHIP) for item in lists["memberships"]],
        "invitationsSent": [_shown(item, INVITATION) for item in lists["invitations_sent"]],
        "invitationsReceived": [_shown(item, INVITATION) for item in lists["invitations_received"]],
        "recurringActingAsYou": [
            {
                "ledgerId": item["ledger_id"],
                **hook.render_in(item["ledger_currency"], "recurring", item),
            }
            for item in lists["recurring_acting_as"]
        ],
        "importsUploaded": [_shown(item, IMPORT) for item in lists["imports_uploaded"]],
    }
    yield value(head)[:-1] + ',"ledgers":['
    owned = [item for item in lists["memberships"] if item["role"] == "owner"]
    for index, item in enumerate(owned):
        actor = ledgers.actor_in(conn, user_id=user_id, ledger_id=item["ledger_id"])
        if index:
            yield ","
        yield from exports.export(conn, actor, format="json", period_filter={}).chunks(conn)
    yield '],"securityEvents":['
    first = True
    for page in account_data.security_events_pages(conn, user_id=user_id):
        text = ",".join(value(_shown(item, EVENT)) for item in page)
        yield text if first else "," + text
        first = False
    yield "]}"


# Each part as (key, column, is a timestamp): what the export shows of a row, nothing else.
USER = (
    ("id", "id", False), ("name", "name", False), ("email", "email", False),
    ("role", "role", False), ("currency", "currency", False), ("timezone", "timezone", False),
    ("createdAt", "created_at", True), ("lastLoginAt", "last_login_at", True),
    ("disabledAt", "disabled_at", True), ("twoFactorEnabledAt", "totp_enabled_at", True),
    ("passwordChangedAt", "password_changed_at", True),
)  # fmt: skip
SESSION = (
    ("id", "id", False), ("createdAt", "created_at", True), ("lastUsedAt", "last_used_at", True),
    ("expiresAt", "expires_at", True), ("endedAt", "revoked_at", True),
    ("endedBecause", "revoked_reason", False), ("userAgent", "user_agent", False),
    ("address", "address", False),
)  # fmt: skip
TOKEN = (
    ("id", "id", False), ("name", "name", False), ("scope", "scope", False),
    ("createdAt", "created_at", True), ("expiresAt", "expires_at", True),
    ("lastUsedAt", "last_used_at", True),
)  # fmt: skip
MEMBERSHIP = (
    ("ledgerId", "ledger_id", False), ("name", "name", False), ("currency", "currency", False),
    ("timezone", "timezone", False), ("role", "role", False), ("isDefault", "is_default", False),
    ("joinedAt", "joined_at", True),
)  # fmt: skip
INVITATION = (
    ("id", "id", False), ("ledgerId", "ledger_id", False), ("ledgerName", "ledger_name", False),
    ("email", "email", False), ("role", "role", False), ("status", "status", False),
    ("createdAt", "created_at", True), ("expiresAt", "expires_at", True),
    ("respondedAt", "responded_at", True),
)  # fmt: skip
IMPORT = (
    ("id", "id", False), ("ledgerId", "ledger_id", False), ("status", "status", False),
    ("format", "format", False), ("account", "account", False),
    ("fileName", "file_name", False), ("currency", "currency", False),
    ("createdAt", "created_at", True), ("committedAt", "committed_at", True),
    ("undoneAt", "undone_at", True),
)  # fmt: skip
EVENT = (
    ("id", "id", False), ("at", "at", True), ("kind", "kind", False),
    ("address", "address", False), ("userAgent", "user_agent", False),
    ("sessionId", "session_id", False), ("detail", "detail", False),
)  # fmt: skip


def _shown(row: dict, shape: tuple[tuple[str, str, bool], ...]) -> dict:
    shown = {}
    for key, column, is_timestamp in shape:
        if column not in row:  # a list without that column (sent invitations: no ledger name)
            continue
        item = row[column]
        if item is not None and is_timestamp:
            item = utc_timestamp(item)
        elif item is not None and not isinstance(item, (str, int, bool, dict, list)):
            item = str(item)  # a session's uuid
        shown[key] = item
    return shown


# --- Erasure ----------------------------------------------------------------------------------


def erase(
    conn: Connection, auth: AuthSetup, *, user: dict, password: str, totp: str | None,
    origin: Origin,
) -> None:  # fmt: skip
    """Erases the caller's account (see the module's note), in the caller's transaction. A
    wrong password is 403 `invalid_password` and a wrong second factor 403 `invalid_totp`,
    each counted toward the login throttle of the account's email like a failed login (a stolen
    access token must not become a way to guess the password); past it, 429 `login_throttled`
    before anything is checked. 409 `sole_owner` (naming the ledgers) while the account is the
    only owner of a ledger with other members. Nothing changes unless all of it commits."""
    user_id, email = user["id"], user["email"]
    throttle = login_throttle.LoginThrottle(auth.settings, auth.throttle_store)
    throttle.check(conn, email, origin.address or "unknown")
    account = erasure.lock_account(conn, user_id=user_id)
    if account is None:
        raise NotFound("No such account.")
    if not auth.hasher.verify(password, account["password_hash"]):
        _refused(auth, throttle, account, origin, reason="password")
        raise InvalidPassword("The password is incorrect.")
    _confirm_second_factor(conn, auth, account, totp, origin)

    memberships = erasure.memberships_locked(conn, user_id=user_id)
    sole = [
        m for m in memberships if m["role"] == "owner" and m["owners"] == 1 and m["members"] > 1
    ]
    if sole:
        names = ", ".join(f"{m['name']} ({m['ledger_id']})" for m in sole)
        raise SoleOwner(
            f"You are the only owner of ledgers other people belong to: {names}. Make another "
            "member owner of each, or remove its members, first.",
            ledgers=[{"id": m["ledger_id"], "name": m["name"]} for m in sole],
        )

    erasure.begin(conn, user_id=user_id)
    actors = {
        m["ledger_id"]: Actor(
            user_id, m["ledger_id"], m["role"], m["currency"], m["timezone"], m["has_webhooks"]
        )
        for m in memberships
    }
    for m in memberships:
        if m["members"] == 1:
            ledgers.delete_with_account(conn, actors.pop(m["ledger_id"]))
    to_them = _delete_invitations(conn, user_id, email)
    for item in erasure.created_transactions(conn, user_id=user_id):
        erasure.forget_creator(conn, ledger_id=item["ledger_id"], user_id=user_id)
        hook.record_creator_erased(conn, user_id, item["ledger_id"], item["currency"], item["ids"])
    _pause_rules_acting_as(conn, user_id)
    for actor in actors.values():
        ledgers.leave_with_account(conn, actor)
    throttle.forget(conn, email)
    erasure.rewrite_change_logs(conn, user_id=user_id, invitations_to_them=to_them)
    erasure.delete_account(conn, user_id=user_id)
    log.info("account %s erased (%d ledgers left, %d deleted)", user_id, len(actors),
             len(memberships) - len(actors))  # fmt: skip


def _confirm_second_factor(
    conn: Connection, auth: AuthSetup, account: dict, code: str | None, origin: Origin
) -> None:
    """With two-factor sign-in on, a current code or a recovery code is needed too (403
    `totp_required` / `invalid_totp`); the check spends it, and a wrong one counts like a failed
    login (event `account_erase_failed`, reason `totp`)."""
    two_factor.confirm(
        conn, auth, user_id=account["id"], email=account["email"], code=code, origin=origin,
        failed_event="account_erase_failed",
    )  # fmt: skip


def _refused(
    auth: AuthSetup, throttle: login_throttle.LoginThrottle, account: dict, origin: Origin,
    **detail,
) -> None:  # fmt: skip
    """A refused erasure counts as a failed login; its event is written in a transaction of its
    own, as the request's rolls back."""
    throttle.record_failure(account["email"], origin.address or "unknown")
    with auth.database.independent_transaction() as own:
        events.record(own, account["id"], "account_erase_failed", origin, **detail)


def _delete_invitations(conn: Connection, user_id: int, email: str) -> list[tuple[int, int]]:
    """Deletes the invitations the account made and those made to it, each the ledger's list
    still showed logged `deleted` by them; (ledger_id, id) of those to them."""
    to_them = []
    for row in erasure.invitations(conn, user_id=user_id, email=email):
        erasure.delete_invitation(conn, ledger_id=row["ledger_id"], id=row["id"])
        if row["listed"]:
            before = hook.render_in(row["currency"], "invitation", row)
            hook.record_by_person(
                conn, user_id, row["ledger_id"], "invitation", "deleted", before=before
            )
        if row["to_them"]:
            to_them.append((row["ledger_id"], row["id"]))
    return to_them


def _pause_rules_acting_as(conn: Connection, user_id: int) -> None:
    """The running recurring rules acting as the account pause (`member_left`): what the worker
    does when a rule's member has left (services/recurring/runs.py), done now, as the service's
    own change. A member who resumes one becomes the one it acts as."""
    for item in erasure.rules_acting_as(conn, user_id=user_id):
        before = recurring.get(conn, ledger_id=item["ledger_id"], rule_id=item["id"])
        after = recurring.pause(
            conn, ledger_id=item["ledger_id"], rule_id=item["id"], reason="member_left"
        )
        hook.record_by_service(
            conn,
            item["ledger_id"],
            "recurring",
            "updated",
            before=hook.render_in(item["currency"], "recurring", before),
            after=hook.render_in(item["currency"], "recurring", after),
        )
