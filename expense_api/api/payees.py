"""/api/ledgers/<id>/payees: the ledger's payees in use, with counts (a v3 route: under the
ledger's path only, no default-ledger alias)."""

from __future__ import annotations

from flask.views import MethodView

from ..services import payees
from .core.blueprint import Blueprint
from .core.ledger_paths import LEDGER_PREFIX
from .core.read_connection import read_conn
from .core.views import actor, authenticated, problem_response
from .schemas.payees import PayeeListSchema, PayeeQuerySchema

blp = Blueprint(
    "payees",
    __name__,
    url_prefix=f"{LEDGER_PREFIX}/payees",
    description="Payees: who a ledger's transactions were paid to or received from",
)


@blp.route("")
class Payees(MethodView):
    @authenticated(blp)
    @blp.arguments(PayeeQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, PayeeListSchema)
    @problem_response(blp, 404, "No such ledger of yours (you are not a member of it)")
    def get(self, limit, q=None):
        """List the ledger's payees: most used first, then by name

        Every member may read them. Only payees that at least one transaction names, each with
        `count` (how many do) and `lastUsedOn` (the latest of their dates): what a payee field
        suggests. `q` keeps those whose name holds the text, case-insensitively; `limit`
        (default 50, at most 200) cuts the list."""
        return {"items": payees.list_all(read_conn(), actor(), q=q, limit=limit)}
