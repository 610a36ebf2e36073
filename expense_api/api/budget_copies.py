"""/api/ledgers/<id>/budgets/copy: a month's budgets copied to another month (a v3 route: under
the ledger's path only, no default-ledger alias)."""

from __future__ import annotations

from flask.views import MethodView

from ..services import budgets
from .core.blueprint import Blueprint
from .core.ledger_paths import LEDGER_PREFIX
from .core.request_transaction import get_conn
from .core.views import actor, authenticated, idempotent, problem_response
from .schemas.budgets import BudgetCopyInputSchema, BudgetCopySchema

blp = Blueprint(
    "budget_copies",
    __name__,
    url_prefix=f"{LEDGER_PREFIX}/budgets/copy",
    description="Copying a month's budgets to another month",
)


@blp.route("")
class BudgetCopies(MethodView):
    @authenticated(blp)
    @idempotent(blp)
    @blp.arguments(BudgetCopyInputSchema)
    @blp.response(200, BudgetCopySchema)
    @problem_response(blp, 403, "Viewers read budgets; editors and owners copy them: `forbidden`")
    @problem_response(blp, 404, "No such ledger of yours (you are not a member of it)")
    def post(self, body):
        """Copy a month's budgets to another month

        Each budget of `from` (amount, mode, alert threshold and rollover) is made in `to`,
        unless `to` already has a budget of that scope (a category's, or the overall one): that
        one is kept as it is and listed in `skipped`. Copying again makes nothing new (every
        scope is then skipped). Each new budget is saved as `POST /budgets` saves one: in the
        change log, and with the alerts its month's spending already reaches. `to` must be
        another month than `from` (422 naming `to`)."""
        return budgets.copy(
            get_conn(),
            actor(),
            source=(body["source"]["year"], body["source"]["month"]),
            target=(body["target"]["year"], body["target"]["month"]),
        )
