"""The one place where PostgreSQL's integrity errors become the domain's refusals.

Constraints are the real guard (a unique index, a composite foreign key that includes the
tenant key), so a race between a check and a write still ends in a clear answer, never a 500.
Each repository function names the constraints it expects to trip and what each means there:
the same foreign key means "no such category" on an insert and "in use" on a delete.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

import psycopg

from ..domain.errors import DomainError, ValidationFailed

# The composite foreign keys (ledger, category) of the tables that point at a category.
CATEGORY_REFERENCES = (
    "transactions_ledger_id_category_id_fkey",
    "transaction_splits_ledger_id_category_id_fkey",
    "budgets_ledger_id_category_id_fkey",
    "recurring_rules_ledger_id_category_id_fkey",
    "rules_ledger_id_set_category_id_fkey",
    # The totals' rows are cascaded on delete, but a PATCH locks (makes) them before it writes.
    "monthly_totals_ledger_id_category_id_fkey",
    "daily_totals_ledger_id_category_id_fkey",
)


def no_such_category() -> ValidationFailed:
    # A 422 on the field, not a 404: the body is wrong, the resource path is fine.
    return ValidationFailed({"categoryId": ["No such category."]})


@contextlib.contextmanager
def refusing(meanings: Mapping[str, DomainError]) -> Iterator[None]:
    """Raises meanings[constraint] for an integrity error on one of the named constraints.

    No savepoint: a refusal ends the unit of work, which then rolls back as a whole."""
    try:
        yield
    except psycopg.errors.IntegrityError as error:
        meaning = meanings.get(error.diag.constraint_name or "")
        if meaning is None:
            raise
        raise meaning from None


def category_must_exist() -> contextlib.AbstractContextManager[None]:
    """For writes that point at a category: another tenant's or a deleted one is a 422."""
    return refusing(dict.fromkeys(CATEGORY_REFERENCES, no_such_category()))
