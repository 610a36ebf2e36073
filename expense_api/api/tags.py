"""/api/ledgers/<id>/tags: the ledger's tags in use, with counts (a v3 route: under the
ledger's path only, no default-ledger alias)."""

from __future__ import annotations

from flask.views import MethodView

from ..services import tags
from .core.blueprint import Blueprint
from .core.ledger_paths import LEDGER_PREFIX
from .core.read_connection import read_conn
from .core.views import actor, authenticated, problem_response
from .schemas.tags import TagListSchema

blp = Blueprint(
    "tags",
    __name__,
    url_prefix=f"{LEDGER_PREFIX}/tags",
    description="Tags: the labels a ledger's transactions carry",
)


@blp.route("")
class Tags(MethodView):
    @authenticated(blp)
    @blp.response(200, TagListSchema)
    @problem_response(blp, 404, "No such ledger of yours (you are not a member of it)")
    def get(self):
        """List the ledger's tags, by name (case-insensitively)

        Every member may read them. Only tags that at least one transaction carries, each with
        `count` (how many do), in the case the ledger first wrote it."""
        return {"items": tags.list_all(read_conn(), actor())}
