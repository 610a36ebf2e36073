"""/api/me: the caller's own data (GET /api/me/export) and erasing their account (DELETE
/api/me). services/account_data.py has the rules; docs/SECURITY.md, "Export and erasure",
what goes and what stays.

The export streams as a ledger's export does (api/exports.py's note): the view answers before
the first byte, and the stream borrows the request's connection again and reads in one
REPEATABLE READ READ ONLY snapshot on it until it ends.
"""

from __future__ import annotations

from flask import Response, current_app, stream_with_context
from flask.views import MethodView

from ..db.snapshot import one_snapshot
from ..services import account_data
from .core.blueprint import Blueprint
from .core.request_transaction import get_conn
from .core.views import authenticated, problem_response, request_origin, user
from .schemas.me import AccountExportSchema, EraseSchema

blp = Blueprint(
    "me",
    __name__,
    url_prefix="/api/me",
    description="Your own data: everything about your account, and erasing it",
)


@blp.route("")
class Me(MethodView):
    @authenticated(blp)
    @blp.arguments(EraseSchema)
    @blp.response(204)
    @problem_response(
        blp,
        403,
        "Wrong password: `invalid_password`; two-factor sign-in is on and no code was given: "
        "`totp_required`; a wrong or used code: `invalid_totp`",
    )
    @problem_response(
        blp,
        409,
        "You are the only owner of ledgers other people belong to: `sole_owner`; `ledgers` "
        "names them",
    )
    @problem_response(blp, 429, "Too many failed logins for this email or address: see Retry-After")
    @problem_response(
        blp,
        503,
        "The login throttle's store (Redis) cannot be reached: `throttle_unavailable`",
    )
    def delete(self, body):
        """Erase your account

        Needs your password (and with two-factor sign-in on, `totp`: a current code or a
        recovery code). A wrong one is 403 and counts as a failed login toward the login
        throttle (429 `login_throttled` past it). While you are the only owner of a ledger
        other people belong to, 409 `sole_owner` naming those ledgers: make another member
        owner first (or remove them). Otherwise, at once and all together: the ledgers only
        you belong to are deleted with everything in them; you leave every other ledger; the
        transactions you recorded there stay, with `createdBy` null; recurring rules acting as
        you pause (`pausedReason: member_left`); invitations you made or received are deleted;
        in change logs and webhook payloads your name becomes `"deleted user"` (your email
        null); your sessions, personal access tokens, security events and every token end
        (the next request with any of them is 401). `GET /api/me/export` first if you want a
        copy."""
        account_data.erase(
            get_conn(),
            current_app.extensions["auth"],
            user=user(),
            password=body["password"],
            totp=body.get("totp"),
            origin=request_origin(),
        )


@blp.route("/export")
class Export(MethodView):
    @authenticated(blp)
    @blp.response(
        200,
        AccountExportSchema,
        description="Everything about your account, streamed, as an attachment",
    )
    def get(self):
        """Export everything about your account (JSON)

        Your account (never a secret: no password hash, two-factor secret, recovery code or
        token), your sessions, personal access tokens (names and dates), memberships,
        invitations made and received, the recurring rules acting as you, the bank files you
        uploaded, the JSON export of each ledger you own (what `POST /api/ledgers` with
        `restore` takes) and your security events. One consistent snapshot, streamed: its
        size is not bounded by memory (you own at most 25 ledgers; each is read a page of
        transactions at a time)."""
        export = account_data.export(user()["id"])

        def chunks():
            conn = get_conn()  # the stream's own: see the module's note
            with one_snapshot(conn):
                for chunk in export.chunks(conn):
                    yield chunk.encode()

        return Response(
            stream_with_context(chunks()),
            content_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{export.file_name}"'},
        )
