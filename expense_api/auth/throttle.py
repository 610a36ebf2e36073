"""Login throttling: too many failures for one email, or from one client address, get 429.

Counters live in PostgreSQL, so every gunicorn worker (and every instance behind a load
balancer) sees the same numbers. A blocked login is refused before the password is checked,
so a correct guess during the block does not get through either.
"""

from __future__ import annotations

from ..config import Settings
from ..db import get_conn, get_database
from ..errors import ApiError
from ..repositories import login_throttle


class LoginThrottled(ApiError):
    status, code = 429, "login_throttled"


def _keys(email: str, address: str) -> tuple[str, str]:
    return f"email:{email.strip().lower()}", f"address:{address}"


def check(settings: Settings, email: str, address: str) -> None:
    email_key, address_key = _keys(email, address)
    seconds = login_throttle.seconds_blocked(
        get_conn(),
        email_key=email_key,
        address_key=address_key,
        email_limit=settings.login_max_failures_per_email,
        address_limit=settings.login_max_failures_per_address,
        window_seconds=settings.login_throttle_seconds,
    )
    if seconds is not None:
        retry_after = max(1, seconds)
        raise LoginThrottled(
            f"Too many failed logins; try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )


def record_failure(settings: Settings, email: str, address: str) -> None:
    # Its own transaction: the request answers 401 and rolls back, the count must stay.
    with get_database().independent_transaction() as conn:
        login_throttle.record_failure(
            conn, keys=list(_keys(email, address)), window_seconds=settings.login_throttle_seconds
        )


def record_success(email: str, address: str) -> None:
    email_key, _ = _keys(email, address)
    login_throttle.clear(get_conn(), email_key)
