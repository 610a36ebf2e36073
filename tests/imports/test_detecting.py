"""Which format a bank file is: its content first, its name only to break a tie; and `read`
handing the file to its format's parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from expense_api.domain.bankfiles import Options, UnreadableFile
from expense_api.domain.bankfiles.reading import UnknownFormat, detect, read

FILES = Path(__file__).parent / "files"

OFX_SGML = b"OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\n\r\n<OFX>\r\n<SIGNONMSGSRSV1>\r\n"
OFX_XML = b'<?xml version="1.0"?>\n<?OFX OFXHEADER="200" VERSION="220"?>\n<OFX><SIGNONMSGSRSV1>'
CAMT = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- statement -->\n'
    b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02" '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><BkToCstmrStmt>'
)
MT940 = b":20:STARTUMSE\r\n:25:10020030/1234567\r\n:28C:00001/001\r\n:60F:C240301EUR1000,00\r\n"
MT940_BLOCKS = b"{1:F01BANKDEFFXXXX0000000000}{2:O940}{4:\r\n:20:REF\r\n:25:X\r\n-}"
QIF = b"!Type:Bank\nD01/02/2024\nT-1.00\n^\n"
QIF_ACCOUNT = b"!Account\nNChecking\nTBank\n^\n!Type:Bank\n"
CSV = b"Date,Amount\n2024-01-02,1.00\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (OFX_SGML, "ofx"),
        (OFX_XML, "ofx"),
        (b"\n  <OFX>\n<SIGNONMSGSRSV1>", "ofx"),
        (CAMT, "camt053"),
        (MT940, "mt940"),
        (MT940_BLOCKS, "mt940"),
        (QIF, "qif"),
        (QIF_ACCOUNT, "qif"),
        (CSV, "csv"),
        (b"\xef\xbb\xbfDatum;Betrag\n02.01.2024;-1,00\n", "csv"),
    ],
)
def test_the_content_decides(data, expected):
    assert detect(data, None) == expected
    assert detect(data, "statement.txt") == expected


@pytest.mark.parametrize("name", ["export.csv", "bank.qif", "bank.ofx", "bank.sta"])
def test_a_misleading_name_does_not_override_the_content(name):
    assert detect(QIF, name) == "qif"


def test_other_xml_is_not_camt053():
    other = (
        b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">'
    )
    with pytest.raises(UnknownFormat):
        detect(other, None)
    assert detect(other, "statement.053") == "camt053"  # its parser then says what is wrong


def test_the_name_breaks_a_tie():
    both = b"!Type:Bank\n:20:REF\n:61:240102C1,00NTRFNONREF\n"
    assert detect(both, None) == "mt940"
    assert detect(both, "bank.qif") == "qif"


def test_text_the_content_does_not_place_takes_the_names_format():
    assert detect(b"hello\nworld\n", "bank.ofx") == "ofx"
    with pytest.raises(UnknownFormat):
        detect(b"hello\nworld\n", None)


@pytest.mark.parametrize(
    "data",
    [bytes(range(256)) * 64, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"PK\x03\x04" + b"\x00" * 40],
)
def test_binary_junk_is_an_unknown_format_whatever_its_name(data):
    with pytest.raises(UnknownFormat) as refused:
        detect(data, "bank.csv")
    assert isinstance(refused.value, UnreadableFile)


def test_read_detects_and_dispatches_to_the_formats_parser():
    qif = read((FILES / "card-de.qif").read_bytes(), Options(file_name="card.qif"))
    csv = read((FILES / "sparkasse-de.csv").read_bytes(), Options())
    assert (qif.format, len(qif.rows)) == ("qif", 3)
    assert (csv.format, len(csv.rows)) == ("csv", 5)


def test_read_uses_the_format_it_is_told():
    with pytest.raises(UnreadableFile):
        read(QIF, Options(format="csv"))
    with pytest.raises(UnknownFormat):
        read(QIF, Options(format="xls"))


@pytest.mark.parametrize("path", sorted(FILES.iterdir()), ids=lambda path: path.name)
def test_every_fixture_is_detected_by_its_content_alone(path):
    expected = {"csv": "csv", "qif": "qif", "ofx": "ofx", "sta": "mt940", "xml": "camt053"}
    assert detect(path.read_bytes(), None) == expected[path.suffix.lstrip(".")]
