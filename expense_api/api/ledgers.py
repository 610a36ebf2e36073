"""/api/ledgers: the caller's ledgers (list, create, get, rename, delete) and their members
(list, change a role, remove or leave)."""

from __future__ import annotations

from flask.views import MethodView

from ..services import exports, ledgers
from ..services.ledgers import MAX_LEDGERS_PER_USER, Actor
from .core.blueprint import Blueprint
from .core.request_transaction import get_conn
from .core.views import authenticated, idempotent, problem_response, user
from .schemas.ledgers import (
    LedgerInputSchema,
    LedgerListSchema,
    LedgerRenameSchema,
    LedgerSchema,
    MemberListSchema,
    MemberRoleSchema,
    MemberSchema,
)

blp = Blueprint(
    "ledgers",
    __name__,
    url_prefix="/api/ledgers",
    description="Ledgers: shared books, and their members with a role each",
)

_NOT_FOUND = "No such ledger of yours (you are not a member of it)"
_MEMBER_NOT_FOUND = "No such ledger of yours, or no such member in it"
_NOT_OWNER = "Your role in the ledger does not allow this (owners only): `forbidden`"
_LEDGER_IS_DEFAULT = "A member's default ledger: `ledger_is_default`"


def _actor(ledger_id: int) -> Actor:
    """The caller acting in the path's ledger; 404 when they are not a member."""
    return ledgers.actor_in(get_conn(), user_id=user()["id"], ledger_id=ledger_id)


@blp.route("")
class Ledgers(MethodView):
    @authenticated(blp)
    @blp.response(200, LedgerListSchema)
    def get(self):
        """List the ledgers you belong to, your default ledger first"""
        return {"items": ledgers.list_for_user(get_conn(), user()["id"])}

    @authenticated(blp)
    @idempotent(blp)
    @blp.arguments(LedgerInputSchema)
    @blp.response(201, LedgerSchema)
    @problem_response(
        blp, 409, f"You belong to {MAX_LEDGERS_PER_USER} ledgers already: `too_many_ledgers`"
    )
    def post(self, body):
        """Create a ledger; you are its owner

        Currency and time zone default to yours. One person may belong to a bounded number of
        ledgers (their own and shared ones; the 409 says how many): beyond it, 409
        `too_many_ledgers`.

        With `restore` (a JSON export of a ledger), the new ledger holds that export's
        categories, payees, tags, budgets, transactions (with their lines, payee, tags and
        where they came from) and recurring rules, paused (the original may still be running
        them: resume them here to record their dates here instead); written in one
        transaction, so a document that does not restore whole restores nothing. The request
        body's size limit (`MAX_CONTENT_LENGTH`, 1 MiB by default) bounds it: about 3,000
        transactions (docs/API-GUIDE.md, "Export and restore")."""
        if "restore" in body:
            return exports.restore(get_conn(), user(), name=body["name"], document=body["restore"])
        return ledgers.create(
            get_conn(),
            user(),
            name=body["name"],
            currency=body.get("currency"),
            timezone=body.get("timezone"),
        )


@blp.route("/<id:ledger_id>")
class Ledger(MethodView):
    @authenticated(blp)
    @blp.response(200, LedgerSchema)
    @problem_response(blp, 404, _NOT_FOUND)
    def get(self, ledger_id):
        """Get a ledger (any member)"""
        return ledgers.get(get_conn(), _actor(ledger_id))

    @authenticated(blp)
    @blp.arguments(LedgerRenameSchema)
    @blp.response(200, LedgerSchema)
    @problem_response(blp, 403, _NOT_OWNER)
    @problem_response(blp, 404, _NOT_FOUND)
    def patch(self, body, ledger_id):
        """Rename a ledger (owner)"""
        return ledgers.rename(get_conn(), _actor(ledger_id), name=body["name"])

    @authenticated(blp)
    @blp.response(204)
    @problem_response(blp, 403, _NOT_OWNER)
    @problem_response(blp, 404, _NOT_FOUND)
    @problem_response(blp, 409, _LEDGER_IS_DEFAULT)
    def delete(self, ledger_id):
        """Delete a ledger and everything in it (owner)

        Its categories, transactions, budgets and alerts go with it. A ledger that is a member's
        default ledger (where their v1 paths act) is never deleted: 409 `ledger_is_default`."""
        ledgers.delete(get_conn(), _actor(ledger_id))


@blp.route("/<id:ledger_id>/members")
class Members(MethodView):
    @authenticated(blp)
    @blp.response(200, MemberListSchema)
    @problem_response(blp, 404, _NOT_FOUND)
    def get(self, ledger_id):
        """List a ledger's members, in the order they joined (any member)"""
        return {"items": ledgers.members(get_conn(), _actor(ledger_id))}


@blp.route("/<id:ledger_id>/members/<id:user_id>")
class Member(MethodView):
    @authenticated(blp)
    @blp.arguments(MemberRoleSchema)
    @blp.response(200, MemberSchema)
    @problem_response(blp, 403, _NOT_OWNER)
    @problem_response(blp, 404, _MEMBER_NOT_FOUND)
    @problem_response(blp, 409, "The ledger's last owner cannot be demoted: `last_owner`")
    def patch(self, body, ledger_id, user_id):
        """Change a member's role (owner)

        Making another member `owner` transfers ownership: they become an owner and you become
        an `editor` (ask them to make you owner again if you want to share ownership). Giving a
        member the role they already have changes nothing. Demoting the ledger's last owner
        (yourself included) is 409 `last_owner`."""
        return ledgers.change_role(get_conn(), _actor(ledger_id), user_id, role=body["role"])

    @authenticated(blp)
    @blp.response(204)
    @problem_response(blp, 403, "Removing someone else needs the owner role: `forbidden`")
    @problem_response(blp, 404, _MEMBER_NOT_FOUND)
    @problem_response(
        blp,
        409,
        "The ledger's last owner cannot leave or be removed: `last_owner`; nobody is removed "
        "from their own default ledger: `ledger_is_default`",
    )
    def delete(self, ledger_id, user_id):
        """Remove a member (owner), or leave the ledger (your own user id, any member)

        Removal takes effect at once: the member's next request to the ledger is 404."""
        ledgers.remove_member(get_conn(), _actor(ledger_id), user_id)
