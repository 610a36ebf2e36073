"""Budget enforcement, inside the write's own database transaction, before anything is written.

For a write that raises what some month spends (a new expense; a change of amount, category,
date or type), in this order:

1. take the ledger's budget scope lock in shared mode (budget creation takes it exclusively, so a
   budget cannot appear unseen while this write is in flight);
2. lock the budgets that apply (the category's, or each split line's category's, and the overall
   one of each month whose spending rises) with SELECT ... FOR UPDATE, always in the same order
   (period, overall first, then category id), so writers never deadlock;
3. read what those scopes have spent from the exact totals (a fresh statement: it sees every
   writer that held the locks before); steps 1-3 are sent together, as one round trip, and run
   one after the other;
4. refuse with 409 budget_exceeded if any hard budget would end above its amount (equal is
   fine), reporting the first one exceeded, category budgets before the overall one; otherwise
5. record the alerts this write makes fire, and let the caller write.

Writes that only lower spending (deletions, decreases, income) lock nothing: they can only make
a concurrent check stricter, never let one overspend.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from psycopg import Connection

from ..db.pool import Batch, Pending
from ..domain.errors import Conflict
from ..domain.money import format_amount
from ..ops import metrics
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
    """What a transaction adds to each budget scope, in the ledger's currency (its
    `ledger_amount`): an expense counts for its category's budget (a split one for each line's
    category, lines of one category together) and, the whole amount once, for the overall
    budget of its month."""
    if transaction is None or transaction["type"] != "EXPENSE":
        return {}
    day = transaction["occurred_on"]
    amount = Decimal(transaction["ledger_amount"])
    spending: dict[Scope, Decimal] = {}
    for line in transaction.get("splits") or ():
        scope = Scope(day.year, day.month, line["category_id"])
        spending[scope] = spending.get(scope, Decimal(0)) + Decimal(line["ledger_amount"])
    if not spending:
        spending[Scope(day.year, day.month, transaction["category_id"])] = amount
    spending[Scope(day.year, day.month, None)] = amount
    return spending


@dataclass(frozen=True)
class Allowed:
    """A write the budgets allow, checked under their locks: each locked budget it raises, with
    what its month would spend once the write is in."""

    raised: list[tuple[dict, Decimal]]

    def fire(self, conn: Connection, actor: Actor) -> list[dict]:
        """Records the alerts the write makes fire; those it recorded."""
        fired = []
        for budget, would_spend in self.raised:
            fired.extend(alerts.fire_reached(conn, actor, budget, would_spend))
        return fired

    def fire_later(self, batch: Batch, actor: Actor) -> list[Pending]:
        """Queues the alerts the write makes fire (alerts.recorded gives them once sent)."""
        return [
            pending
            for budget, would_spend in self.raised
            for pending in alerts.fire_reached_later(batch, actor, budget, would_spend)
        ]


def before_write(
    conn: Connection, actor: Actor, *, old: dict | None, new: dict | None
) -> list[dict]:
    """Checks a write that turns `old` into `new` (None: nothing) and fires its alerts; raises
    BudgetExceeded instead when a hard budget would be exceeded."""
    return check(conn, actor, old=old, new=new).fire(conn, actor)


def check(conn: Connection, actor: Actor, *, old: dict | None, new: dict | None) -> Allowed:
    """Steps 1-4 of before_write: the locks, what was spent, the refusal; the caller fires the
    alerts (Allowed.fire_later) with its own write, in one round trip."""
    with Batch(conn) as batch:
        pending = check_later(batch, actor, old=old, new=new)
    return pending.decide()


def check_later(batch: Batch, actor: Actor, *, old: dict | None, new: dict | None) -> PendingCheck:
    """check(), queued in a batch with the caller's own statements (steps 1-3 in the batch's
    round trip; `decide()` once it is sent is step 4). A write that raises no budget queues
    nothing."""
    before, after = spending_of(old), spending_of(new)
    rising = sorted(
        (scope for scope, amount in after.items() if amount > before.get(scope, 0)), key=_sort_key
    )
    if not rising:
        return PendingCheck(actor, before, after, None)
    # The scope lock, the budgets' row locks, then what the scopes have spent.
    locks = budgets.lock_and_read_spent_later(batch, ledger_id=actor.ledger_id, scopes=rising)
    return PendingCheck(actor, before, after, locks)


@dataclass(frozen=True)
class PendingCheck:
    actor: Actor
    before: dict[Scope, Decimal]
    after: dict[Scope, Decimal]
    locks: tuple[Pending, Pending] | None  # (locked budgets, spent per scope) once sent

    def decide(self) -> Allowed:
        """Allowed, or BudgetExceeded when a hard budget would end above its amount."""
        if self.locks is None:
            return Allowed([])
        locked, spent_rows = (pending.value() for pending in self.locks)
        spent = {Scope(r["year"], r["month"], r["category_id"]): r["spent"] for r in spent_rows}
        # The category's budget is reported before the overall one.
        ordered = sorted(locked, key=lambda row: row["category_id"] is None)
        raised = []
        for budget in ordered:
            scope = Scope(budget["year"], budget["month"], budget["category_id"])
            spent_by_others = spent[scope] - self.before.get(scope, Decimal(0))
            would_spend = spent_by_others + self.after[scope]
            if budget["mode"] == "hard" and would_spend > budget["amount"]:
                metrics.budget_refused()
                raise _exceeded(budget, spent_by_others, would_spend, self.actor.currency)
            raised.append((budget, would_spend))
        return Allowed(raised)


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
