"""Hostile and broken files: every parser answers UnreadableFile or invalid rows, never another
exception, in bounded time and memory."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from expense_api.domain.bankfiles import MAX_BYTES, Options, UnreadableFile, camt053, mt940, ofx

FILES = Path(__file__).parent / "files"
PARSERS = {"ofx": ofx, "camt053": camt053, "mt940": mt940}

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
"""
CAMT_BODY = (
    b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.02'><BkToCstmrStmt><Stmt>"
    b"<Acct><Id><IBAN>DE1</IBAN></Id></Acct><Ntry><Amt Ccy='EUR'>1</Amt><CdtDbtInd>DBIT"
    b"</CdtDbtInd><BookgDt><Dt>2026-12-01</Dt></BookgDt><AddtlNtryInf>&lol9;&xxe;"
    b"</AddtlNtryInf></Ntry></Stmt></BkToCstmrStmt></Document>"
)
OFX_BODY = (
    b'<?OFX OFXHEADER="200" VERSION="220"?><OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR'
    b"<BANKTRANLIST><STMTTRN><DTPOSTED>20261201<TRNAMT>-1<NAME>&lol9;&xxe;</STMTTRN>"
    b"</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
)


@pytest.mark.parametrize("prolog", [LAUGHS, EXTERNAL], ids=["billion-laughs", "external-entity"])
@pytest.mark.parametrize(
    ("parser", "body"), [(camt053, CAMT_BODY), (ofx, OFX_BODY)], ids=["camt053", "ofx"]
)
def test_entity_declarations_are_refused(prolog, parser, body):
    with pytest.raises(UnreadableFile, match=r"DTD|entity"):
        parser.parse(prolog + body, Options())


def _single_line(format: str) -> bytes:
    filler = b"A" * (MAX_BYTES - 200)
    if format == "ofx":
        return b"OFXHEADER:100\n\n<OFX><STMTRS><BANKTRANLIST><STMTTRN><NAME><" + filler
    if format == "camt053":
        return b"<Document><BkToCstmrStmt><Stmt><Ntry><AddtlNtryInf>" + filler
    return b":20:X\n:25:1\n:60F:C261130EUR1,00\n:61:261201D1,00NTRF" + filler


@pytest.mark.parametrize("format", sorted(PARSERS))
def test_a_20_mb_single_line_is_refused_in_bounded_time_and_memory(format):
    data = _single_line(format)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(UnreadableFile):
            PARSERS[format].parse(data, Options())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 20
    assert peak < 12 * MAX_BYTES


def test_a_20_mb_ofx_value_is_read_in_bounded_memory():
    filler = b"B" * (MAX_BYTES - 400)
    data = (
        b"OFXHEADER:100\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR<BANKTRANLIST>"
        b"<STMTTRN><DTPOSTED>20261201<TRNAMT>-1<MEMO>"
        + filler
        + b"</STMTTRN></BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    )
    tracemalloc.start()
    try:
        row = ofx.parse(data, Options()).rows[0]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(row.description) == len(filler)
    assert peak < 12 * MAX_BYTES


@pytest.mark.parametrize(
    "name",
    [
        "checking-1x.ofx",
        "creditcard-2x.ofx",
        "bent-1x.ofx",
        "statement.camt053.xml",
        "sparkasse-de.sta",
        "ing-nl.sta",
    ],
)
def test_every_truncation_of_a_fixture_is_unreadable_or_rows(name):
    data = (FILES / name).read_bytes()
    parser = camt053 if name.endswith(".xml") else mt940 if name.endswith(".sta") else ofx
    refused = 0
    for cut in range(0, len(data), 7):
        try:
            parser.parse(data[:cut], Options())
        except UnreadableFile:
            refused += 1
    assert refused > len(data) // 7 // 2  # most cuts are noticed, none is another exception


@pytest.mark.parametrize("format", sorted(PARSERS))
@pytest.mark.parametrize(
    "data",
    [b"\x00\x01\x02\xff" * 100, "€ ü".encode("utf-16"), b"<" * 10000, b"\n" * 10000],
    ids=["binary", "utf16", "angles", "newlines"],
)
def test_garbage_is_unreadable(format, data):
    with pytest.raises(UnreadableFile):
        PARSERS[format].parse(data, Options())


def test_mt940_without_closing_balance_is_truncated():
    whole = (FILES / "ing-nl.sta").read_bytes()
    with pytest.raises(UnreadableFile, match="truncated"):
        mt940.parse(whole[: whole.index(b":62F:")], Options())
