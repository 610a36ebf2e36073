"""Two-factor sign-in: TOTP (RFC 6238: 30-second steps, 6 digits, HMAC-SHA1, as every
authenticator app computes them) and one-time recovery codes.

- A setup makes a random secret and keeps it, encrypted, as pending; enabling takes a first
  code of it, which proves the person's app has it, and answers ten recovery codes (shown
  once). Disabling takes the password and a code.
- A code is accepted for the current step or one step either side (clocks drift, people type
  slowly), and each step once: the step of an accepted code is claimed with one conditional
  UPDATE (sql/two_factor.sql claim_step), so a code seen over someone's shoulder, or sent by two
  logins at once, gets in once at most, and so does any code of an earlier step.
- Secrets are Fernet tokens under WEBHOOK_SECRETS_KEY (the webhook secrets' cipher): a dump of
  the database alone gives no secret. Recovery codes carry 80 random bits and are stored as
  SHA-256 digests: nothing a slow hash would add against guessing.
- Time is read through `clock` (seconds since the epoch), one function tests replace.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import math
import re
import secrets
import time
from typing import TYPE_CHECKING

import pyotp
import segno
from psycopg import Connection

from ...domain.errors import Conflict, Forbidden, ValidationFailed
from ...repositories import two_factor
from ..webhooks import signing
from . import events
from . import throttle as login_throttle
from .events import Origin
from .passwords import InvalidPassword

if TYPE_CHECKING:  # accounts calls verify() at login
    from .accounts import AuthSetup

ISSUER = "expense-api"
STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1  # one step either way
RECOVERY_CODES = 10
RECOVERY_CODE_BYTES = 10  # 80 bits: 16 base32 characters, shown as xxxx-xxxx-xxxx-xxxx

# A current code, or a recovery code (any case, dashes optional). The schemas use these too.
TOTP_CODE_PATTERN = r"^[0-9]{6}$"
SECOND_FACTOR_PATTERN = r"^([0-9]{6}|[A-Za-z2-7]{4}(-?[A-Za-z2-7]{4}){3})$"
_TOTP_CODE = re.compile(TOTP_CODE_PATTERN)

clock = time.time  # seconds since the epoch; tests put a fixed clock here


class TotpAlreadyEnabled(Conflict):
    code = "totp_already_enabled"


class TotpNotSetUp(Conflict):
    code = "totp_not_set_up"


class TotpNotEnabled(Conflict):
    code = "totp_not_enabled"


class TotpCodeRequired(Forbidden):
    """Two-factor is on and a signed-in request that needs it gave no code (403: the token is
    fine)."""

    code = "totp_required"


class TotpRefused(Forbidden):
    """A wrong second factor on a signed-in request (403: the token is fine)."""

    code = "invalid_totp"


def current_step() -> int:
    return int(clock()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    """The code of a time step (what an authenticator app shows during it)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def matching_step(secret: str, code: str, *, after: int | None) -> int | None:
    """The latest step within the drift whose code this is and which is later than `after`
    (the last step used), or None. Every candidate is compared, in constant time."""
    now = current_step()
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(secret, step), code) and (after is None or step > after):
            found = step
    return found


def _encrypt(auth: AuthSetup, secret: str) -> str:
    return signing.encrypt(auth.settings.webhook_secrets_key, secret).decode()


def _decrypt(auth: AuthSetup, token: str) -> str:
    return signing.decrypt(auth.settings.webhook_secrets_key, token.encode())


def _digest(recovery_code: str) -> bytes:
    return hashlib.sha256(recovery_code.replace("-", "").upper().encode()).digest()


def _new_recovery_code() -> str:
    text = base64.b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode().lower()
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def _qr_code(uri: str) -> str:
    """The URI's QR code as an SVG data URI: drawn here, shown by the dashboard in an <img>
    (an image never runs script), so no markup of ours or of a library reaches a page."""
    svg = io.BytesIO()
    segno.make(uri, error="m").save(svg, kind="svg", xmldecl=False, border=2, scale=4)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.getvalue()).decode()


def _state(conn: Connection, user_id: int) -> dict:
    state = two_factor.lock_state(conn, user_id)
    assert state is not None, "an authenticated user's row exists"
    return state


def setup(conn: Connection, auth: AuthSetup, *, user_id: int) -> dict:
    """A new pending secret (replacing a pending one): the secret, its otpauth:// URI and the
    URI's QR code, for the person's authenticator app."""
    state = _state(conn, user_id)
    if state["totp_secret"] is not None:
        raise TotpAlreadyEnabled("Two-factor sign-in is already on; disable it first.")
    secret = pyotp.random_base32()
    two_factor.set_pending(conn, user_id, _encrypt(auth, secret))
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=state["email"], issuer_name=ISSUER
    )
    return {"secret": secret, "otpauth_uri": uri, "qr_code": _qr_code(uri)}


def enable(
    conn: Connection, auth: AuthSetup, *, user_id: int, code: str, origin: Origin
) -> list[str]:
    """Two-factor on, once `code` proves the app has the pending secret; the new recovery
    codes (the old ones, of an earlier enabling, are gone)."""
    state = _state(conn, user_id)
    if state["totp_secret"] is not None:
        raise TotpAlreadyEnabled("Two-factor sign-in is already on.")
    if state["totp_pending_secret"] is None:
        raise TotpNotSetUp("Set up two-factor sign-in first (POST /api/auth/totp/setup).")
    step = matching_step(_decrypt(auth, state["totp_pending_secret"]), code, after=None)
    if step is None:
        # A field of the body is wrong; the caller is signed in (401 would sign them out).
        raise ValidationFailed({"code": ["Not the current code of the secret being set up."]})
    two_factor.enable(conn, user_id, pending=state["totp_pending_secret"], step=step)
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    two_factor.replace_recovery_codes(conn, user_id, [_digest(code) for code in codes])
    events.record(conn, user_id, "totp_enabled", origin)
    return codes


def verify(
    conn: Connection, auth: AuthSetup, *, user_id: int, encrypted_secret: str,
    last_step: int | None,
    code: str, origin: Origin,
) -> bool:  # fmt: skip
    """Whether `code` is a second factor of the account, spending it: a current code (its step
    claimed) or an unused recovery code (marked used, event `recovery_code_used`). False for a
    wrong, replayed or concurrently spent code; the caller refuses the request."""
    if _TOTP_CODE.fullmatch(code):
        step = matching_step(_decrypt(auth, encrypted_secret), code, after=last_step)
        return step is not None and two_factor.claim_step(conn, user_id, step)
    presented = _digest(code)
    # Compared with each unused digest in constant time (no early exit), not looked up by it.
    matched = None
    for stored in two_factor.unused_recovery_codes(conn, user_id):
        if hmac.compare_digest(stored, presented):
            matched = stored
    if matched is None:
        return False
    left = two_factor.spend_recovery_code(conn, user_id, matched)
    if left is None:
        return False
    events.record(conn, user_id, "recovery_code_used", origin, codes_left=left)
    return True


def disable(
    conn: Connection, auth: AuthSetup, *, user_id: int, email: str, password: str, code: str,
    origin: Origin,
) -> None:  # fmt: skip
    """Two-factor off, given the password and a current code or a recovery code. A wrong
    password or code counts toward the login throttle of the account's email, like a failed
    login: a stolen access token must not become a way to guess them."""
    throttle = login_throttle.LoginThrottle(auth.settings, auth.throttle_store)
    throttle.check(conn, email, origin.address or "unknown")
    state = _state(conn, user_id)
    if not auth.hasher.verify(password, state["password_hash"]):
        _refused(auth, throttle, user_id, email, origin, "totp_disable_failed", reason="password")
        raise InvalidPassword("The password is incorrect.")
    if state["totp_secret"] is None:
        raise TotpNotEnabled("Two-factor sign-in is not on.")
    _confirm(conn, auth, throttle, state, user_id, email, code, origin, "totp_disable_failed")
    two_factor.disable(conn, user_id)
    events.record(conn, user_id, "totp_disabled", origin)


def confirm(
    conn: Connection, auth: AuthSetup, *, user_id: int, email: str, code: str | None,
    origin: Origin, failed_event: str,
) -> None:  # fmt: skip
    """For a signed-in request that must also show the second factor when two-factor is on
    (erasing the account, say): nothing when it is off; 403 `totp_required` without a code;
    403 `invalid_totp` for a wrong one, counted toward the login throttle with the event
    `failed_event` (reason "totp"). The code is spent. Check the throttle and the password
    first."""
    state = _state(conn, user_id)
    if state["totp_secret"] is None:
        return
    if code is None:
        raise TotpCodeRequired("Two-factor sign-in is on: give a current code.")
    throttle = login_throttle.LoginThrottle(auth.settings, auth.throttle_store)
    _confirm(conn, auth, throttle, state, user_id, email, code, origin, failed_event)


def check_daily_limit(conn: Connection, auth: AuthSetup, user_id: int) -> None:
    """429 `login_throttled` once the account has sent TOTP_MAX_FAILURES_PER_DAY wrong codes in
    24 hours, whatever the code now. The login throttle's window starts afresh every
    LOGIN_THROTTLE_SECONDS, so on its own someone who has the password could go on guessing
    for ever, 5 codes each 15 minutes, three of the million valid at any time: even odds in
    about 16 months. With 20 a day, even odds take about 30 years."""
    limit = auth.settings.totp_max_failures_per_day
    recent = two_factor.code_failures_today(conn, user_id, limit)
    if recent["failures"] >= limit:
        retry_after = max(1, math.ceil(recent["lifts_in"].total_seconds()))
        raise login_throttle.LoginThrottled(
            f"Too many wrong codes today; try again in {retry_after} seconds.",
            retry_after=retry_after,
        )


def _confirm(
    conn: Connection, auth: AuthSetup, throttle: login_throttle.LoginThrottle, state: dict,
    user_id: int, email: str, code: str, origin: Origin, failed_event: str,
) -> None:  # fmt: skip
    address = origin.address or "unknown"
    check_daily_limit(conn, auth, user_id)
    throttle.count_code_attempt(conn, email, address)  # before the code is checked, as login
    if not verify(
        conn, auth, user_id=user_id, encrypted_secret=state["totp_secret"],
        last_step=state["totp_last_step"], code=code, origin=origin,
    ):  # fmt: skip
        throttle.record_code_failure(email, address)
        events.record_apart(auth.database, user_id, failed_event, origin, reason="totp")
        raise TotpRefused("The code is wrong, or was used already.")
    throttle.record_success(conn, email, address)


def _refused(
    auth: AuthSetup, throttle: login_throttle.LoginThrottle, user_id: int, email: str,
    origin: Origin, kind: str, **detail,
) -> None:  # fmt: skip
    throttle.record_failure(email, origin.address or "unknown")
    events.record_apart(auth.database, user_id, kind, origin, **detail)
