"""Budget enforcement, inside the write's own database transaction, before anything is written.

For a write that raises what some month spends (a new expense; a change of amount, category,
date or type), in this order:

1. take the ledger's budget scope lock in shared mode (budget creation takes it exclusively, so a
   budget cannot appear unseen while this write is in flight);
2. lock the budgets that apply (the category's and the overall one of each month whose spending
   rises) with SELECT ... FOR UPDATE, always in the same order, so writers never deadlock;
3. read what those scopes have spent from the exact totals (a fresh statement: it sees every
   writer that held the locks before);
4. refuse with 409 budget_exceeded if a hard budget would end above its amount (equal is fine),
   reporting the category's budget before the overall one; otherwise
5. record the alerts this write makes fire, and let the caller write.

Writes that only lower spending (deletions, decreases, income) lock nothing: they can only make
a concurrent check stricter, never let one overspend.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from psycopg import Connection

from .. import metrics
from ..errors import Conflict
from ..money import format_amount
from ..repositories import budgets
from . import alerts
from .ledgers import Actor


class BudgetExceeded(Conflict):
    code = "budget_exceeded"


@dataclass(frozen=True, order=True)
class Scope:
    year: int
    month: int
    category_id: int | None  # None: the overall budget


def _sort_key(scope: Scope) -> tuple:
    return (scope.year, scope.month, scope.category_id is not None, scope.category_id or 0)


def spending_of(transaction: dict | None) -> dict[Scope, Decimal]:
    """What a transaction adds to each budget scope: an expense counts for its category's
    budget and for the overall budget of its month."""
    if transaction is None or transaction["type"] != "EXPENSE":
        return {}
    day = transaction["occurred_on"]
    amount = Decimal(transaction["amount"])
    return {
        Scope(day.year, day.month, transaction["category_id"]): amount,
        Scope(day.year, day.month, None): amount,
    }


def before_write(
    conn: Connection, actor: Actor, *, old: dict | None, new: dict | None
) -> list[dict]:
    """Checks a write that turns `old` into `new` (None: nothing) and fires its alerts; raises
    BudgetExceeded instead when a hard budget would be exceeded."""
    ledger_id = actor.ledger_id
    before, after = spending_of(old), spending_of(new)
    rising = sorted(
        (scope for scope, amount in after.items() if amount > before.get(scope, 0)), key=_sort_key
    )
    if not rising:
        return []
    budgets.lock_scope_shared(conn, ledger_id=ledger_id)
    locked = budgets.lock_applicable(conn, ledger_id=ledger_id, scopes=rising)
    if not locked:
        return []
    scopes = {row["id"]: Scope(row["year"], row["month"], row["category_id"]) for row in locked}
    spent = {
        Scope(row["year"], row["month"], row["category_id"]): row["spent"]
        for row in budgets.spent(conn, ledger_id=ledger_id, scopes=list(scopes.values()))
    }
    # The category's budget is reported before the overall one.
    ordered = sorted(locked, key=lambda row: row["category_id"] is None)
    outcomes = []
    for budget in ordered:
        scope = scopes[budget["id"]]
        spent_by_others = spent[scope] - before.get(scope, Decimal(0))
        would_spend = spent_by_others + after[scope]
        if budget["mode"] == "hard" and would_spend > budget["amount"]:
            metrics.budget_refused()
            raise _exceeded(budget, spent_by_others, would_spend, actor.currency)
        outcomes.append((budget, would_spend))
    fired = []
    for budget, would_spend in outcomes:
        fired.extend(alerts.fire_reached(conn, actor, budget, would_spend))
    return fired


def _exceeded(budget: dict, spent: Decimal, would_spend: Decimal, currency: str) -> BudgetExceeded:
    def money(value: Decimal) -> str:
        return format_amount(value, currency)

    amount = budget["amount"]
    scope = "the overall budget" if budget["category_id"] is None else "the category's budget"
    return BudgetExceeded(
        f"This expense would exceed {scope} for {budget['year']}-{budget['month']:02d} by "
        f"{money(would_spend - amount)} {currency}.",
        budget={
            "id": budget["id"],
            "categoryId": budget["category_id"],
            "amount": money(amount),
            "spent": money(spent),
            "remaining": money(amount - spent),
            "wouldExceedBy": money(would_spend - amount),
        },
    )
