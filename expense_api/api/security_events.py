"""/api/auth/events: the caller's security history, newest first (services/auth/events)."""

from __future__ import annotations

from flask.views import MethodView

from ..services.auth import events
from .core import pagination
from .core.blueprint import Blueprint
from .core.request_transaction import get_conn
from .core.views import authenticated, problem_response, user
from .schemas.two_factor import SecurityEventPageSchema, SecurityEventQuerySchema

blp = Blueprint(
    "security_events",
    __name__,
    url_prefix="/api/auth/events",
    description="An account's security events: logins, failed logins, two-factor on and off",
)


@blp.route("")
class SecurityEvents(MethodView):
    @authenticated(blp)
    @blp.arguments(SecurityEventQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, SecurityEventPageSchema)
    @problem_response(blp, 422, "A parameter is not valid (a cursor this API did not issue)")
    def get(self, limit, cursor=None):
        """List your account's security events, newest first

        Logins (with the address and user agent they came from), failed logins (`detail.reason`
        `password` or `totp`), two-factor turned on or off, recovery codes used. Kept for
        SECURITY_EVENTS_DAYS (365 by default). Pass `nextCursor` as `cursor` for the next page."""
        rows = events.page(
            get_conn(),
            user_id=user()["id"],
            limit=limit + 1,
            before_id=pagination.decode_id(cursor) if cursor else None,
        )
        items, next_cursor = pagination.page_by_id(rows, limit)
        return {"items": items, "next_cursor": next_cursor}
