"""Recurring rules and their occurrences (sql/recurring.sql)."""

from __future__ import annotations

from datetime import date, datetime

from psycopg import Connection

from ..db.sqlfiles import queries
from .integrity import category_must_exist

# A rule's schedule and what each occurrence records: the columns a create or a change writes
# (`currency` None: the ledger's).
FIELDS = (
    "category_id",
    "type",
    "amount",
    "currency",
    "description",
    "frequency",
    "repeat_interval",
    "by_weekday",
    "by_month_day",
    "start_date",
    "end_date",
    "max_occurrences",
    "paused",
)


def insert(
    conn: Connection, *, ledger_id: int, acts_as: int, next_date: date | None, values: dict
) -> int:
    with category_must_exist():
        row = queries.recurring.insert(
            conn,
            ledger_id=ledger_id,
            acts_as=acts_as,
            next_date=next_date,
            **{k: values[k] for k in FIELDS},
        )
    return row["id"]


def get(conn: Connection, *, ledger_id: int, rule_id: int) -> dict | None:
    return queries.recurring.get_by_id(conn, ledger_id=ledger_id, id=rule_id)


def get_for_update(conn: Connection, *, ledger_id: int, rule_id: int) -> dict | None:
    return queries.recurring.get_for_update(conn, ledger_id=ledger_id, id=rule_id)


def list_for_ledger(conn: Connection, *, ledger_id: int) -> list[dict]:
    return queries.recurring.list_for_ledger(conn, ledger_id=ledger_id)


def update(conn: Connection, *, ledger_id: int, rule_id: int, rule: dict) -> None:
    with category_must_exist():
        queries.recurring.update(
            conn,
            ledger_id=ledger_id,
            id=rule_id,
            acts_as=rule["acts_as"],
            paused_reason=rule["paused_reason"],
            next_date=rule["next_date"],
            failures=rule["failures"],
            retry_at=rule["retry_at"],
            last_error=rule["last_error"],
            **{k: rule[k] for k in FIELDS},
        )


def delete(conn: Connection, *, ledger_id: int, rule_id: int) -> dict | None:
    """The deleted rule; None when there was none."""
    return queries.recurring.delete(conn, ledger_id=ledger_id, id=rule_id)


def claim_due(conn: Connection, *, now: datetime, after_ledger: int = 0) -> dict | None:
    return queries.recurring.claim_due(conn, now=now, after_ledger=after_ledger)


def advance(
    conn: Connection, *, ledger_id: int, rule_id: int, last_date: date, next_date: date | None
) -> dict:
    """The rule as get shows it after the date it handled."""
    return queries.recurring.advance(
        conn, ledger_id=ledger_id, id=rule_id, last_date=last_date, next_date=next_date
    )


def pause(conn: Connection, *, ledger_id: int, rule_id: int, reason: str) -> dict:
    """The paused rule, as get shows it."""
    return queries.recurring.pause(conn, ledger_id=ledger_id, id=rule_id, reason=reason)


def lock_for_failure(conn: Connection, *, ledger_id: int, rule_id: int) -> dict | None:
    return queries.recurring.lock_for_failure(conn, ledger_id=ledger_id, id=rule_id)


def record_failure(
    conn: Connection,
    *,
    ledger_id: int,
    rule_id: int,
    failures: int,
    retry_at: datetime | None,
    last_error: str,
    pause: bool,
) -> dict:
    """The rule as get shows it with the failure recorded."""
    return queries.recurring.record_failure(
        conn,
        ledger_id=ledger_id,
        id=rule_id,
        failures=failures,
        retry_at=retry_at,
        last_error=last_error,
        pause=pause,
    )


def insert_occurrence(
    conn: Connection,
    *,
    ledger_id: int,
    rule_id: int,
    occurrence_date: date,
    status: str,
    reason: str | None = None,
    transaction_id: int | None = None,
    budget_id: int | None = None,
) -> None:
    queries.recurring.insert_occurrence(
        conn,
        ledger_id=ledger_id,
        rule_id=rule_id,
        occurrence_date=occurrence_date,
        status=status,
        reason=reason,
        transaction_id=transaction_id,
        budget_id=budget_id,
    )


def occurrences_page(
    conn: Connection, *, ledger_id: int, rule_id: int, limit: int, before: date | None
) -> list[dict]:
    return queries.recurring.occurrences_page(
        conn, ledger_id=ledger_id, rule_id=rule_id, limit=limit, before=before
    )
