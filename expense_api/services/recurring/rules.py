"""Recurring rules: a schedule and the transaction each of its dates records.

A rule acts as the member who created it (or, after a pause, who resumed it): the worker records
each date through `transactions.create` as that member, so budget enforcement and alerts are
exactly an API write's (services/recurring/runs.py). Changing a rule changes only the dates not
yet handled: its next date is worked out again from the last date handled. Deleting it stops it
and keeps the transactions it created.

A rule may be in a currency other than its ledger's (`currency`, None for the ledger's own): its
amount has that currency's digits, and each occurrence takes the ledger's rate of its date (a
rule records no rate of its own; a date without one is skipped as `rate_unknown`).

A start date may be at most EARLIEST_START_YEARS years before today in the ledger's time zone
(a rule started in 1900 would have the worker catch up tens of thousands of dates); it may be
as far ahead as any date (2999-12-31): a rule that starts later does no work until then.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from psycopg import Connection

from ...domain import periods
from ...domain.errors import ValidationFailed, found
from ...domain.money import AmountError, check_digits
from ...repositories import recurring
from ..changes import hook
from ..ledgers import Action, Actor, authorize
from . import dates as recurrence

PREVIEW_MAX = 100
EARLIEST_START_YEARS = 10


def create(conn: Connection, actor: Actor, values: dict) -> dict:
    authorize(actor, Action.WRITE)
    values = _in_its_currency(values, actor)
    schedule = {**values, "occurrence_count": 0}
    _check(schedule, earliest_start(actor), actor.currency)
    rule_id = recurring.insert(
        conn,
        ledger_id=actor.ledger_id,
        acts_as=actor.user_id,
        next_date=recurrence.next_after(schedule, None),
        values=values,
    )
    row = get(conn, actor, rule_id)
    hook.record(conn, actor, "recurring", "created", after=hook.render(actor, "recurring", row))
    return row


def get(conn: Connection, actor: Actor, rule_id: int) -> dict:
    authorize(actor, Action.READ)
    return found(recurring.get(conn, ledger_id=actor.ledger_id, rule_id=rule_id), "recurring rule")


def list_all(conn: Connection, actor: Actor) -> list[dict]:
    authorize(actor, Action.READ)
    return recurring.list_for_ledger(conn, ledger_id=actor.ledger_id)


def update(conn: Connection, actor: Actor, rule_id: int, changes: dict) -> dict:
    """Changes the rule from its next date on (a date a worker is handling right now finishes
    first: the rule's row lock orders the two)."""
    authorize(actor, Action.WRITE)
    old = found(
        recurring.get_for_update(conn, ledger_id=actor.ledger_id, rule_id=rule_id),
        "recurring rule",
    )
    rule = _in_its_currency({**old, **changes}, actor)
    # Setting a count clears the end date and the reverse (both at once is still a 422).
    if changes.get("max_occurrences") is not None and "end_date" not in changes:
        rule["end_date"] = None
    if changes.get("end_date") is not None and "max_occurrences" not in changes:
        rule["max_occurrences"] = None
    if rule["frequency"] != "weekly" and "by_weekday" not in changes:
        rule["by_weekday"] = None
    if rule["frequency"] != "monthly" and "by_month_day" not in changes:
        rule["by_month_day"] = None
    # A start date is bounded when it is given: one kept from before stays as it is.
    _check(rule, earliest_start(actor) if "start_date" in changes else None, actor.currency)
    if old["paused"] and not rule["paused"]:
        # Resumed: it acts from now on as the member who resumed it, and a rule paused as
        # failing gets its ten tries again, at once (services/recurring/failures.py).
        rule.update(
            acts_as=actor.user_id, paused_reason=None, failures=0, retry_at=None, last_error=None
        )
    elif not rule["paused"]:
        rule["paused_reason"] = None
    rule["next_date"] = recurrence.next_after(rule, rule["last_date"])
    recurring.update(conn, ledger_id=actor.ledger_id, rule_id=rule_id, rule=rule)
    row = get(conn, actor, rule_id)
    hook.record(
        conn,
        actor,
        "recurring",
        "updated",
        before=hook.render(actor, "recurring", old),
        after=hook.render(actor, "recurring", row),
    )
    return row


def delete(conn: Connection, actor: Actor, rule_id: int) -> None:
    authorize(actor, Action.WRITE)
    deleted = found(
        recurring.delete(conn, ledger_id=actor.ledger_id, rule_id=rule_id), "recurring rule"
    )
    hook.record(
        conn, actor, "recurring", "deleted", before=hook.render(actor, "recurring", deleted)
    )


def occurrences_page(
    conn: Connection, actor: Actor, rule_id: int, *, limit: int, before: date | None
) -> list[dict]:
    """Up to `limit` of the rule's occurrences, newest date first, before a date."""
    get(conn, actor, rule_id)
    return recurring.occurrences_page(
        conn, ledger_id=actor.ledger_id, rule_id=rule_id, limit=limit, before=before
    )


def preview(conn: Connection, actor: Actor, rule_id: int, *, count: int) -> list[date]:
    """The next `count` dates (at most PREVIEW_MAX) the rule will handle, from its next date."""
    rule = get(conn, actor, rule_id)
    if rule["next_date"] is None:
        return []
    upcoming = recurrence.dates_after(rule, rule["last_date"])
    return [day for day, _ in zip(upcoming, range(min(count, PREVIEW_MAX)), strict=False)]


def earliest_start(actor: Actor) -> date:
    """The earliest start date a rule may be given: the same day EARLIEST_START_YEARS years
    before today in the ledger's time zone (28 February for 29 February)."""
    today = periods.today_in(actor.timezone)
    try:
        return today.replace(year=today.year - EARLIEST_START_YEARS)
    except ValueError:  # 29 February, in a common year
        return today.replace(year=today.year - EARLIEST_START_YEARS, day=28)


def _in_its_currency(values: dict, actor: Actor) -> dict:
    """The rule's values with `currency` None for the ledger's own (given or not)."""
    currency = values.get("currency")
    return {**values, "currency": None if currency == actor.currency else currency}


def _check(rule: dict, earliest: date | None, ledger_currency: str) -> None:
    """The rules across fields (each field's own range is the schema's), the amount's digits in
    the rule's currency and the earliest start date (None: not checked): 422, nothing stored."""
    errors: dict[str, list[str]] = {}
    try:
        check_digits(Decimal(rule["amount"]), rule["currency"] or ledger_currency)
    except AmountError as error:
        errors["amount"] = [str(error)]
    if earliest is not None and rule["start_date"] < earliest:
        errors["startDate"] = [
            f"Must be {earliest} or later: at most {EARLIEST_START_YEARS} years before today "
            "in the ledger's time zone."
        ]
    frequency = rule["frequency"]
    if rule.get("by_weekday") and frequency != "weekly":
        errors["byWeekday"] = ["Only a weekly rule takes byWeekday."]
    if rule.get("by_month_day") is not None and frequency != "monthly":
        errors["byMonthDay"] = ["Only a monthly rule takes byMonthDay."]
    end = rule.get("end_date")
    if end is not None and rule.get("max_occurrences") is not None:
        errors["count"] = ["Give count or endDate, not both."]
    if end is not None and end < rule["start_date"]:
        errors["endDate"] = ["endDate must not be before startDate."]
    if not errors and rule.get("last_date") is None and recurrence.next_after(rule, None) is None:
        errors["endDate"] = ["This schedule has no date between startDate and endDate."]
    if errors:
        raise ValidationFailed(errors)
