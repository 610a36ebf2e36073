"""/api/notifications: the budget alerts, newest first; marking one read."""

from __future__ import annotations

from flask.views import MethodView

from ..db import get_conn
from ..errors import NotFound
from ..jsonio import Blueprint
from ..repositories import alerts
from ..schemas.budgets import NotificationPageSchema, NotificationQuerySchema
from ..schemas.transactions import AlertSchema
from . import pagination
from .common import authenticated, idempotent, problem_response, user_id

blp = Blueprint(
    "notifications", __name__, url_prefix="/api/notifications", description="Budget alerts"
)


@blp.route("")
class Notifications(MethodView):
    @authenticated(blp)
    @blp.arguments(NotificationQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, NotificationPageSchema)
    def get(self, unread, limit, cursor=None):
        """List alerts, newest first"""
        rows = alerts.list_page(
            get_conn(),
            user_id=user_id(),
            unread_only=unread,
            limit=limit + 1,
            before_id=pagination.decode_id(cursor) if cursor else None,
        )
        items, next_cursor = pagination.page_by_id(rows, limit)
        return {"items": items, "next_cursor": next_cursor}


@blp.route("/<id:alert_id>/read")
class MarkRead(MethodView):
    @authenticated(blp)
    @idempotent(blp)
    @blp.response(200, AlertSchema)
    @problem_response(blp, 404, "No such alert of yours")
    def post(self, alert_id):
        """Mark an alert read (reading it again keeps the first time)"""
        row = alerts.mark_read(get_conn(), user_id=user_id(), alert_id=alert_id)
        if row is None:
            raise NotFound("No such alert.")
        return row
