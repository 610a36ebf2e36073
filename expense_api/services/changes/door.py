"""Which door a unit of work came through (`via` in the change log), set by the door itself.

A context variable, like the request id (ops/logs.REQUEST_ID): the REST API sets `rest` for the
whole request (GraphQL's view narrows it to `graphql`), the worker `worker` for each job, the
CLI `cli`. Unset, the hook refuses to record: a new door that forgot to say what it is fails at
its first write instead of writing entries nobody can attribute.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from ...ops import logs

DOORS = ("rest", "graphql", "worker", "import", "cli")

VIA: contextvars.ContextVar[str | None] = contextvars.ContextVar("expense_api_via", default=None)


@contextlib.contextmanager
def through(via: str) -> Iterator[None]:
    """The unit of work inside the block came through `via`."""
    assert via in DOORS, via
    token = VIA.set(via)
    try:
        yield
    finally:
        VIA.reset(token)


@contextlib.contextmanager
def unit_of_work(via: str) -> Iterator[None]:
    """A unit of work of its own through `via` (one step of a worker's job): a new request id,
    which its change-log entries share."""
    request_id = logs.REQUEST_ID.set(logs.new_request_id())
    try:
        with through(via):
            yield
    finally:
        logs.REQUEST_ID.reset(request_id)


def current() -> str:
    via = VIA.get()
    if via is None:
        raise RuntimeError(
            "a change to a ledger outside any door: wrap the unit of work in door.through(...)"
        )
    return via
