"""Every REST request whose transaction PostgreSQL aborts (a deadlock, a serialization failure)
runs again from the start, in one place for all views (the rule and its bounds: ../retry.py).

Each view function of the app is wrapped. On such an abort the request's transaction is rolled
back, the per-request state that it made meaningless is forgotten (the Idempotency-Key claim, the
dry-run flag), and the whole view runs again: token check, idempotency claim, parsing, the work.
So a retried request is answered exactly as if it had been the first, and the client never sees
the conflict unless every attempt is aborted (503 `transaction_conflict` with Retry-After).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Flask

from ...db import retry
from . import idempotency, request_transaction


def init_app(app: Flask) -> None:
    """Wraps every view registered so far: call it once the routes are registered (create_app
    does, last). Calling it again wraps only the views added since."""
    for endpoint, view in list(app.view_functions.items()):
        if not getattr(view, _WRAPPED, False):
            app.view_functions[endpoint] = _retrying(view)


_WRAPPED = "expense_api_retries_aborted_transactions"


def _retrying(view: Callable) -> Callable:
    @functools.wraps(view)
    def run_until_not_aborted(*args, **kwargs):
        return retry.retry_on_conflict(lambda: view(*args, **kwargs), rollback=_start_over)

    setattr(run_until_not_aborted, _WRAPPED, True)
    return run_until_not_aborted


def _start_over() -> None:
    request_transaction.start_over()
    idempotency.forget_claim()
