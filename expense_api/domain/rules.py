"""Rules: which row a rule matches, and the first matching one of a ledger's rules. Pure: no I/O.

A rule's `match` (every condition given must hold; at least one is given):

    {"payee"?:       {"contains" | "equals" | "regex": text},
     "description"?: {"contains" | "equals" | "regex": text},
     "amountMin"?:   Decimal,   "amountMax"?: Decimal,   (inclusive, on the unsigned amount)
     "type"?:        "INCOME" | "EXPENSE"}

Text comparisons ignore case (Unicode case folding). `contains` looks for the text anywhere;
`equals` compares the whole text, both sides trimmed; `regex` searches for the pattern anywhere
(anchor it with `^` and `$` for the whole text). A row without a payee is matched as an empty
payee. Patterns are RE2 syntax (google-re2): matching takes time linear in the text whatever the
pattern, so a user's pattern can never hang a worker (no catastrophic backtracking; RE2 has no
backreferences or lookaround, which such patterns need). A pattern is at most MAX_PATTERN
characters; `pattern_error` says why one is refused, at a rule's creation.

A row, as the import preview and `apply` pass it:

    {"payee": str | None, "description": str | None, "amount": Decimal (unsigned), "type": str}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import lru_cache

import re2

TEXT_FIELDS = ("payee", "description")
TEXT_TESTS = ("contains", "equals", "regex")
TYPES = ("INCOME", "EXPENSE")
MAX_PATTERN = 200
MAX_TEXT = 200
# RE2's memory budget for one compiled pattern (its default is 8 MiB): a pattern whose automaton
# would need more is refused at creation rather than costing memory at every match.
_MAX_MEMORY = 1 << 20


def _options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = _MAX_MEMORY
    return options


class InvalidPattern(ValueError):
    """A pattern RE2 cannot compile (or too long): the message says why."""


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str):
    """The compiled pattern (case-insensitive), kept for the next row; InvalidPattern when it
    is too long or not RE2 syntax."""
    if len(pattern) > MAX_PATTERN:
        raise InvalidPattern(f"At most {MAX_PATTERN} characters.")
    try:
        return re2.compile(pattern, _options())
    except re2.error as error:
        reason = error.args[0] if error.args else "invalid"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise InvalidPattern(f"Not a valid RE2 regular expression: {reason}.") from None


def pattern_error(pattern: str) -> str | None:
    """Why a pattern is refused, or None when it is valid."""
    try:
        compile_pattern(pattern)
    except InvalidPattern as error:
        return str(error)
    return None


def _text_holds(test: Mapping, text: str | None) -> bool:
    text = text or ""
    (kind, wanted), *_ = test.items()
    if kind == "contains":
        return wanted.casefold() in text.casefold()
    if kind == "equals":
        return wanted.strip().casefold() == text.strip().casefold()
    if kind == "regex":
        return compile_pattern(wanted).search(text) is not None
    raise ValueError(f"unknown text test {kind!r}")


def matches(match: Mapping, row: Mapping) -> bool:
    """True when every condition of `match` holds for the row."""
    for name in TEXT_FIELDS:
        test = match.get(name)
        if test is not None and not _text_holds(test, row.get(name)):
            return False
    wanted_type = match.get("type")
    if wanted_type is not None and row.get("type") != wanted_type:
        return False
    low, high = match.get("amountMin"), match.get("amountMax")
    if low is not None or high is not None:
        amount = abs(Decimal(row["amount"]))
        if low is not None and amount < Decimal(low):
            return False
        if high is not None and amount > Decimal(high):
            return False
    return True


def first_match(rules: Iterable[Mapping], row: Mapping) -> Mapping | None:
    """The first rule (by `position`, then `id`) whose `match` holds for the row, or None.

    `rules`: dicts with at least "match" and "position" (a rule as the rules service lists it);
    `row`: {"payee", "description", "amount" (unsigned Decimal), "type"} (see the module's
    docstring). The rule is returned as given: its "set" says what to change."""
    ordered = sorted(rules, key=lambda rule: (rule["position"], rule.get("id") or 0))
    for rule in ordered:
        if matches(rule["match"], row):
            return rule
    return None
