"""What each row of a bank file becomes, in the contract's order (../shared/API.md "Import and
export", Deduplication):

1. a row with a bank id the ledger already has for the account (or that an earlier row of the
   same file carries) is a duplicate;
2. a row without one gets an import key from (date, type, amount, n), n counting the earlier
   rows of the file with the same date, type and amount, and is a duplicate when the ledger
   already has that key for the account: a re-imported or overlapping file creates nothing
   twice, and two equal purchases on one day are both kept;
3. a remaining row is a match when a transaction entered by hand (no bank id, no import key)
   has its currency, amount (in that currency) and type, dated within MATCH_DAYS days and not
   matched by an earlier row: the closest date, then the lowest id. Never across amounts or
   currencies.

Pure functions over plain rows; the queries that feed them are the service's.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

MATCH_DAYS = 3


def import_key(day: date, type_: str, amount: Decimal, occurrence: int) -> str:
    """The key of the `occurrence`-th (1-based) row of a file with this date, type and amount:
    readable, and the same whatever the amount's trailing zeros."""
    return f"{day.isoformat()}/{type_}/{amount.normalize():f}/{occurrence}"


def assign_import_keys(rows: list[dict]) -> None:
    """Sets `import_key` on each valid row without a bank id, counting equal rows in file order."""
    seen: Counter = Counter()
    for row in rows:
        if row["decision"] == "invalid" or row["bank_id"] is not None:
            continue
        if row["import_key"] is not None:  # the file's own (an export of ours)
            continue
        signature = (row["occurred_on"], row["type"], row["amount"])
        seen[signature] += 1
        row["import_key"] = import_key(*signature, seen[signature])


def mark_duplicates(rows: list[dict], known_bank: dict[str, int], known_keys: dict[str, int]):
    """Steps 1 and 2: duplicates of the ledger (transaction_id: the transaction it duplicates)
    and of earlier rows of the file."""
    earlier: set[str] = set()  # bank ids and import keys of earlier rows
    for row in rows:
        if row["decision"] == "invalid":
            continue
        bank_id = row["bank_id"]
        if bank_id is not None:
            if bank_id in known_bank:
                _duplicate(row, known_bank[bank_id], "The ledger already has this bank id.")
            elif bank_id in earlier:
                _duplicate(row, None, "An earlier row of this file has the same bank id.")
            earlier.add(bank_id)
        elif row["import_key"] in known_keys:
            _duplicate(
                row,
                known_keys[row["import_key"]],
                "Already imported: the same date, amount and type at this place in a file of "
                "this account.",
            )
        elif row["import_key"] in earlier:
            _duplicate(row, None, "An earlier row of this file has the same import id.")
        if bank_id is None:
            earlier.add(row["import_key"])


def _duplicate(row: dict, transaction_id: int | None, reason: str) -> None:
    row.update(decision="duplicate", transaction_id=transaction_id, reason=reason)


def match_window(rows: list[dict]) -> tuple[date, date] | None:
    """The dates step 3 must look between (None: no row left to match)."""
    days = [row["occurred_on"] for row in rows if row["decision"] == "new"]
    if not days:
        return None
    return min(days) - timedelta(days=MATCH_DAYS), max(days) + timedelta(days=MATCH_DAYS)


def mark_matches(rows: list[dict], candidates: list[dict]) -> None:
    """Step 3, in file order: each remaining row takes the closest unmatched hand-entered
    transaction of its currency, amount and type within MATCH_DAYS days (a candidate's
    `amount` is in its `currency`, as a row's)."""
    by_amount: dict[tuple, list[dict]] = {}
    for candidate in candidates:
        key = (candidate["type"], candidate["currency"], Decimal(candidate["amount"]))
        by_amount.setdefault(key, []).append(candidate)
    taken: set[int] = set()
    for row in rows:
        if row["decision"] != "new":
            continue
        near = [
            candidate
            for candidate in by_amount.get((row["type"], row["currency"], row["amount"]), ())
            if candidate["id"] not in taken
            and abs((candidate["occurred_on"] - row["occurred_on"]).days) <= MATCH_DAYS
        ]
        if not near:
            continue
        chosen = min(
            near, key=lambda c: (abs((c["occurred_on"] - row["occurred_on"]).days), c["id"])
        )
        taken.add(chosen["id"])
        days = (row["occurred_on"] - chosen["occurred_on"]).days
        row.update(
            decision="match",
            transaction_id=chosen["id"],
            reason=f"Entered by hand {abs(days)} day{'s' if abs(days) != 1 else ''} "
            f"{'before' if days >= 0 else 'after'}, same amount.",
        )
