"""The matcher (expense_api/domain/rules.py): each condition, case, trimming, bounds, the order
rules are tried in, and user patterns that cannot hang a worker."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from expense_api.domain.rules import (
    MAX_PATTERN,
    InvalidPattern,
    compile_pattern,
    first_match,
    matches,
    pattern_error,
)


def row(payee="Corner Café", description="Card 1234 COFFEE", amount="4.50", type="EXPENSE"):
    return {"payee": payee, "description": description, "amount": Decimal(amount), "type": type}


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ({"payee": {"contains": "café"}}, True),
        ({"payee": {"contains": "CAFÉ"}}, True),  # case-insensitive, beyond ASCII
        ({"payee": {"contains": "bakery"}}, False),
        ({"payee": {"equals": "  corner café "}}, True),  # trimmed, ignoring case
        ({"payee": {"equals": "corner"}}, False),  # the whole text, not a part
        ({"description": {"regex": r"card \d{4}"}}, True),  # searched anywhere
        ({"description": {"regex": r"^coffee"}}, False),  # anchored
        ({"description": {"regex": r"coffee$"}}, True),
        ({"amountMin": Decimal("4.50")}, True),  # inclusive
        ({"amountMax": Decimal("4.50")}, True),
        ({"amountMin": Decimal("4.51")}, False),
        ({"amountMax": Decimal("4.49")}, False),
        ({"amountMin": Decimal("1"), "amountMax": Decimal("10")}, True),
        ({"type": "EXPENSE"}, True),
        ({"type": "INCOME"}, False),
        # Every condition must hold.
        ({"payee": {"contains": "café"}, "type": "INCOME"}, False),
        ({"payee": {"contains": "café"}, "description": {"contains": "coffee"}}, True),
    ],
)
def test_each_condition(match, expected):
    assert matches(match, row()) is expected


def test_the_amount_compared_is_unsigned():
    assert matches({"amountMin": Decimal("4")}, row(amount="-4.50"))


def test_a_row_without_a_payee_is_matched_as_empty_text():
    assert not matches({"payee": {"contains": "a"}}, row(payee=None))
    assert matches({"payee": {"regex": "^$"}}, row(payee=None))
    assert not matches({"payee": {"equals": "x"}}, row(payee=None))


def test_rules_are_tried_by_position_and_the_first_match_wins():
    rules = [
        {"id": 7, "position": 3, "match": {"type": "EXPENSE"}, "set": {"payee": "Any"}},
        {"id": 8, "position": 1, "match": {"type": "INCOME"}, "set": {"payee": "Pay"}},
        {"id": 9, "position": 2, "match": {"payee": {"contains": "corner"}}, "set": {}},
    ]
    assert first_match(rules, row())["id"] == 9  # position 2 before position 3
    assert first_match(rules, row(payee="Shop"))["id"] == 7
    assert first_match(rules, row(type="INCOME"))["id"] == 8
    assert first_match(rules, row(type="INCOME", amount="1")) is not None
    assert first_match([], row()) is None
    assert first_match(rules[1:2], row()) is None


@pytest.mark.parametrize(
    "pattern",
    [
        "(a",  # not closed
        r"(a)\1",  # a backreference: RE2 has none
        "(?=a)a",  # lookahead: RE2 has none
        "a{1001}",  # a repetition RE2 refuses
        r"\pL{1000}",  # an automaton over the memory budget
        "x" * (MAX_PATTERN + 1),  # too long
    ],
)
def test_a_pattern_re2_cannot_run_is_refused_with_a_reason(pattern):
    reason = pattern_error(pattern)
    assert reason is not None and reason.endswith(".")
    with pytest.raises(InvalidPattern):
        compile_pattern(pattern)


def test_a_valid_pattern_has_no_error():
    assert pattern_error(r"^(amzn|amazon)\s+mktp") is None
    assert pattern_error("x" * MAX_PATTERN) is None


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("(a+)+$", "a" * 50 + "b"),  # exponential for a backtracking engine
        ("(a|aa)+$", "a" * 5000 + "b"),
        (r"^(\w+\s?)*$", "word " * 2000 + "!"),
        ("(x+x+)+y", "x" * 10_000),
    ],
    ids=["nested plus", "alternation", "words", "two plus"],
)
def test_a_catastrophic_pattern_answers_at_once(pattern, text):
    """Python's `re` would take years on the first (2^50 paths); RE2 is linear in the text."""
    started = time.perf_counter()
    assert not matches({"description": {"regex": pattern}}, row(description=text))
    assert time.perf_counter() - started < 0.5
