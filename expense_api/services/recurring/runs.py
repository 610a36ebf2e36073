"""The worker's step: handle the oldest due date of one recurring rule, in the caller's
transaction.

A date is due once it has come in the ledger's time zone. The rule is claimed with FOR UPDATE
SKIP LOCKED (sql/recurring.sql, claim_due), so workers never share one; its occurrence row,
the transaction it records (or the alert of its refusal) and the rule's progress commit
together, so a crash anywhere loses or doubles nothing: the next claim finds the rule where the
last commit left it. Catch-up is one date per step, oldest first within a ledger, and the
ledgers take turns: each step serves the first ledger after the one the caller served last
(`after_ledger`), starting over from the lowest once none after it has a date due, so one
ledger's backlog never holds up another's due date for longer than a turn.

Each date goes through `transactions.create` as the member the rule acts as: budget
enforcement, alerts and the category check are an API write's. A hard budget's refusal records
the date as skipped (`budget_exceeded`) with a `recurring_skipped` alert, and the rule goes on.
A rule in another currency than its ledger's passes its currency, so each date takes the
ledger's rate of that date; a date without one is skipped (`rate_unknown`, no alert: alerts
name a budget) and the rule goes on, never a failure of the rule: a rate added later serves the
dates after it, and a skipped date is not tried again.
A member who left the ledger, or who may no longer write in it, pauses the rule instead.

`run_next_due` is the worker's unit of work: the step in a transaction of its own, run again
after a deadlock. Anything else the step raises about a rule (not a database outage) is recorded
on the rule, which is passed over until its retry time (services/recurring/failures.py), so one
rule that keeps failing never holds up the others. A ledger whose time zone the database does
not know is such a failure of each of its rules (UnknownTimeZone), not of the claim: the other
ledgers go on.
"""

from __future__ import annotations

import logging
from datetime import datetime

from psycopg import Connection

from ...db.retry import run_transaction
from ...domain.errors import Forbidden, NotFound
from ...ops import metrics
from ...repositories import recurring
from .. import alerts, budget_guard, transactions
from ..changes import hook
from ..ledgers import Action, actor_in, authorize
from . import dates as recurrence
from . import failures as recurring_failures

log = logging.getLogger(__name__)

TRANSACTION_FIELDS = ("category_id", "type", "amount", "currency", "description")


class UnknownTimeZone(Exception):
    """The rule's ledger has a time zone the database does not know (stored before the API asked
    the database, or dropped by a PostgreSQL upgrade): no date of it can be said to be due."""


def claim_next(conn: Connection, now: datetime, after_ledger: int = 0) -> dict | None:
    """Claims the oldest due date of the first ledger after `after_ledger` that has one, or of
    the first ledger of all when none after it has (a turn ends); None when no ledger has a
    date due (or every rule that has one is held by another worker)."""
    rule = recurring.claim_due(conn, now=now, after_ledger=after_ledger)
    if rule is None and after_ledger > 0:
        rule = recurring.claim_due(conn, now=now, after_ledger=0)
    return rule


def run_next_due(conn: Connection, now: datetime, after_ledger: int = 0) -> int | None:
    """Handles one due date of one rule in a transaction of its own (`conn` must be idle), in
    the first ledger after `after_ledger` that has one (see `claim_next`); returns the ledger's
    id, for the next call's `after_ledger`, or None when no rule has a date due.

    The date is handled in a savepoint: when it fails for a reason of the rule's own
    (recurring_failures.is_rule_failure), its work is undone and the failure is recorded in the
    same transaction, while the claim's row lock still keeps other workers off the rule, so one
    failure is counted once. A failure only the COMMIT reveals (a deferred constraint) is recorded
    in a second short transaction instead."""
    claimed: dict | None = None
    failed: tuple[BaseException, dict | None] | None = None

    def step(c: Connection) -> int | None:
        nonlocal claimed, failed
        claimed, failed = None, None  # a run again after a deadlock claims afresh
        claimed = claim_next(c, now, after_ledger)
        if claimed is None:
            return None
        try:
            with c.transaction():  # a savepoint: a failing date leaves nothing, the lock stays
                handle(c, claimed)
        except Exception as error:
            if not recurring_failures.is_rule_failure(error):
                raise
            failed = (error, recurring_failures.record(c, claimed, error, now))
        return claimed["ledger_id"]

    try:
        handled: int | None = run_transaction(conn, step)
    except Exception as error:  # the step has rolled back: the COMMIT itself failed
        if claimed is None or not recurring_failures.is_rule_failure(error):
            raise
        rule, failure = claimed, error
        recorded = run_transaction(conn, lambda c: recurring_failures.record(c, rule, failure, now))
        handled, failed = rule["ledger_id"], (failure, recorded)
    if failed is not None:
        _report_failure(claimed, *failed)
    return handled


def _report_failure(rule: dict, failure: BaseException, recorded: dict | None) -> None:
    if recorded is None:  # the rule is gone
        return
    outcome = "paused" if recorded["paused"] else "retried"
    metrics.recurring_rule_failed(outcome)
    log.warning(
        "recurring rule %s (ledger %s) failed, %d in a row; %s",
        rule["id"],
        rule["ledger_id"],
        recorded["failures"],
        "paused as failing" if outcome == "paused" else f"retry at {recorded['retry_at']}",
        exc_info=failure,
    )


def handle_next_due(conn: Connection, now: datetime, after_ledger: int = 0) -> int | None:
    """Handles one due date of one rule, in the caller's transaction; returns its ledger's id,
    or None when no rule has a date due (or every rule that has one is being handled by another
    worker)."""
    rule = claim_next(conn, now, after_ledger)
    if rule is None:
        return None
    handle(conn, rule)
    return rule["ledger_id"]


def handle(conn: Connection, rule: dict) -> None:
    """Handles the next date of a claimed rule (or pauses it when its member cannot write)."""
    if rule["zone_unknown"]:
        raise UnknownTimeZone(
            f"The ledger's time zone {rule['timezone']!r} is not known to the database."
        )
    keys = {"ledger_id": rule["ledger_id"], "rule_id": rule["id"]}
    try:
        if rule["acts_as"] is None:
            raise NotFound("The rule's member is gone.")
        actor = actor_in(conn, user_id=rule["acts_as"], ledger_id=rule["ledger_id"])
        authorize(actor, Action.WRITE)
    except NotFound:
        _pause(conn, rule, "member_left")
        return
    except Forbidden:
        _pause(conn, rule, "member_cannot_write")
        return
    day = rule["next_date"]
    values = {**{k: rule[k] for k in TRANSACTION_FIELDS}, "occurred_on": day}
    try:
        with conn.transaction():  # a savepoint: a refused write leaves nothing behind
            created = transactions.create(conn, actor, values)
    except budget_guard.BudgetExceeded as refusal:
        budget = refusal.extra["budget"]
        alerts.record_recurring_skipped(conn, actor, budget=budget, recurring_id=rule["id"])
        recurring.insert_occurrence(
            conn,
            **keys,
            occurrence_date=day,
            status="skipped",
            reason=refusal.code,
            budget_id=budget["id"],
        )
        metrics.recurring_occurrence_skipped(refusal.code)
    except transactions.RateUnknown as refusal:
        recurring.insert_occurrence(
            conn, **keys, occurrence_date=day, status="skipped", reason=refusal.code
        )
        metrics.recurring_occurrence_skipped(refusal.code)
    else:
        recurring.insert_occurrence(
            conn, **keys, occurrence_date=day, status="created", transaction_id=created["id"]
        )
        metrics.recurring_occurrence_created()
    handled = {**rule, "occurrence_count": rule["occurrence_count"] + 1}
    advanced = recurring.advance(
        conn, **keys, last_date=day, next_date=recurrence.next_after(handled, day)
    )
    # The rule's REST shape moved on (its next date, a run of failures ended): the member it acts
    # as made the change, as they made the transaction (logged by transactions.create).
    hook.record(
        conn,
        actor,
        "recurring",
        "updated",
        before=hook.render(actor, "recurring", rule),
        after=hook.render(actor, "recurring", advanced),
    )


def _pause(conn: Connection, rule: dict, reason: str) -> None:
    """Pauses a rule whose member can no longer write: the service's own change (no member
    acts), in the change log with a null actor."""
    paused = recurring.pause(conn, ledger_id=rule["ledger_id"], rule_id=rule["id"], reason=reason)
    hook.record_by_service(
        conn,
        rule["ledger_id"],
        "recurring",
        "updated",
        before=hook.render_in(rule["ledger_currency"], "recurring", rule),
        after=hook.render_in(rule["ledger_currency"], "recurring", paused),
    )
