"""Login throttling: too many failures for one email, or from one client address, get 429.

Counters live in a store every gunicorn worker (and every instance behind a load balancer)
shares: PostgreSQL by default, or Redis (see throttle_stores.py). A blocked login is refused
before the password is checked, so a correct guess during the block does not get through either.
"""

from __future__ import annotations

from flask import current_app

from ..errors import ApiError


class LoginThrottled(ApiError):
    status, code = 429, "login_throttled"


def _store():
    return current_app.extensions["throttle_store"]


def _keys(email: str, address: str) -> tuple[str, str]:
    return f"email:{email.strip().lower()}", f"address:{address}"


def check(settings, email: str, address: str) -> None:
    email_key, address_key = _keys(email, address)
    seconds = _store().seconds_blocked(
        {email_key: settings.login_max_failures_per_email,
         address_key: settings.login_max_failures_per_address}
    )  # fmt: skip
    if seconds is not None:
        retry_after = max(1, seconds)
        raise LoginThrottled(
            f"Too many failed logins; try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )


def record_failure(settings, email: str, address: str) -> None:
    _store().record_failure(sorted(_keys(email, address)))


def record_success(email: str, address: str) -> None:
    # Only the email's counter: one good password must not unlock guessing at other accounts
    # from the same address.
    _store().clear(_keys(email, address)[0])
