"""/api/ledgers/<id>/changes: the ledger's audit trail, newest first (a v3 route: under the
ledger's path only, no default-ledger alias)."""

from __future__ import annotations

from flask.views import MethodView

from ..services.changes import log
from .core import pagination
from .core.blueprint import Blueprint
from .core.ledger_paths import LEDGER_PREFIX
from .core.read_connection import read_conn
from .core.views import actor, authenticated, problem_response
from .schemas.changes import ChangePageSchema, ChangeQuerySchema

blp = Blueprint(
    "changes",
    __name__,
    url_prefix=f"{LEDGER_PREFIX}/changes",
    description="The change log: every change to a ledger's data, who made it and how",
)


@blp.route("")
class Changes(MethodView):
    @authenticated(blp)
    @blp.arguments(ChangeQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, ChangePageSchema)
    @problem_response(blp, 404, "No such ledger of yours (you are not a member of it)")
    def get(self, limit, cursor=None, **filters):
        """List the ledger's changes: newest first (highest seq)

        Every member reads the log; owners see every entry, editors and viewers every entry
        except those of webhooks and invitations. `from` and `to` are days in the ledger's time
        zone, inclusive (each alone: from that day on, up to that day); from after to is 422.
        `entityId` alone matches that id in every kind of entity. A cursor is one a previous
        page answered (`nextCursor`), with the same filters; any other is 422."""
        before_seq = pagination.decode_id(cursor) if cursor else None
        rows = log.page(read_conn(), actor(), limit=limit + 1, before_seq=before_seq, **filters)
        items, next_cursor = pagination.page_by_id(rows, limit, key="seq")
        return {"items": items, "next_cursor": next_cursor}
