"""/api/notifications: the budget alerts, newest first; marking one read.

The one v1 route not scoped to the default ledger: /api/notifications lists, and marks read, the
alerts of every ledger the caller belongs to; /api/ledgers/<id>/notifications those of one."""

from __future__ import annotations

from flask.views import MethodView

from ..services import alerts
from .core import pagination
from .core.blueprint import Blueprint
from .core.request_transaction import get_conn
from .core.views import actor, authenticated, idempotent, on_ledger_path, problem_response, user
from .schemas.alerts import AlertPageSchema, AlertQuerySchema, AlertSchema

# The URL (and so the tag) says notifications: that is the contract; the code says alerts.
blp = Blueprint(
    "notifications", __name__, url_prefix="/api/notifications", description="Budget alerts"
)


@blp.route("")
class Alerts(MethodView):
    @authenticated(blp)
    @blp.arguments(AlertQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, AlertPageSchema)
    def get(self, unread, limit, cursor=None):
        """List alerts, newest first (on /api/notifications: of every ledger you belong to)"""
        page = {
            "unread_only": unread,
            "limit": limit + 1,
            "before_id": pagination.decode_id(cursor) if cursor else None,
        }
        if on_ledger_path():
            rows = alerts.list_page(get_conn(), actor(), **page)
        else:
            rows = alerts.list_page_across_ledgers(get_conn(), user()["id"], **page)
        items, next_cursor = pagination.page_by_id(rows, limit)
        return {"items": items, "next_cursor": next_cursor}


@blp.route("/<id:alert_id>/read")
class MarkRead(MethodView):
    @authenticated(blp)
    @idempotent(blp)
    @blp.response(200, AlertSchema)
    @problem_response(blp, 404, "No such alert of yours")
    def post(self, alert_id):
        """Mark an alert read for you (reading it again keeps the first time)"""
        if on_ledger_path():
            return alerts.mark_read(get_conn(), actor(), alert_id)
        return alerts.mark_read_in_any_ledger(get_conn(), user()["id"], alert_id)
