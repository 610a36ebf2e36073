"""OFX/QFX parsing: 1.x SGML and 2.x XML, bank and credit-card statements, the deviations the
contract lists (long BANKID, unclosed tags, decimal comma), and what is refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from expense_api.domain.bankfiles import Options, UnreadableFile, ofx

FILES = Path(__file__).parent / "files"


def read(name: str):
    return ofx.parse((FILES / name).read_bytes(), Options())


def test_sgml_checking_account_rows_in_file_order():
    parsed = read("checking-1x.ofx")
    assert (parsed.format, parsed.account, parsed.currency) == ("ofx", "4410027731", "USD")
    first = parsed.rows[0]
    assert (first.date, first.amount, first.bank_id) == (
        date(2026, 11, 3),
        Decimal("-42.17"),
        "202611030001",
    )
    # Windows-1252 bytes as the header says; &amp; unescaped; MEMO is the description
    assert first.payee == "Café Brûlée & Co"
    assert first.description == "POS PURCHASE 1103 CARD 4417"
    assert [r.amount for r in parsed.rows] == [
        Decimal("-42.17"),
        Decimal("-7.25"),
        Decimal("2150.00"),
        Decimal("-19.99"),
    ]
    assert [r.line for r in parsed.rows] == [1, 2, 3, 4]
    assert all(r.invalid is None for r in parsed.rows)


def test_the_date_is_the_one_written_whatever_the_time_and_zone():
    # 20261105223000[-5:EST] is 2026-11-06 in UTC: the bank's date is the 5th
    assert read("checking-1x.ofx").rows[1].date == date(2026, 11, 5)


def test_payee_aggregate_and_a_rows_own_currency():
    row = read("checking-1x.ofx").rows[3]
    assert (row.payee, row.currency) == ("StreamFlix", "EUR")


def test_xml_credit_card_statement_with_bom_and_leading_whitespace():
    parsed = read("creditcard-2x.ofx")
    assert (parsed.account, parsed.currency) == ("4970XXXXXXXX1234", "EUR")
    assert [(r.date, r.amount, r.payee, r.bank_id) for r in parsed.rows] == [
        (date(2026, 11, 8), Decimal("-63.40"), "Épicerie Ménard", "CC-88120-01"),
        (date(2026, 11, 12), Decimal("-120.00"), "Hotel Zur Post", "CC-88120-02"),
        (date(2026, 11, 25), Decimal("500.00"), "Remboursement", "CC-88120-03"),
    ]


def test_origcurrency_amount_is_already_in_the_statement_currency():
    assert read("creditcard-2x.ofx").rows[1].currency == "EUR"


def test_bent_file_long_bankid_unclosed_tags_and_decimal_comma():
    parsed = read("bent-1x.ofx")
    assert parsed.account == "00012345678"
    assert [(r.bank_id, r.amount) for r in parsed.rows] == [
        ("FR1102A", Decimal("-12.50")),
        ("FR1104B", Decimal("1250.00")),
        ("FR1106C", None),
        ("FR1107D", Decimal("0.00")),
        ("FR1108E", Decimal("-3.1")),
    ]
    assert parsed.rows[0].description == "CB 01/11"


def test_an_amount_with_a_currency_symbol_is_refused_and_the_others_go_on():
    rows = read("bent-1x.ofx").rows
    assert "currency symbol" in rows[2].invalid
    assert rows[3].invalid == "zero amount"
    assert [r.invalid for r in rows if r.bank_id != "FR1106C" and r.bank_id != "FR1107D"] == [
        None
    ] * 3


def test_crlf_and_lf_read_the_same():
    crlf = (FILES / "checking-1x.ofx").read_bytes()
    assert b"\r\n" in crlf
    lf = ofx.parse(crlf.replace(b"\r\n", b"\n"), Options())
    assert lf.rows == ofx.parse(crlf, Options()).rows


def _sgml(transactions: str, charset: str = "1252", encoding: str = "USASCII") -> str:
    return (
        f"OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nENCODING:{encoding}\nCHARSET:{charset}\n\n"
        "<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>GBP"
        "<BANKACCTFROM><BANKID>1<ACCTID>77</BANKACCTFROM><BANKTRANLIST>"
        f"{transactions}</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    )


def test_closed_leaf_tags_in_sgml_are_read_too():
    text = _sgml(
        "<STMTTRN><DTPOSTED>20261201</DTPOSTED><TRNAMT>-1.00</TRNAMT><NAME>x</NAME>"
        "<MEMO></MEMO><FITID>F</FITID></STMTTRN>"
    )
    row = ofx.parse(text.encode(), Options()).rows[0]
    assert (row.amount, row.payee, row.description, row.bank_id) == (
        Decimal("-1.00"),
        "x",
        None,
        "F",
    )


@pytest.mark.parametrize(
    ("posted", "amount", "reason"),
    [
        ("", "-1.00", "no date"),
        ("2026-12-01", "-1.00", "date not readable"),
        ("20261341", "-1.00", "date not readable"),
        ("20261201", "", "no amount"),
        ("20261201", "1.234,56", "not a plain decimal"),
        ("20261201", "GBP 4.00", "currency symbol"),
    ],
)
def test_unreadable_fields_make_the_row_invalid_with_a_reason(posted, amount, reason):
    text = _sgml(
        f"<STMTTRN><DTPOSTED>{posted}<TRNAMT>{amount}<FITID>A</STMTTRN>"
        "<STMTTRN><DTPOSTED>20261202<TRNAMT>-2.00<FITID>B</STMTTRN>"
    )
    rows = ofx.parse(text.encode(), Options()).rows
    assert reason in rows[0].invalid
    assert rows[1].invalid is None


def test_unknown_currency_is_an_invalid_row():
    text = _sgml("<STMTTRN><DTPOSTED>20261202<TRNAMT>-2.00<CURRENCY>XXQ</STMTTRN>")
    assert ofx.parse(text.encode(), Options()).rows[0].invalid == "unknown currency 'XXQ'"


def test_header_says_1252_but_bytes_are_utf8():
    text = _sgml("<STMTTRN><DTPOSTED>20261202<TRNAMT>-2.00<NAME>Łódź Café ✓</STMTTRN>")
    parsed = ofx.parse(text.encode("utf-8"), Options())
    assert parsed.rows[0].payee == "Łódź Café ✓"
    assert any("UTF-8" in w for w in parsed.warnings)


def test_header_says_utf8_but_bytes_are_not():
    text = _sgml("<STMTTRN><DTPOSTED>20261202<TRNAMT>-2.00<NAME>Café</STMTTRN>", encoding="UTF-8")
    parsed = ofx.parse(text.encode("cp1252"), Options())
    assert parsed.rows[0].payee == "Café"
    assert any("says UTF-8" in w for w in parsed.warnings)


def test_xml_declaration_lying_about_its_encoding():
    text = (FILES / "creditcard-2x.ofx").read_text("utf-8").replace("UTF-8", "ISO-8859-1")
    parsed = ofx.parse(text.encode("utf-8"), Options())
    assert parsed.rows[0].payee == "Épicerie Ménard"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "not an OFX file"),
        (b"date,amount\n2026-12-01,-1\n", "not an OFX file"),
        (b"OFXHEADER:100\nDATA:OFXSGML\n\n", "no <OFX>"),
        (b"<OFX><INVSTMTMSGSRSV1></INVSTMTMSGSRSV1></OFX>", "no bank or credit-card"),
        (b"<html><body>Session expired</body></html>", "no <OFX>"),
    ],
)
def test_what_is_not_an_ofx_statement_is_unreadable(data, why):
    with pytest.raises(UnreadableFile, match=why):
        ofx.parse(data, Options())


def test_a_truncated_file_is_unreadable_with_its_line():
    whole = (FILES / "checking-1x.ofx").read_bytes()
    cut = whole[: whole.index(b"<TRNAMT>2150.00")]
    with pytest.raises(UnreadableFile, match="truncated") as caught:
        ofx.parse(cut, Options())
    assert caught.value.where == 58  # the <STMTTRN> it ends inside
