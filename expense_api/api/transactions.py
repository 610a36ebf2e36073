"""/api/transactions: record, list (filtered, keyset-paginated), get, change, delete."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from ..services import transactions
from .core import pagination
from .core.blueprint import Blueprint
from .core.read_connection import read_conn
from .core.request_transaction import commit_with_last_write, get_conn, rollback_at_end
from .core.views import actor, authenticated, idempotent, problem_response
from .schemas.transactions import (
    DryRunQuerySchema,
    DryRunTransactionSchema,
    TransactionInputSchema,
    TransactionPageSchema,
    TransactionPatchSchema,
    TransactionQuerySchema,
    TransactionSchema,
    TransactionWithAlertsSchema,
)

blp = Blueprint(
    "transactions", __name__, url_prefix="/api/transactions", description="Income and expenses"
)

_NOT_FOUND = "No such transaction of yours"
PERIOD_FIELDS = ("month", "year", "from_", "to")
_BUDGET = "A hard budget would be exceeded: `budget_exceeded`, nothing written"


def _dry_run(result: dict, *, created: bool):
    """Nothing is kept: the transaction rolls back, and what would have been created has no id."""
    rollback_at_end()
    alerts = [{**alert, "id": None} for alert in result["alerts"]]
    shown = {**result, "alerts": alerts, "id": None if created else result["id"]}
    # A finished response: the view's own response schema must not dump it a second time.
    return current_app.json.response(DryRunTransactionSchema().dump(shown))


@blp.route("")
class Transactions(MethodView):
    @authenticated(blp)
    @idempotent(blp)
    @blp.arguments(TransactionInputSchema)
    @blp.arguments(DryRunQuerySchema, location="query", as_kwargs=True)
    @blp.response(201, TransactionWithAlertsSchema)
    @blp.alt_response(200, schema=DryRunTransactionSchema, description="dryRun: nothing written")
    @problem_response(blp, 409, _BUDGET)
    def post(self, body, dry_run):
        """Record income or an expense (expenses are checked against your budgets)

        One category (`categoryId`), or `splits`: 2 to 50 lines, each in a category of the
        ledger, summing exactly to `amount` (else 422 `splits_mismatch`). A split expense is
        spending of each line's category and, once, of the month's overall budget; if any hard
        budget it raises would be exceeded, nothing is written (409). `payee` and `tags` are
        matched case-insensitively with the ledger's own and shown as first spelled."""
        if not dry_run:
            commit_with_last_write()  # nothing follows the insert: its COMMIT goes with it
        result = transactions.create(get_conn(), actor(), body)
        if dry_run:
            return _dry_run(result, created=True)
        return result

    @authenticated(blp)
    @blp.arguments(TransactionQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, TransactionPageSchema)
    def get(self, limit, cursor=None, **filters):
        """List transactions: newest date first, then highest id

        The period: month with year, or from and to, never both kinds; from after to is 422.
        A part means what a person would mean, in the ledger's time zone: month alone is that
        month of the current year, year alone the whole year, from alone runs to today (empty
        when after today), to alone starts at the ledger's first transaction (at `to` itself
        when there is none on or before it). None: the current month. minAmount above
        maxAmount is 422. A cursor is one a previous page answered (`nextCursor`), with the
        same filters; any other is 422."""
        period_filter = {name: filters.pop(name) for name in PERIOD_FIELDS if name in filters}
        rows = transactions.list_page(
            read_conn(),
            actor(),
            period_filter=period_filter,
            limit=limit + 1,
            after=pagination.decode(cursor) if cursor else None,
            **filters,
        )
        items, next_cursor = pagination.page(rows, limit)
        return {"items": items, "next_cursor": next_cursor}


@blp.route("/<id:transaction_id>")
class Transaction(MethodView):
    @authenticated(blp)
    @blp.response(200, TransactionSchema)
    @problem_response(blp, 404, _NOT_FOUND)
    def get(self, transaction_id):
        """Get a transaction"""
        return transactions.get(get_conn(), actor(), transaction_id)

    @authenticated(blp)
    @blp.arguments(TransactionPatchSchema(partial=True))
    @blp.arguments(DryRunQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, TransactionWithAlertsSchema)
    @problem_response(blp, 404, _NOT_FOUND)
    @problem_response(blp, 409, _BUDGET)
    def patch(self, body, transaction_id, dry_run):
        """Change any fields of a transaction (re-checked against budgets; dryRun to preview)

        `splits` replaces the lines as a whole; `categoryId` turns a split transaction back
        into one category. A new amount for a split transaction comes with its new lines."""
        result = transactions.update(get_conn(), actor(), transaction_id, body)
        return _dry_run(result, created=False) if dry_run else result

    @authenticated(blp)
    @blp.response(204)
    @problem_response(blp, 404, _NOT_FOUND)
    def delete(self, transaction_id):
        """Delete a transaction"""
        transactions.delete(get_conn(), actor(), transaction_id)
