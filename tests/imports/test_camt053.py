"""CAMT.053: entries to rows, batch entries, reversals, pending entries, and what is refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from expense_api.domain.bankfiles import Options, UnreadableFile, camt053

FILES = Path(__file__).parent / "files"


@pytest.fixture(scope="module")
def parsed():
    return camt053.parse((FILES / "statement.camt053.xml").read_bytes(), Options())


def test_account_currency_and_a_debit_entry(parsed):
    assert (parsed.format, parsed.account, parsed.currency) == (
        "camt053",
        "DE44500105175407324931",
        "EUR",
    )
    row = parsed.rows[0]
    assert (row.line, row.date, row.amount, row.currency) == (
        1,
        date(2026, 11, 30),
        Decimal("-54.90"),
        "EUR",
    )
    assert row.bank_id == "2026113000012345"  # AcctSvcrRef before NtryRef
    assert row.payee == "Stadtwerke Lindenau GmbH"  # money out: the creditor
    assert row.description == "Abschlag Strom Dezember Kd-Nr 44817"


def test_batch_with_amounts_per_transaction_is_one_row_each(parsed):
    rows = parsed.rows[1:3]
    assert [(r.amount, r.payee, r.description, r.bank_id) for r in rows] == [
        (Decimal("-120.00"), "Musikschule Allegro", "Unterricht Dezember", "2026120100020001#1"),
        (
            Decimal("-180.00"),
            "Sportverein Grün-Weiß e.V.",
            "Jahresbeitrag 2027",
            "2026120100020001#2",
        ),
    ]
    assert [r.line for r in rows] == [2, 3]


def test_batch_without_amounts_is_one_row_with_the_details_joined(parsed):
    row = parsed.rows[3]
    assert (row.amount, row.payee, row.bank_id) == (Decimal("75.00"), None, "2026120100030001")
    assert row.description == (
        "batch of 3: A. Nachbar Sammelgutschrift 1; B. Nachbar Sammelgutschrift 2; C. Nachbar"
    )


def test_reversal_follows_its_own_credit_debit_indicator(parsed):
    row = parsed.rows[4]
    assert (row.amount, row.bank_id, row.date) == (Decimal("54.90"), "E-0004", date(2026, 12, 2))
    assert row.description == "Reversal: Ruecklastschrift Abschlag Strom Dezember"
    assert row.payee == "Stadtwerke Lindenau GmbH"
    assert row.invalid is None


def test_pending_entry_is_invalid(parsed):
    row = parsed.rows[5]
    assert row.invalid == "entry not booked (status PDNG)"
    assert row.description == "Kartenzahlung vorgemerkt"


def _document(entries: str, version: str = "001.08") -> bytes:
    return (
        f'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.{version}">'
        "<BkToCstmrStmt><Stmt><Acct><Id><Othr><Id>12345</Id></Othr></Id></Acct>"
        f"{entries}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def test_later_version_tx_amounts_and_party_names_and_valdt_fallback():
    entry = (
        "<Ntry><NtryRef>R9</NtryRef><Amt Ccy='CHF'>30.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>"
        "<Sts><Cd>BOOK</Cd></Sts><ValDt><DtTm>2026-12-04T10:00:00</DtTm></ValDt><NtryDtls>"
        "<TxDtls><Amt Ccy='CHF'>10.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>"
        "<RltdPties><Cdtr><Pty><Nm>Alpha</Nm></Pty></Cdtr></RltdPties></TxDtls>"
        "<TxDtls><Amt Ccy='CHF'>20.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>"
        "<RltdPties><Cdtr><Pty><Nm>Beta</Nm></Pty></Cdtr></RltdPties></TxDtls>"
        "</NtryDtls></Ntry>"
    )
    parsed = camt053.parse(_document(entry), Options())
    assert parsed.account == "12345"
    assert [(r.date, r.amount, r.payee, r.bank_id, r.currency) for r in parsed.rows] == [
        (date(2026, 12, 4), Decimal("-10.00"), "Alpha", "R9#1", "CHF"),
        (date(2026, 12, 4), Decimal("-20.00"), "Beta", "R9#2", "CHF"),
    ]


def test_batch_whose_amounts_do_not_add_up_is_one_row():
    entry = (
        "<Ntry><Amt Ccy='EUR'>31.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-12-04"
        "</Dt></BookgDt><NtryDtls><TxDtls><Amt Ccy='EUR'>10.00</Amt></TxDtls>"
        "<TxDtls><Amt Ccy='EUR'>20.00</Amt></TxDtls></NtryDtls></Ntry>"
    )
    parsed = camt053.parse(_document(entry), Options())
    assert [r.amount for r in parsed.rows] == [Decimal("31.00")]
    assert parsed.warnings


@pytest.mark.parametrize(
    ("inner", "reason"),
    [
        ("<Amt Ccy='EUR'>1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>", "no date"),
        (
            "<Amt Ccy='EUR'>1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><BookgDt><Dt>04.12.2026</Dt>"
            "</BookgDt>",
            "date not readable",
        ),
        ("<CdtDbtInd>DBIT</CdtDbtInd><BookgDt><Dt>2026-12-04</Dt></BookgDt>", "no amount"),
        ("<Amt Ccy='EUR'>1.00</Amt><BookgDt><Dt>2026-12-04</Dt></BookgDt>", "CdtDbtInd"),
        (
            "<Amt Ccy='EUR'>0.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><BookgDt><Dt>2026-12-04</Dt>"
            "</BookgDt>",
            "zero amount",
        ),
    ],
)
def test_entries_that_cannot_be_used_are_invalid_rows(inner, reason):
    good = (
        "<Ntry><Amt Ccy='EUR'>2.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-12-04"
        "</Dt></BookgDt></Ntry>"
    )
    rows = camt053.parse(_document(f"<Ntry>{inner}</Ntry>{good}"), Options()).rows
    assert reason in rows[0].invalid
    assert rows[1].invalid is None


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "not well-formed"),
        (b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.054.001.02'/>", "camt.054"),
        (b"<root><x/></root>", "no statement"),
        (b"\xff\xfe garbage", "not well-formed"),
    ],
)
def test_what_is_not_a_camt053_statement_is_unreadable(data, why):
    with pytest.raises(UnreadableFile, match=why):
        camt053.parse(data, Options())


def test_a_truncated_document_is_unreadable_with_its_line():
    whole = (FILES / "statement.camt053.xml").read_bytes()
    with pytest.raises(UnreadableFile, match="not well-formed") as caught:
        camt053.parse(whole[: len(whole) // 2], Options())
    assert isinstance(caught.value.where, int)
