"""/api/ledgers/{id}/sync: a ledger's state, then what changed in it (delta sync)."""

from __future__ import annotations

from flask.views import MethodView

from ..db.snapshot import one_snapshot
from ..services.changes import sync
from .core.blueprint import Blueprint
from .core.request_transaction import get_conn
from .core.views import actor, authenticated, problem_response
from .schemas.sync import SyncQuerySchema, SyncSchema

blp = Blueprint(
    "sync",
    __name__,
    url_prefix="/api/ledgers",
    description="Delta sync: a ledger's state, then only what changed, from its change log",
)


@blp.route("/<id:ledger_id>/sync")
class Sync(MethodView):
    @authenticated(blp)
    @blp.arguments(SyncQuerySchema, location="query")
    @blp.response(200, SyncSchema)
    @problem_response(blp, 404, "No such ledger of yours (you are not a member of it)")
    @problem_response(
        blp,
        422,
        "`since` is not a whole number from 0 (`validation_error`), or is above the ledger's "
        "knowledge (`invalid_knowledge`)",
    )
    def get(self, query, ledger_id):
        """The ledger's state, or what changed in it after `since` (any member)

        Without `since`: the ledger's state and its `knowledge`. With `since` (the `knowledge`
        of an answer you got): every entity created, changed or deleted after it, each once, in
        its current state as its own GET shows it; the deleted ones in `deleted`. Ask again
        with the answer's `knowledge` to get what changes next: you never miss a change and
        never get one twice, whatever order concurrent writes commit in. At most
        1000 entities per answer (the whole state too): `hasMore: true` means ask again at once
        with the answer's `knowledge`. The ledger itself is in every answer, as it is now (its
        `role` and `isDefault` are the caller's). `payees` and `tags` (as their lists show
        them) are those whose count or last date a transaction change of the answer's range
        changed, each once, counted in the 1000; one that no transaction uses any more is in
        `deleted` (`payee`, `tag`). `rules` are the ledger's rules (a rule moved by
        another's create, move or delete changed its `position`, and is sent again). `rates`
        is always empty: the service has none yet. A `since` above the ledger's current
        knowledge is 422 `invalid_knowledge`."""
        with one_snapshot(get_conn()) as conn:
            return sync.answer(conn, actor(), since=query.get("since"))
