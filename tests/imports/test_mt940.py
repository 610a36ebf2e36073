"""MT940: two banks' dialects (German `?` subfields, Dutch SWIFT `/CODE/` fields in a block
wrapper), :61: marks and dates, bank ids, and what is refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from expense_api.domain.bankfiles import Options, UnreadableFile, mt940

FILES = Path(__file__).parent / "files"


def read(name: str):
    return mt940.parse((FILES / name).read_bytes(), Options())


def test_german_dialect():
    parsed = read("sparkasse-de.sta")
    assert (parsed.format, parsed.account, parsed.currency) == (
        "mt940",
        "37040044/0532013000",
        "EUR",
    )
    assert [(r.line, r.date, r.amount, r.bank_id) for r in parsed.rows] == [
        (5, date(2026, 12, 1), Decimal("-54.90"), "2026120100123"),
        (8, date(2026, 12, 2), Decimal("2150.00"), "2026120200044"),
        (10, date(2026, 12, 3), Decimal("-3.50"), "2026120300107"),
        (12, date(2026, 12, 31), Decimal("-19.99"), None),
        (14, date(2027, 1, 2), Decimal("54.90"), "2027010200009"),  # RD: a debit given back
    ]


def test_german_subfields_name_and_purpose():
    rows = read("sparkasse-de.sta").rows
    # ?32/?33 the name, cut where the bank cut it; SVWZ+ the purpose, over two lines of the file
    assert (rows[0].payee, rows[0].description) == (
        "Stadtwerke Lindenau Energie GmbH",
        "Abschlag Strom Dezember Kd-Nr 44817",
    )
    assert (rows[1].payee, rows[1].description) == (
        "Muster Maschinenbau AG",
        "Gehalt November 2026",
    )
    assert (rows[2].payee, rows[2].description) == (None, "Kontofuehrung Dezember")
    assert rows[3].description == "Cafe Sonnenschein Berlin Karte 4417"


def test_posting_text_when_there_is_no_purpose():
    text = (
        ":20:X\n:25:1/2\n:60F:C261130EUR1,00\n:61:261201D5,00NMSCNONREF\n"
        ":86:808?00ENTGELT?32Bank\n:62F:C261231EUR1,00\n-\n"
    )
    row = mt940.parse(text.encode(), Options()).rows[0]
    assert (row.payee, row.description) == ("Bank", "ENTGELT")


def test_dutch_dialect_in_block_wrapper():
    parsed = read("ing-nl.sta")
    assert (parsed.account, parsed.currency) == ("NL20INGB0001234567EUR", "EUR")
    assert [(r.line, r.date, r.amount, r.payee, r.description, r.bank_id) for r in parsed.rows] == [
        (
            6,
            date(2026, 12, 1),
            Decimal("-25.00"),
            "J. Jansen",
            "Huur december Keizersgracht 12 boven",
            "00000000001005",
        ),
        (
            10,
            date(2026, 12, 2),
            Decimal("10.50"),
            "P. de Vries",
            "Terugbetaling lunch",
            "REF-77120",
        ),
        (12, date(2026, 12, 3), Decimal("-4.95"), None, "Kosten betaalpakket december", None),
    ]


def test_a_reference_shared_by_two_rows_is_no_bank_id():
    text = (
        ":20:X\n:25:1/2\n:60F:C261130EUR1,00\n:61:261201D5,00NTRFKD-4411\n:86:a\n"
        ":61:261202D6,00NTRFKD-4411\n:86:b\n:61:261203D7,00NTRFKD-9\n:86:c\n:62F:C261231EUR1,00\n-\n"
    )
    parsed = mt940.parse(text.encode(), Options())
    assert [r.bank_id for r in parsed.rows] == [None, None, "KD-9"]
    assert parsed.warnings


def test_value_date_when_there_is_no_entry_date_and_rc_is_negative():
    text = ":20:X\n:25:1/2\n:60F:C261130EUR1,00\n:61:261205RC8,00NTRFNONREF\n:86:x\n:62F:C261231EUR1,00\n-\n"
    row = mt940.parse(text.encode(), Options()).rows[0]
    assert (row.date, row.amount) == (date(2026, 12, 5), Decimal("-8.00"))


def test_zero_amount_row_is_invalid():
    text = ":20:X\n:25:1/2\n:60F:C261130EUR1,00\n:61:261205D0,NTRFNONREF\n:86:x\n:62F:C261231EUR1,00\n-\n"
    assert mt940.parse(text.encode(), Options()).rows[0].invalid == "zero amount"


@pytest.mark.parametrize(
    ("data", "why", "where"),
    [
        (b"", "not an MT940", 1),
        (b"date;amount\n1.12.2026;-1,00\n", "not an MT940", 1),
        (b":20:X\n:25:1/2\n:60F:C261130EUR1,00\n:61:26123XD12,50NDDTNONREF\n-\n", "26123X", 4),
        (b":20:X\n:25:1/2\n:60F:C261130EUR1,00\n:61:261331D12,50NDDTNONREF\n-\n", "month", None),
    ],
)
def test_what_cannot_be_read_is_unreadable(data, why, where):
    with pytest.raises(UnreadableFile, match=why) as caught:
        mt940.parse(data, Options())
    assert caught.value.where == where
