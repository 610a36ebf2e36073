"""The transaction list's filters of issue 28: `payee` (exact but for case), `tag` (repeatable:
every one given) and `categoryId` matching the transaction's category or one of its split
lines; on the v1 path and the ledger's path, with the other filters and the keyset cursor."""

from __future__ import annotations

import pytest

from tests.factories import category, record
from tests.helpers import assert_problem

PERIOD = "from=2026-01-01&to=2026-12-31"


def split(user, lines, *, date="2026-03-15", **extra) -> dict:
    """Records a split expense of `lines` [(category id, amount)]; returns it."""
    body = {"amount": str(sum(float(amount) for _, amount in lines)), "type": "EXPENSE",
            "date": date, "splits": [{"categoryId": c, "amount": a} for c, a in lines], **extra}  # fmt: skip
    response = user.post("/api/transactions", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def ids(user, query, path="/api/transactions") -> list[int]:
    response = user.get(f"{path}?{PERIOD}&{query}")
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def test_payee_matches_the_whole_name_ignoring_case(alice):
    food = category(alice)
    shop = record(alice, food, payee="Corner Shop", date="2026-03-01")
    again = record(alice, food, payee="corner shop", date="2026-03-02")
    record(alice, food, payee="Corner Shop Two", date="2026-03-03")
    record(alice, food, date="2026-03-04")
    assert ids(alice, "payee=CORNER%20SHOP") == [again["id"], shop["id"]]
    assert ids(alice, "payee=%20Corner%20Shop%20") == [again["id"], shop["id"]]  # trimmed
    assert ids(alice, "payee=Corner") == []  # not a substring search
    assert ids(alice, "payee=Nobody") == []
    ledger_path = f"/api/ledgers/{alice.ledger_id}/transactions"
    assert ids(alice, "payee=corner%20shop", ledger_path) == [again["id"], shop["id"]]


def test_every_tag_given_must_be_on_the_transaction(alice):
    food = category(alice)
    both = record(alice, food, tags=["trip", "Work"], date="2026-03-01")
    trip = record(alice, food, tags=["TRIP"], date="2026-03-02")
    work = record(alice, food, tags=["work", "extra"], date="2026-03-03")
    record(alice, food, date="2026-03-04")
    assert ids(alice, "tag=trip") == [trip["id"], both["id"]]
    assert ids(alice, "tag=WORK") == [work["id"], both["id"]]
    assert ids(alice, "tag=trip&tag=work") == [both["id"]]
    assert ids(alice, "tag=work&tag=Work") == [work["id"], both["id"]]  # the same tag twice
    assert ids(alice, "tag=trip&tag=nowhere") == []
    assert ids(alice, "tag=nowhere") == []
    ledger_path = f"/api/ledgers/{alice.ledger_id}/transactions"
    assert ids(alice, "tag=Trip&tag=Work", ledger_path) == [both["id"]]


def test_category_matches_the_transactions_own_or_any_of_its_lines_once(alice):
    food, home, gifts = category(alice, "Food"), category(alice, "Home"), category(alice, "Gifts")
    plain = record(alice, food, "4.00", date="2026-03-01")
    receipt = split(alice, [(food, "10.00"), (home, "5.00"), (gifts, "2.00")], date="2026-03-02")
    twice = split(alice, [(food, "1.00"), (food, "2.00")], date="2026-03-03")  # one row, not two
    elsewhere = split(alice, [(home, "3.00"), (gifts, "3.00")], date="2026-03-04")
    at_home = record(alice, home, date="2026-03-05")
    assert ids(alice, f"categoryId={food}") == [twice["id"], receipt["id"], plain["id"]]
    assert ids(alice, f"categoryId={home}") == [at_home["id"], elsewhere["id"], receipt["id"]]
    assert ids(alice, f"categoryId={gifts}") == [elsewhere["id"], receipt["id"]]
    # With the other filters: they apply to the split transaction as a whole.
    assert ids(alice, f"categoryId={food}&minAmount=10") == [receipt["id"]]
    assert ids(alice, f"categoryId={food}&maxAmount=4") == [twice["id"], plain["id"]]
    assert ids(alice, f"categoryId={food}&type=INCOME") == []
    assert ids(alice, f"categoryId={category(alice, 'Unused')}") == []


def test_a_category_page_by_page_merges_plain_and_split_transactions_in_order(alice):
    food, home = category(alice, "Food"), category(alice, "Home")
    made = []
    for day in range(1, 10):  # alternately plain and split, some on the same day
        date = f"2026-05-{(day + 1) // 2:02d}"
        if day % 2:
            made.append(record(alice, food, date=date))
        else:
            made.append(split(alice, [(home, "1.00"), (food, "2.00")], date=date))
    record(alice, home, date="2026-05-03")  # not in the category
    expected = [t["id"] for t in sorted(made, key=lambda t: (t["date"], t["id"]), reverse=True)]
    seen, cursor = [], None
    while True:
        query = f"year=2026&month=5&categoryId={food}&limit=2" + (
            f"&cursor={cursor}" if cursor else ""
        )
        page = alice.get(f"/api/transactions?{query}").get_json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == expected


def test_the_filters_together(alice):
    food, home = category(alice, "Food"), category(alice, "Home")
    hit = split(alice, [(food, "6.00"), (home, "4.00")], payee="Market", tags=["weekly", "cash"])
    record(alice, food, "10.00", payee="Market", tags=["weekly"])  # lacks a tag
    split(alice, [(home, "6.00"), (home, "4.00")], payee="Market", tags=["weekly", "cash"])
    split(alice, [(food, "6.00"), (home, "4.00")], payee="Other", tags=["weekly", "cash"])
    query = f"categoryId={food}&payee=market&tag=cash&tag=Weekly&type=EXPENSE"
    assert ids(alice, query) == [hit["id"]]
    [item] = alice.get(f"/api/transactions?{PERIOD}&{query}").get_json()["items"]
    assert item["payee"] == "Market" and item["tags"] == ["cash", "weekly"]
    assert [line["categoryId"] for line in item["splits"]] == [food, home]


@pytest.mark.parametrize(
    "query",
    ["payee=", "payee=" + "x" * 201, "payee=a&payee=b", "tag=", "tag=" + "x" * 41,
     "&".join(f"tag=t{n}" for n in range(21)), "tags=a", "categoryId=0"],
)  # fmt: skip
def test_bad_filters_are_422_naming_them(alice, query):
    body = assert_problem(alice.get(f"/api/transactions?{query}"), 422, "validation_error")
    name = query.split("=")[0]
    assert name in body["errors"] or any(key.startswith(name) for key in body["errors"]), body
