"""/api/admin: accounts and counts for users with the admin system role (never ledger contents)."""

from __future__ import annotations

from functools import wraps

from flask.views import MethodView

from ..services import admin
from .core import pagination
from .core.blueprint import Blueprint
from .core.request_transaction import get_conn
from .core.views import authenticated, problem_response, user
from .schemas.admin import (
    AdminUserListSchema,
    AdminUserPatchSchema,
    AdminUserQuerySchema,
    AdminUserSchema,
    StatsSchema,
)

blp = Blueprint(
    "admin",
    __name__,
    url_prefix="/api/admin",
    description="System administration (admins only): accounts, their roles and status, counts",
)

_FORBIDDEN = "You are not an admin: `forbidden`"


def admins_only(view):
    """403 for a non-admin before the body is read (then the service checks again)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        admin.authorize(user())
        return view(*args, **kwargs)

    return wrapper


@blp.route("/users")
class Users(MethodView):
    @authenticated(blp)
    @blp.arguments(AdminUserQuerySchema, location="query")  # an unknown parameter: 422 for all
    @admins_only
    @blp.response(200, AdminUserListSchema)
    @problem_response(blp, 403, _FORBIDDEN)
    def get(self, query):
        """List accounts by id, optionally filtered by name or email (admins)"""
        limit = query["limit"]
        after_id = pagination.decode_id(query["cursor"]) if "cursor" in query else 0
        rows = admin.list_users(
            get_conn(), user(), q=query.get("q"), after_id=after_id, limit=limit + 1
        )
        items, next_cursor = pagination.page_by_id(rows, limit)
        return {"items": items, "next_cursor": next_cursor}


@blp.route("/users/<id:user_id>")
class User(MethodView):
    @authenticated(blp)
    @admins_only
    @blp.arguments(AdminUserPatchSchema)
    @blp.response(200, AdminUserSchema)
    @problem_response(
        blp,
        403,
        f"{_FORBIDDEN}; a personal access token (an admin's too): `session_required` (sign in)",
    )
    @problem_response(blp, 404, "No such user")
    @problem_response(
        blp, 409, "The last active admin can be neither demoted nor disabled: `last_admin`"
    )
    def patch(self, body, user_id):
        """Change an account's system role, or disable or enable it (admins)

        Disabling ends every session of the account at once: its tokens get 401 on their next
        request, and logging in gets 403 `account_disabled` until an admin enables it again.
        The last active admin can be neither demoted nor disabled (409 `last_admin`)."""
        return admin.update_user(
            get_conn(), user(), user_id, role=body.get("role"), disabled=body.get("disabled")
        )


@blp.route("/stats")
class Stats(MethodView):
    @authenticated(blp)
    @admins_only
    @blp.response(200, StatsSchema)
    @problem_response(blp, 403, _FORBIDDEN)
    def get(self):
        """Counts of users, ledgers and transactions, and the database's size (admins)"""
        return admin.stats(get_conn(), user())
