"""QIF bank files: bank, cash and card records; investment and list sections skipped; the date
styles Quicken and banks write; split lines where they satisfy the split rules. No database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from expense_api.domain.bankfiles import NeedsMapping, Options, SplitLine, UnreadableFile
from expense_api.domain.bankfiles.qif import parse

FILES = Path(__file__).parent / "files"


def read(text: str, **mapping):
    return parse(text.encode(), Options(mapping=mapping or None))


def record(day: str, amount: str = "-1.00", *extra: str) -> str:
    return "\n".join([f"D{day}", f"T{amount}", *extra, "^"]) + "\n"


def test_a_quicken_checking_file_with_lists_an_investment_section_and_a_split():
    parsed = parse((FILES / "checking-us.qif").read_bytes(), Options())
    assert parsed.account == "Checking"
    rent, shop, salary, transfer, power = parsed.rows
    assert (rent.line, rent.date, rent.amount) == (15, date(2023, 12, 28), Decimal("-1045.00"))
    assert (rent.payee, rent.category) == ("Riverside Apartments", "Rent")
    assert rent.description == "January rent; check 1187"
    assert shop.date == date(2024, 1, 3)  # " 1/ 3'24": spaces and the apostrophe year
    assert shop.category is None
    assert shop.splits == (
        SplitLine("Groceries", Decimal("98.13"), "Food"),
        SplitLine("Household", Decimal("29.30")),  # "Household/Home": the class dropped
    )
    assert salary.amount == Decimal("2450.00")
    assert (transfer.category, transfer.description) == (None, "transfer [Savings]")
    # Its split lines sum to 65.20, not the record's 64.20: imported whole.
    assert (power.amount, power.splits) == (Decimal("-64.20"), ())
    assert all(row.invalid is None for row in parsed.rows)  # no Invst record among them


def test_a_german_card_file_with_dotted_dates_decimal_commas_and_windows_1252():
    parsed = parse((FILES / "card-de.qif").read_bytes(), Options())
    assert [(row.date, row.amount, row.category) for row in parsed.rows] == [
        (date(2024, 2, 3), Decimal("-18.90"), "Bücher"),
        (date(2024, 2, 15), Decimal("-1299.00"), "Elektronik"),
        (date(2024, 2, 29), Decimal("250.00"), None),
    ]


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (["01/13/2024", "02/01/2024"], [date(2024, 1, 13), date(2024, 2, 1)]),
        (["13/01/2024", "02/01/2024"], [date(2024, 1, 13), date(2024, 1, 2)]),
        (["1/13/24", "2/1/99"], [date(2024, 1, 13), date(1999, 2, 1)]),
        (["1/13'24", "2/1'05"], [date(2024, 1, 13), date(2005, 2, 1)]),
        (["2024-01-13", "2024-02-01"], [date(2024, 1, 13), date(2024, 2, 1)]),
        (["13.01.2024", "02.01.2024"], [date(2024, 1, 13), date(2024, 1, 2)]),
    ],
)
def test_date_styles_decided_over_the_whole_file(days, expected):
    parsed = read("!Type:Bank\n" + "".join(record(day) for day in days))
    assert [row.date for row in parsed.rows] == expected


def test_dates_that_could_be_either_need_a_date_format():
    text = "!Type:Bank\n" + record("01/02/2024") + record("03/04/2024")
    with pytest.raises(NeedsMapping, match="dateFormat"):
        read(text)
    assert read(text, dateFormat="DD/MM/YYYY").rows[0].date == date(2024, 2, 1)
    assert read(text, dateFormat="MM/DD/YYYY").rows[0].date == date(2024, 1, 2)


def test_a_date_format_overrides_an_order_the_file_would_suggest():
    parsed = read("!Type:Bank\n" + record("05/06'24"), dateFormat="DD/MM/YY")
    assert parsed.rows[0].date == date(2024, 6, 5)


@pytest.mark.parametrize("kind", ["Bank", "Cash", "CCard", "Oth A", "Oth L", "bank"])
def test_the_transaction_sections(kind):
    assert len(read(f"!Type:{kind}\n" + record("2024-01-02")).rows) == 1


@pytest.mark.parametrize(
    "section",
    ["Invst", "Cat", "Class", "Memorized", "Security", "Prices"],
)
def test_other_sections_are_skipped(section):
    text = f"!Type:{section}\n" + record("2024-01-02", "-9.00", "NVanguard") + "!Type:Bank\n"
    text += record("2024-01-03")
    assert [row.amount for row in read(text).rows] == [Decimal("-1.00")]


def test_option_lines_do_not_end_a_section():
    text = "!Type:Bank\n!Option:AutoSwitch\n" + record("2024-01-02") + "!Clear:AutoSwitch\n"
    text += record("2024-01-03")
    assert len(read(text).rows) == 2


def test_u_is_the_amount_when_there_is_no_t():
    parsed = read("!Type:Bank\nD2024-01-02\nU-1,234.50\n^\n")
    assert parsed.rows[0].amount == Decimal("-1234.50")


def test_unusable_records_are_invalid_with_their_reason():
    text = "!Type:Bank\n" + "T-1.00\nPNo date\n^\n" + record("2024-13-45")
    text += "D2024-01-02\nPNo amount\n^\n" + record("2024-01-03", "lots")
    text += record("2024-01-04", "0.00") + record("2024-01-05", "-2.00")
    parsed = read(text)
    assert [row.invalid for row in parsed.rows] == [
        "no date",
        "unreadable date '2024-13-45'",
        "no amount",
        "unreadable amount 'lots'",
        "zero amount",
        None,
    ]
    assert [row.line for row in parsed.rows] == [2, 5, 8, 11, 14, 17]


def split_record(total: str, *lines: tuple[str, str]) -> str:
    parts = [f"S{category}\n${amount}\n" for category, amount in lines]
    return "!Type:Bank\nD2024-01-02\nT" + total + "\nLWhole\n" + "".join(parts) + "^\n"


@pytest.mark.parametrize(
    ("text", "splits"),
    [
        (split_record("-30.00", ("Food", "-20.00"), ("Home", "-10.00")), 2),
        (split_record("30.00", ("Refund", "20.00"), ("Cash", "10.00")), 2),
        (split_record("-30.00", ("Food", "-20.00"), ("Home", "-10.01")), 0),  # sum differs
        (split_record("-30.00", ("Food", "-40.00"), ("Home", "10.00")), 0),  # sign differs
        (split_record("-30.00", ("Food", "-20.00"), ("Home", "10.00")), 0),  # |lines| = |T|
        (split_record("-30.00", ("Food", "-30.00")), 0),  # one line
        (split_record("-51.00", *[("Food", "-1.00")] * 51), 0),  # 51 lines
        (split_record("-50.00", *[("Food", "-1.00")] * 50), 50),
        (split_record("-30.00", ("Food", "-20.00"), ("[Savings]", "-10.00")), 0),  # transfer
        (split_record("-30.00", ("Food", "-20.00"), ("", "-10.00")), 0),  # no category
        (split_record("-30.00", ("Food", "-30.00"), ("Home", "0.00")), 0),  # a zero line
    ],
)
def test_split_lines_only_when_they_satisfy_the_split_rules(text, splits):
    (row,) = read(text).rows
    assert len(row.splits) == splits
    assert row.category == (None if splits else "Whole")
    assert row.invalid is None


def test_a_record_without_its_closing_caret_is_read_with_a_warning():
    parsed = read("!Type:Bank\nD2024-01-02\nT-1.00\n")
    assert len(parsed.rows) == 1
    assert parsed.warnings


def test_a_file_without_a_type_header_is_read_as_a_bank_account_with_a_warning():
    parsed = read(record("2024-01-02"))
    assert len(parsed.rows) == 1
    assert parsed.warnings == ["no !Type header: read as a bank account"]


def test_a_binary_file_is_unreadable():
    with pytest.raises(UnreadableFile):
        parse(bytes(range(256)) * 10, Options())
