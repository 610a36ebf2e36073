"""Budget enforcement, inside the write's own database transaction, before anything is written.

For a write that raises what some month spends (a new expense; a change of amount, category,
date or type), in this order:

1. take the ledger's budget scope lock in shared mode (budget writes take it exclusively, so a
   budget cannot appear, go or change its rollover unseen while this write is in flight);
2. lock the budgets the write touches with SELECT ... FOR UPDATE: each raised scope's budget
   (the category's, or each split line's category's, and the overall one of each month whose
   spending rises) and the later months of its rollover chain (while the next month has a
   budget of the scope that carries from it: rollover not `none`), always in the same order
   (period, overall first, then category id), so writers never deadlock. A writer into an
   earlier month takes a later month's lock after its own; one into the later month takes that
   lock first: they queue, never cross;
3. read every month of those chains, back to where each starts, with what it spent from the
   exact totals (one statement whatever the chains' lengths, after the locks, so it sees every
   writer that held them before); steps 1-3 are sent together, as one round trip;
4. compute each month's available amount (its amount plus what it carried: domain/rollover.py)
   before and after the write, and refuse with 409 budget_exceeded if a hard budget would end
   above its available amount, in a month the write raises, or in a later month whose
   available amount the write lowers (equal is fine), reporting the first one by period,
   category budgets before the overall one; otherwise
5. record the alerts this write makes fire (against available), and let the caller write.

Writes that only lower spending (deletions, decreases, income) lock nothing: they can only make
a concurrent check stricter, never let one overspend (a lower spent leaves more to carry).
docs/ARCHITECTURE.md ("Budget rollover") explains why no earlier month needs a lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from psycopg import Connection

from ..db.pool import Batch, Pending
from ..domain import rollover
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
    # The scope lock, the row locks of the budgets the write touches (each rising scope's
    # month and the later months of its rollover chain), then their chains with what they spent.
    locks = budgets.lock_and_read_chains_later(batch, ledger_id=actor.ledger_id, scopes=rising)
    return PendingCheck(actor, before, after, locks)


@dataclass(frozen=True)
class PendingCheck:
    actor: Actor
    before: dict[Scope, Decimal]
    after: dict[Scope, Decimal]
    locks: tuple[Pending, Pending] | None  # (locked budgets, chain months) once sent

    def decide(self) -> Allowed:
        """Allowed, or BudgetExceeded when a hard budget would end above what it has
        available: a budget whose scope the write raises, or a later month of its rollover
        chain whose available amount the write lowers."""
        if self.locks is None:
            return Allowed([])
        locked, chain_rows = (pending.value() for pending in self.locks)
        states = chain_states(chain_rows, before=self.before, after=self.after)
        # By period; in a month, the category's budget is reported before the overall one.
        ordered = sorted(
            (states[row["id"]] for row in locked),
            key=lambda state: (state.budget["year"], state.budget["month"],
                               state.budget["category_id"] is None),
        )  # fmt: skip
        raised = []
        for state in ordered:
            budget = state.budget
            scope = Scope(budget["year"], budget["month"], budget["category_id"])
            rises = self.after.get(scope, Decimal(0)) > self.before.get(scope, Decimal(0))
            if not rises and state.available_after >= state.available_before:
                continue  # locked as a later month of a chain this write leaves untouched
            if budget["mode"] == "hard" and state.spent_after > state.available_after:
                metrics.budget_refused()
                raise _exceeded(state, self.before.get(scope, Decimal(0)), self.actor.currency)
            raised.append(({**budget, "amount": state.available_after}, state.spent_after))
        return Allowed(raised)


@dataclass(frozen=True)
class ChainState:
    """A budget month as a write finds it and would leave it: what it spent and has available
    (its amount plus what it carried) before and after."""

    budget: dict
    spent_before: Decimal
    spent_after: Decimal
    carried_after: Decimal
    available_before: Decimal
    available_after: Decimal


def chain_states(
    rows: list[dict], *, before: dict[Scope, Decimal], after: dict[Scope, Decimal]
) -> dict[int, ChainState]:
    """{budget id: ChainState} over the chains read (sql/budgets.sql, chains), for a write
    whose old and new states spend `before` and `after` per scope (both empty: as read). A
    month of several chains (two scopes of one write in one chain) is the same month in each."""
    by_chain: dict[int, list[dict]] = {}
    for row in rows:
        by_chain.setdefault(row["scope_no"], []).append(row)
    states = {}
    for chain in by_chain.values():
        spent_after = [
            row["spent"]
            - before.get(_scope_of(row), Decimal(0))
            + after.get(_scope_of(row), Decimal(0))
            for row in chain
        ]
        was = rollover.availabilities(_months(chain, [row["spent"] for row in chain]))
        will = rollover.availabilities(_months(chain, spent_after))
        for row, spent, then, now in zip(chain, spent_after, was, will, strict=True):
            states[row["id"]] = ChainState(
                row, row["spent"], spent, now.carried, then.available, now.available
            )
    return states


def _scope_of(row: dict) -> Scope:
    return Scope(row["year"], row["month"], row["category_id"])


def _months(chain: list[dict], spent: list[Decimal]) -> list[rollover.Month]:
    return [
        rollover.Month(row["year"], row["month"], row["amount"], row["rollover"], amount)
        for row, amount in zip(chain, spent, strict=True)
    ]


def _exceeded(state: ChainState, own_before: Decimal, currency: str) -> BudgetExceeded:
    """The refusal, with the budget's figures against what it has available: `spent` is what
    the others have spent there (the write's own earlier state taken out)."""

    def money(value: Decimal) -> str:
        return format_amount(value, currency)

    budget, available = state.budget, state.available_after
    spent = state.spent_before - own_before
    over = state.spent_after - available
    scope = "the overall budget" if budget["category_id"] is None else "the category's budget"
    period = f"{budget['year']}-{budget['month']:02d}"
    if state.available_after < state.available_before and state.spent_after == state.spent_before:
        detail = (
            f"This expense would lower what {scope} for {period} carries over from earlier "
            f"months, leaving it {money(over)} {currency} over what it has available."
        )
    else:
        detail = f"This expense would exceed {scope} for {period} by {money(over)} {currency}."
    return BudgetExceeded(
        detail,
        budget={
            "id": budget["id"],
            "categoryId": budget["category_id"],
            "year": budget["year"],
            "month": budget["month"],
            "amount": money(budget["amount"]),
            "carried": money(state.carried_after),
            "available": money(available),
            "spent": money(spent),
            "remaining": money(available - spent),
            "wouldExceedBy": money(over),
        },
    )
