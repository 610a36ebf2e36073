"""Idempotency-Key for every authenticated POST, as one mechanism for all endpoints.

The key is claimed in the request's own database transaction before the view runs, and the
response is stored in that same transaction just before it commits. So: the work and the record
of it commit together or not at all; a concurrent request with the same key waits on the claim
and then replays the first one's answer; an error answer rolls back and frees the key for a
retry. The same key with a different request (method, path, query or body) is 422.

Refresh and logout change the very session their token belongs to, so a retry of either would
fail the token check (its refresh token rotated away, its session ended). For them the key is
claimed, and a stored answer replayed, before the token is checked (begin_for_session); the
answer is bound to the token's session (and for a refresh, to the refresh token itself), so the
same key from another session is 422 and never another session's tokens.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from uuid import UUID

from flask import Flask, Response, current_app, g, request

from ...domain.errors import ValidationFailed
from ...services import idempotency_keys
from .jsonio import loads
from .problems import HttpError
from .request_transaction import expect_work_after_view, get_conn

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # visible ASCII, as in the IETF draft's examples
_KEY = re.compile(KEY_PATTERN)


class KeyReused(HttpError):
    status, code = 422, "idempotency_key_reused"


class KeyInProgress(HttpError):
    status, code = 409, "idempotency_key_in_progress"


def _multipart_body() -> bytes:
    """An upload's form as the same bytes whatever boundary the client chose for its retry:
    its text fields and its files (name, file name, content digest), in order of name."""
    parts = sorted((name, value) for name, value in request.form.items(multi=True))
    files = []
    for name, upload in request.files.items(multi=True):
        digest = hashlib.sha256()
        stream = upload.stream
        while chunk := stream.read(1 << 16):
            digest.update(chunk)
        stream.seek(0)
        files.append((name, upload.filename or "", digest.hexdigest()))
    return json.dumps([parts, sorted(files)], separators=(",", ":")).encode()


def _request_hash(bound_to: bytes) -> bytes:
    if request.mimetype == "multipart/form-data":
        body = _multipart_body()
    else:
        raw = request.get_data(cache=True)
        try:  # the same JSON written differently (spacing, key order) is the same request
            body = json.dumps(
                loads(raw), sort_keys=True, separators=(",", ":"), default=str
            ).encode()
        except (ValueError, RecursionError):  # not JSON, or nested too deep: the view answers 400
            body = raw
    digest = hashlib.sha256()
    parts = [request.method.encode(), request.path.encode(), request.query_string, body]
    if bound_to:  # only then: keys stored before bindings existed must still match their retry
        parts.append(bound_to)
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.digest()


def check_key() -> None:
    """A request's Idempotency-Key, when it has one, has the documented form (422 otherwise),
    also where it turns out to be unused (a GraphQL request without a mutation)."""
    key = request.headers.get(HEADER)
    if key is not None and not _KEY.match(key):
        raise ValidationFailed({HEADER: ["Must be 1 to 255 visible ASCII characters."]})


def begin(
    user_id: int, *, bound_to: bytes = b"", keep: timedelta = idempotency_keys.KEEP
) -> Response | None:
    """Claims the request's key, to be kept for `keep`; returns the stored response when this is
    a replay. `bound_to` is part of what must match for a replay, besides the request itself."""
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None:
        return None
    check_key()
    conn = get_conn()
    request_hash = _request_hash(bound_to)
    if idempotency_keys.claim(conn, user_id=user_id, key=key, request_hash=request_hash, keep=keep):
        g.idempotency = (user_id, key)
        expect_work_after_view()  # the answer is stored in this transaction, after the view
        return None
    stored = idempotency_keys.stored(conn, user_id=user_id, key=key)
    if stored is None:  # expired and removed between the two statements: treat as new
        return begin(user_id, bound_to=bound_to, keep=keep)
    if bytes(stored["request_hash"]) != request_hash:
        raise KeyReused(f"This {HEADER} was already used for a different request.")
    if stored["response_status"] is None:
        raise KeyInProgress("A request with this key is still being processed.")
    response = current_app.response_class(
        stored["response_body"], status=stored["response_status"], mimetype="application/json"
    )
    response.headers["Idempotent-Replayed"] = "true"
    return response


def forget_claim() -> None:
    """The request's transaction rolled back, and its claim with it: a request that runs again
    (api/core/retry.py) claims its key afresh."""
    g.pop("idempotency", None)


def begin_for_session(
    user_id: int, session_id: UUID, refresh_jti: str | None, *, keep: timedelta
) -> Response | None:
    """begin() for refresh and logout, called before their token's session is checked, with
    what the token claims (api/tokens.claims_before_session_check)."""
    return begin(user_id, bound_to=f"{session_id}/{refresh_jti or ''}".encode(), keep=keep)


def _store(response: Response) -> Response:
    owner = g.pop("idempotency", None)
    if owner is not None and response.status_code < 400 and not g.get("db_force_rollback"):
        user_id, key = owner
        idempotency_keys.save_response(
            get_conn(),
            user_id=user_id,
            key=key,
            status=response.status_code,
            body=response.get_data(as_text=True),
        )
    return response


def init_app(app: Flask) -> None:
    # after_request functions run in reverse order of registration: this one is registered after
    # db.init_app's commit hook, so it runs first, inside the transaction it commits.
    app.after_request(_store)
