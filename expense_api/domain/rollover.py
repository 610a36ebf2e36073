"""Budget rollover arithmetic (../shared/API.md "Budgets: rollover and copying"), pure: a month's
`available` is its budget's amount plus what it `carried` from the month before, when that
month has a budget of the same scope. The carry follows the later month's own policy: `surplus`
takes the positive part of what was left (available minus spent), `deficit` the negative part,
`both` either, `none` nothing; a month without a budget ends the chain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

ROLLOVERS = ("none", "surplus", "deficit", "both")
ZERO = Decimal(0)


@dataclass(frozen=True)
class Month:
    """One month of a scope's chain: its budget's amount and policy, and what it spent."""

    year: int
    month: int
    amount: Decimal
    rollover: str
    spent: Decimal


@dataclass(frozen=True)
class Availability:
    carried: Decimal
    available: Decimal


def carry(rollover: str, left: Decimal) -> Decimal:
    """What a month with policy `rollover` takes from its previous month's `left` (available
    minus spent: negative when overspent)."""
    if rollover == "surplus":
        return max(left, ZERO)
    if rollover == "deficit":
        return min(left, ZERO)
    if rollover == "both":
        return left
    return ZERO


def follows(earlier: Month, later: Month) -> bool:
    """True when `later` is the calendar month right after `earlier`."""
    return (later.year * 12 + later.month) - (earlier.year * 12 + earlier.month) == 1


def availabilities(chain: Iterable[Month]) -> list[Availability]:
    """Each month's carried and available amounts, in the chain's order (oldest first). A month
    that does not follow the one before it starts afresh (carries nothing)."""
    result: list[Availability] = []
    previous: Month | None = None
    for month in chain:
        carried = ZERO
        if previous is not None and follows(previous, month):
            carried = carry(month.rollover, result[-1].available - previous.spent)
        result.append(Availability(carried, month.amount + carried))
        previous = month
    return result
