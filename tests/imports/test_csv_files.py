"""CSV bank files (../shared/API.md, "Import and export"): what is detected, what a mapping
says instead, and what becomes an invalid row or a refusal. Pure parsing: no database."""

from __future__ import annotations

import re
import time
import tracemalloc
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from expense_api.domain.bankfiles import NeedsMapping, Options, SplitLine, UnreadableFile
from expense_api.domain.bankfiles.csvfile import parse

FILES = Path(__file__).parent / "files"


def read(text: str | bytes, **mapping):
    data = text.encode() if isinstance(text, str) else text
    return parse(data, Options(mapping=mapping or None))


def amounts_of(parsed):
    return [row.amount for row in parsed.rows]


def test_a_german_bank_file_with_semicolons_decimal_commas_and_windows_1252():
    parsed = parse((FILES / "sparkasse-de.csv").read_bytes(), Options())
    assert [row.line for row in parsed.rows] == [6, 7, 8, 9, 10]  # the preamble skipped
    first = parsed.rows[0]
    assert first.date == date(2024, 3, 1)  # Buchungstag, not Wertstellung
    assert first.payee == "Bäckerei Müller"
    assert first.description == "Brötchen, Kaffee"  # Verwendungszweck before Buchungstext
    assert first.currency == "EUR"
    assert amounts_of(parsed) == [
        Decimal("-4.85"),
        Decimal("2345.67"),
        Decimal("-1234.00"),
        Decimal("-850.00"),
        Decimal("-23.40"),
    ]
    assert all(row.invalid is None for row in parsed.rows)


def test_a_us_file_with_a_bom_and_debit_and_credit_columns():
    parsed = parse((FILES / "checking-us.csv").read_bytes(), Options())
    assert [row.date for row in parsed.rows][:2] == [date(2024, 1, 5), date(2024, 1, 13)]
    assert amounts_of(parsed) == [
        Decimal("-42.17"),
        Decimal("2500.00"),
        Decimal("-1250.00"),
        Decimal("-38.06"),
        Decimal("0.41"),
    ]
    assert parsed.rows[0].description == "AMAZON.COM*2K4LM, SEATTLE WA"


def test_our_own_export_reads_back_with_its_signs_categories_tags_and_splits():
    parsed = parse((FILES / "export.csv").read_bytes(), Options())
    weekly, split, software, salary = parsed.rows
    assert (weekly.amount, weekly.category, weekly.tags) == (
        Decimal("-54.20"),
        "Groceries",
        ("food", "weekly"),
    )
    assert split.line == 3
    assert split.amount == Decimal("-42.50")
    assert split.category is None
    assert split.splits == (
        SplitLine("Groceries", Decimal("30.00")),
        SplitLine("Household", Decimal("12.50")),
    )
    assert split.description == "Big shop"
    assert (software.currency, software.tags) == ("USD", ("work", "tools"))
    assert (salary.amount, salary.bank_id) == (Decimal("2500.00"), "DE-2024-03-25-001")
    assert parsed.account == "default"


EXPORT_HEADER = (
    "date,type,amount,currency,rate,category,payee,tags,description,account,bankId,importId,splitOf"
)


def test_export_split_lines_with_their_own_descriptions_keep_them_as_memos():
    parsed = read(
        f"{EXPORT_HEADER}\n"
        "2024-03-05,expense,30.00,EUR,,Groceries,Rewe,,food,default,,,x\n"
        "2024-03-06,income,5.00,EUR,,Salary,ACME,,,default,,,\n"
        "2024-03-05,expense,12.50,EUR,,Household,Rewe,,soap,default,,,x\n"
    )
    split, income = parsed.rows
    assert split.description is None
    assert [line.memo for line in split.splits] == ["food", "soap"]
    assert income.amount == Decimal("5.00")


def test_export_split_lines_of_both_signs_import_whole():
    parsed = read(
        f"{EXPORT_HEADER}\n"
        "2024-03-05,expense,30.00,EUR,,Groceries,Rewe,,,default,,,x\n"
        "2024-03-05,income,10.00,EUR,,Refunds,Rewe,,,default,,,x\n"
    )
    (row,) = parsed.rows
    assert (row.amount, row.splits, row.category) == (Decimal("-20.00"), (), None)
    assert parsed.warnings


def test_export_row_with_an_unknown_type_is_invalid():
    parsed = read(f"{EXPORT_HEADER}\n2024-03-05,gift,30.00,EUR,,,,,,default,,,\n")
    assert parsed.rows[0].invalid == "unknown type 'gift'"


@pytest.mark.parametrize(
    ("cell", "amount"),
    [
        ('"-$7,971.39"', "-7971.39"),
        ("-12.50 USD", "-12.50"),
        ("(12.50)", "-12.50"),
        ("+3.00", "3.00"),
        ('"1,234,567.00"', "1234567.00"),
    ],
)
def test_amounts_with_symbols_codes_thousands_and_parentheses(cell, amount):
    parsed = read(f"Date,Amount\n2024-01-02,{cell}\n2024-01-03,1.50\n")
    assert parsed.rows[0].amount == Decimal(amount)


def test_an_iso_code_written_with_the_amount_is_the_rows_currency():
    parsed = read("Date,Amount\n2024-01-02,-12.50 USD\n")
    assert parsed.rows[0].currency == "USD"


def test_decimal_comma_amounts_with_a_euro_sign():
    parsed = read('Datum;Betrag\n02.01.2024;"1.234,56 €"\n03.01.2024;-7,5\n')
    assert amounts_of(parsed) == [Decimal("1234.56"), Decimal("-7.5")]


def test_an_ambiguous_amount_is_decided_by_the_other_rows():
    comma = read("Date;Amount\n2024-01-02;1,234\n2024-01-03;2,50\n")
    point = read('Date,Amount\n2024-01-02,"1,234"\n2024-01-03,2.50\n')
    assert amounts_of(comma) == [Decimal("1.234"), Decimal("2.50")]
    assert amounts_of(point) == [Decimal("1234"), Decimal("2.50")]


def test_amounts_that_never_show_their_decimal_mark_need_a_mapping():
    with pytest.raises(NeedsMapping) as refused:
        read('Date,Amount\n2024-01-02,"1,234"\n2024-01-03,"12,500"\n')
    assert "mapping.decimal" in refused.value.why
    assert refused.value.columns == ["Date", "Amount"]
    mapped = read('Date,Amount\n2024-01-02,"1,234"\n2024-01-03,"12,500"\n', decimal=",")
    assert amounts_of(mapped) == [Decimal("1.234"), Decimal("12.500")]


def test_amounts_with_both_decimal_marks_need_a_mapping():
    with pytest.raises(NeedsMapping, match="decimal point"):
        read('Date,Amount\n2024-01-02,"2,50"\n2024-01-03,3.75\n')


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["13/01/2024", "02/01/2024"], [date(2024, 1, 13), date(2024, 1, 2)]),
        (["01/13/2024", "01/02/2024"], [date(2024, 1, 13), date(2024, 1, 2)]),
        (["2024-01-13", "2024-01-02"], [date(2024, 1, 13), date(2024, 1, 2)]),
        (["13.01.24", "2.1.24"], [date(2024, 1, 13), date(2024, 1, 2)]),
        (["13-01-2024 14:05", "02-01-2024 09:00:00"], [date(2024, 1, 13), date(2024, 1, 2)]),
        (["02.01.2024", "03.01.2024"], [date(2024, 1, 2), date(2024, 1, 3)]),  # dots: day-first
        (["15/06/75", "16/06/69"], [date(1975, 6, 15), date(2069, 6, 16)]),
    ],
)
def test_the_date_order_is_decided_over_all_rows(dates, expected):
    parsed = read("Date,Amount\n" + "".join(f"{day},1.00\n" for day in dates))
    assert [row.date for row in parsed.rows] == expected


def test_dates_that_could_be_day_or_month_first_need_a_date_format():
    text = "Date,Amount\n01/02/2024,1.00\n03/04/2024,2.00\n"
    with pytest.raises(NeedsMapping, match=re.escape("DD.MM.YYYY or MM/DD/YYYY")):
        read(text)
    mapped = read(text, dateFormat="DD/MM/YYYY")
    assert [row.date for row in mapped.rows] == [date(2024, 2, 1), date(2024, 4, 3)]
    us = read(text, dateFormat="MM/DD/YYYY")
    assert [row.date for row in us.rows] == [date(2024, 1, 2), date(2024, 3, 4)]


def test_a_date_format_without_a_year_is_refused():
    with pytest.raises(NeedsMapping, match="dateFormat"):
        read("Date,Amount\n01/02,1.00\n", dateFormat="DD/MM")


def test_a_compact_date_format():
    parsed = read("Date,Amount\n20240131 10:00,1.00\n", dateFormat="YYYYMMDD")
    assert parsed.rows[0].date == date(2024, 1, 31)


def test_unusable_rows_are_invalid_with_their_reason_and_the_others_go_on():
    parsed = read(
        "Date,Amount,Currency\n"
        ",1.00,\n"
        "yesterday,1.00,\n"
        "2024-01-02,,\n"
        "2024-01-03,lots,\n"
        "2024-01-04,0.00,\n"
        "2024-01-05,4.00,XYZ\n"
        "2024-01-06,5.00,eur\n"
    )
    assert [row.invalid for row in parsed.rows] == [
        "no date",
        "unreadable date 'yesterday'",
        "no amount",
        "unreadable amount 'lots'",
        "zero amount",
        "unknown currency 'XYZ'",
        None,
    ]
    assert parsed.rows[-1].currency == "EUR"


def test_debit_and_credit_empty_cells_are_zero_and_both_empty_is_no_amount():
    parsed = read(
        "Date;Soll;Haben\n01.02.2024;12,50;\n02.02.2024;;3,00\n03.02.2024;;\n04.02.2024;-4,00;\n"
    )
    assert amounts_of(parsed) == [Decimal("-12.50"), Decimal("3.00"), None, Decimal("-4.00")]
    assert parsed.rows[2].invalid == "no amount"


@pytest.mark.parametrize(
    ("header", "roles"),
    [
        ("Date opération;Libellé;Montant", ("date", "description", "amount")),
        ("Datum;Naam / Omschrijving;Bedrag (EUR)", ("date", "payee", "amount")),
        ("Fecha;Concepto;Importe", ("date", "description", "amount")),
        ("Posted Date|Payee|Memo|Amount", ("date", "payee", "description", "amount")),
    ],
)
def test_header_names_in_several_languages(header, roles):
    delimiter = "|" if "|" in header else ";"
    cells = {"date": "03.02.2024", "description": "Note", "payee": "Shop", "amount": "-5,00"}
    line = delimiter.join(cells[role] for role in roles)
    parsed = read(f"{header}\n{line}\n", decimal=",")
    row = parsed.rows[0]
    assert (row.date, row.amount) == (date(2024, 2, 3), Decimal("-5.00"))
    assert row.payee == ("Shop" if "payee" in roles else None)
    assert row.description == ("Note" if "description" in roles else None)


def test_tab_delimited_with_quotes():
    parsed = read('Date\tPayee\tAmount\n2024-01-02\t"Shop\tDowntown"\t-3.00\n')
    assert (parsed.rows[0].payee, parsed.rows[0].amount) == ("Shop\tDowntown", Decimal("-3.00"))


def test_a_mapping_by_index_for_a_file_without_a_header():
    text = "2024-01-02;ACME;-3,00;TX-1\n2024-01-03;Bakery;-2,00;TX-2\n"
    with pytest.raises(NeedsMapping) as refused:
        read(text)
    assert refused.value.columns == ["2024-01-02", "ACME", "-3,00", "TX-1"]
    parsed = read(text, header=False, date=0, payee=1, amount=2, bankId=3)
    assert [(row.payee, row.amount, row.bank_id) for row in parsed.rows] == [
        ("ACME", Decimal("-3.00"), "TX-1"),
        ("Bakery", Decimal("-2.00"), "TX-2"),
    ]


def test_a_mapping_by_name_overrides_detection_and_skips_rows():
    text = "Export of 2024-01\nWhen,Who,Out,In,Ref\n2024-01-02,ACME,3.00,,a\n2024-01-03,X,,9.00,b\n"
    with pytest.raises(NeedsMapping, match="no known column names"):
        read(text, skipRows=1)
    parsed = read(text, skipRows=1, header=True, date="When", payee="who", debit="Out", credit="In")
    assert [(row.line, row.payee, row.amount) for row in parsed.rows] == [
        (3, "ACME", Decimal("-3.00")),
        (4, "X", Decimal("9.00")),
    ]


def test_a_mapped_column_that_does_not_exist_needs_mapping():
    with pytest.raises(NeedsMapping, match="no column named 'Wann'"):
        read("Date,Amount\n2024-01-02,1.00\n", date="Wann")
    with pytest.raises(NeedsMapping, match="column 5 does not exist"):
        read("Date,Amount\n2024-01-02,1.00\n", amount=5)


def test_a_header_of_unknown_names_needs_mapping_with_its_columns():
    with pytest.raises(NeedsMapping) as refused:
        read("Foo,Bar\nx,y\n")
    assert refused.value.columns == ["Foo", "Bar"]


def test_an_explicit_delimiter_and_encoding():
    data = "Date|Amount|Payee\n2024-01-02|-1.00|Caf\u00e9\n".encode("latin-1")
    parsed = read(data, delimiter="|", encoding="latin-1")
    assert parsed.rows[0].payee == "Café"


def test_encodings_are_told_apart():
    text = "Datum;Empfänger;Betrag\n01.02.2024;Bäcker €;-1,00\n"
    for encoding in ("utf-8", "utf-8-sig", "cp1252"):
        assert read(text.encode(encoding)).rows[0].payee == "Bäcker €"
    latin = "Datum;Empfänger;Betrag\n01.02.2024;Bäcker\x81;-1,00\n".encode("latin-1")
    assert read(latin).rows[0].payee == "Bäcker\x81"  # a byte Windows-1252 does not assign


def test_a_bank_reference_column_that_repeats_is_not_a_bank_id():
    parsed = read("Date,Amount,Reference\n2024-01-02,1.00,RENT\n2024-02-02,1.00,RENT\n")
    assert [row.bank_id for row in parsed.rows] == [None, None]
    assert parsed.warnings
    unique = read("Date,Amount,Reference\n2024-01-02,1.00,A1\n2024-02-02,1.00,A2\n")
    assert [row.bank_id for row in unique.rows] == ["A1", "A2"]


def test_a_header_only_file_has_no_rows():
    assert read("Date,Amount\n").rows == []


def test_a_record_with_a_quoted_line_break_starts_at_its_first_line():
    parsed = read('Date,Amount,Memo\n2024-01-02,1.00,"two\nlines"\n2024-01-03,2.00,x\n')
    assert [row.line for row in parsed.rows] == [2, 4]


def test_nul_bytes_are_unreadable():
    with pytest.raises(UnreadableFile, match="NUL") as refused:
        read("Date,Amount\n2024-01-02,1.00\n".encode("utf-16"))
    assert not isinstance(refused.value, NeedsMapping)


def test_a_20_mb_single_line_is_refused_quickly_and_cheaply():
    data = b"a," * (10 * 1024 * 1024)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(UnreadableFile, match="longer than") as refused:
            parse(data, Options())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert refused.value.where == 1
    assert peak < 8 * len(data)
    assert time.perf_counter() - started < 5


def test_a_single_huge_quoted_field_is_refused():
    data = b'Date,Amount,Memo\n2024-01-02,1.00,"' + b"x\n" * 200_000 + b'"\n'
    with pytest.raises(UnreadableFile, match="field larger"):
        parse(data, Options())


def test_too_many_rows_are_refused(monkeypatch):
    monkeypatch.setattr("expense_api.domain.bankfiles.csvfile.MAX_ROWS", 3)
    with pytest.raises(UnreadableFile, match="more than 3 rows"):
        read("Date,Amount\n" + "2024-01-02,1.00\n" * 4)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"Date,Amount\n" + b"2024-01-02,1.00\n" * 1_300_000, "more than 200000 rows"),
        (b"Date,Amount\n" + b"\n" * 20_000_000, "more than 400000 lines"),
    ],
    ids=["20 MB of rows", "20 MB of blank lines"],
)
def test_20_mb_of_short_lines_is_refused_in_seconds(data, why):
    started = time.perf_counter()
    with pytest.raises(UnreadableFile, match=why):
        parse(data, Options())
    assert time.perf_counter() - started < 10


def test_an_exports_guarded_cells_read_back_as_written():
    """Our export puts an apostrophe before a text cell a spreadsheet would run as a formula
    (domain/exportfiles.guard); reading the export back takes it off, once."""
    from expense_api.domain.bankfiles import Options, csvfile

    header = "date,type,amount,currency,rate,category,payee,tags,description,account,bankId,importId,splitOf"
    body = "2026-03-02,EXPENSE,5.00,USD,,'=Fees,'+Payee,'-x;y,''quoted,default,,2026-03-02/EXPENSE/5/1,\n"
    parsed = csvfile.parse(f"{header}\n{body}".encode(), Options(format="csv"))
    [row] = parsed.rows
    assert (row.category, row.payee, row.tags, row.description) == (
        "=Fees",
        "+Payee",
        ("-x", "y"),
        "'quoted",
    )
    assert row.import_key == "2026-03-02/EXPENSE/5/1"
