"""Personal access tokens: long-lived bearer tokens for scripts, which cannot answer a login's
second factor.

The token text is `eat_<user id>_<43 characters of secrets.token_urlsafe(32)>`, shown once, at
creation. The service keeps only its SHA-256 digest: 256 random bits need no slow hash (nothing
to guess), and a fast one lets the digest be the lookup key, so a request costs one indexed
query, never a bcrypt per request. The user id in the text is the tenant key the lookup filters
by, as every query does; the digest covers the whole text, so a token with another user's id
written into it is simply unknown. A `read` token may read, a `write` token write; neither may
manage the account's security (the door refuses those routes: api/core/bearer.py).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from uuid import UUID

from psycopg import Connection

from ...domain.errors import Conflict, NotFound
from ...repositories import personal_access_tokens
from . import events
from .events import Origin

PREFIX = "eat_"
SCOPES = ("read", "write")
MAX_PER_USER = 50
MAX_EXPIRES_IN_DAYS = 3650
_TEXT = re.compile(r"eat_([1-9][0-9]{0,18})_([A-Za-z0-9_-]{43})")
_MAX_ID = 2**63 - 1


class TooManyTokens(Conflict):
    code = "too_many_tokens"


def digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def owner_of(text: str) -> int | None:
    """The user id a well-formed token text carries, or None for anything else."""
    match = _TEXT.fullmatch(text)
    if match is None or int(match.group(1)) > _MAX_ID:
        return None
    return int(match.group(1))


def create(
    conn: Connection, *, user_id: int, name: str, scope: str, expires_in_days: int | None,
    origin: Origin,
) -> dict:  # fmt: skip
    """A new token: its row, and its text under `token` (the only time it is given)."""
    token_id = uuid.uuid4()
    text = f"{PREFIX}{user_id}_{secrets.token_urlsafe(32)}"
    row = personal_access_tokens.insert_within_cap(
        conn, user_id=user_id, token_id=token_id, name=name, token_hash=digest(text),
        scope=scope, expires_in_days=expires_in_days, cap=MAX_PER_USER,
    )  # fmt: skip
    if row is None:
        raise TooManyTokens(
            f"An account has at most {MAX_PER_USER} personal access tokens; delete one first."
        )
    events.record(
        conn, user_id, "token_created", origin, token_id=str(token_id), name=name, scope=scope
    )
    return {**row, "token": text}


def list_all(conn: Connection, *, user_id: int) -> list[dict]:
    return personal_access_tokens.list_for_user(conn, user_id=user_id)


def delete(conn: Connection, *, user_id: int, token_id: UUID, origin: Origin) -> None:
    if not personal_access_tokens.delete(conn, user_id=user_id, token_id=token_id):
        raise NotFound("No such token.")
    events.record(conn, user_id, "token_revoked", origin, token_id=str(token_id))


def authenticate(conn: Connection, text: str) -> dict | None:
    """The user row of a token (the session check's columns, with `token_id`, `token_scope`
    and `token_expired`), or None when the text is no token of a live account."""
    user_id = owner_of(text)
    if user_id is None:
        return None
    return personal_access_tokens.get_with_user(conn, user_id=user_id, token_hash=digest(text))
