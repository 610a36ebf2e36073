"""Budget enforcement, inside the write's own database transaction, before anything is written.

The rule is decided by PostgreSQL (migration 0024, enforce_budgets), in the round trip that
takes the locks, so that no budget row stays locked while a Python thread waits for a core.
For a write that raises what some month spends (a new expense; a change of amount, category,
date or type), in this order:

1. the ledger's budget scope lock in shared mode (budget writes take it exclusively, so a
   budget cannot appear, go or change its rollover unseen while this write is in flight);
2. the row locks (SELECT ... FOR UPDATE) of the budgets the write touches: each raised scope's
   budget (the category's, or each split line's category's, and the overall one of each month
   whose spending rises) and the later months of its rollover chain (while the next month has
   a budget of the scope that carries from it: rollover not `none`), always in the same order
   (period, overall first, then category id), so writers never deadlock;
3. every month of those chains, back to where each starts, with what it spent from the exact
   totals, read after the locks (so it sees every writer that held them before), and each
   month's available amount (its amount plus what it carried: the budget_rollover aggregate)
   before and after the write;
4. a refusal, 409 budget_exceeded, if a hard budget would end above its available amount, in a
   month the write raises, or in a later month whose available amount the write lowers (equal
   is fine), reporting the first one by period, category budgets before the overall one; the
   statements queued after the check (the write itself) do not run; otherwise
5. the alerts this write makes fire (against available), recorded and answered.

This module maps a write to what it spends per scope (`spending_of`), queues the check with the
caller's own statements (`check_later`), and words the refusal (`refusals`).

Writes that only lower spending (deletions, decreases, income) lock nothing: they can only make
a concurrent check stricter, never let one overspend (a lower spent leaves more to carry).
docs/ARCHITECTURE.md ("Budget rollover") explains why no earlier month needs a lock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from psycopg import Connection

from ..db.pool import Batch, Pending
from ..domain.errors import Conflict
from ..domain.money import format_amount
from ..ops import metrics
from ..repositories import budgets
from .ledgers import Actor

ZERO = Decimal(0)


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
class PendingCheck:
    """A queued check: once its batch is sent without a refusal, `fired()` are the alerts it
    recorded (to announce with alerts.announce after the change's own entry)."""

    pending: Pending | None  # None: the write raises no budget, nothing was queued

    def fired(self) -> list[dict]:
        return [] if self.pending is None else self.pending.value()


def check_later(batch: Batch, actor: Actor, *, old: dict | None, new: dict | None) -> PendingCheck:
    """The check of a write that turns `old` into `new` (None: nothing), queued in a batch
    with the caller's statements: put the write after it, so a refusal stops the write, and
    send the batch inside `refusals` (a refusal is the batch's failure). A write that raises no
    budget queues nothing."""
    before, after = spending_of(old), spending_of(new)
    if not any(amount > before.get(scope, ZERO) for scope, amount in after.items()):
        return PendingCheck(None)
    scopes = sorted(before.keys() | after.keys(), key=_sort_key)
    pending = budgets.enforce_later(
        batch,
        ledger_id=actor.ledger_id,
        scopes=scopes,
        before=[before.get(scope, ZERO) for scope in scopes],
        after=[after.get(scope, ZERO) for scope in scopes],
    )
    return PendingCheck(pending)


def check(conn: Connection, actor: Actor, *, old: dict | None, new: dict | None) -> list[dict]:
    """check_later in a round trip of its own: the alerts the write fires (recorded, to
    announce after the change's entry), or BudgetExceeded."""
    with refusals(actor), Batch(conn) as batch:
        pending = check_later(batch, actor, old=old, new=new)
    return pending.fired()


@contextlib.contextmanager
def refusals(actor: Actor) -> Iterator[None]:
    """Turns the budget rule's refusal raised in the block (a batch holding check_later) into
    BudgetExceeded, worded in the actor's ledger currency."""
    try:
        yield
    except Exception as error:
        figures = budgets.refusal_figures(error)
        if figures is None:
            raise
        metrics.budget_refused()
        raise _exceeded(figures, actor.currency) from None


def _exceeded(figures: dict, currency: str) -> BudgetExceeded:
    """The refusal, with the budget's figures against what it has available: `spent` is what
    the others have spent there (the write's own earlier state taken out)."""

    def money(value: Decimal) -> str:
        return format_amount(value, currency)

    available = figures["available"]
    spent = figures["spent_before"] - figures["own_before"]
    over = figures["spent_after"] - available
    scope = "the overall budget" if figures["category_id"] is None else "the category's budget"
    period = f"{figures['year']}-{figures['month']:02d}"
    if (
        available < figures["available_before"]
        and figures["spent_after"] == figures["spent_before"]
    ):
        detail = (
            f"This expense would lower what {scope} for {period} carries over from earlier "
            f"months, leaving it {money(over)} {currency} over what it has available."
        )
    else:
        detail = f"This expense would exceed {scope} for {period} by {money(over)} {currency}."
    return BudgetExceeded(
        detail,
        budget={
            "id": figures["id"],
            "categoryId": figures["category_id"],
            "year": figures["year"],
            "month": figures["month"],
            "amount": money(figures["amount"]),
            "carried": money(figures["carried"]),
            "available": money(available),
            "spent": money(spent),
            "remaining": money(available - spent),
            "wouldExceedBy": money(over),
        },
    )
