"""OFX and QFX, 1.x SGML and 2.x XML: one row per STMTTRN of a bank (STMTRS) or credit-card
(CCSTMTRS) statement.

Read by a small tolerant reader of our own, not `ofxtools`: checked against the deviations the
contract lists, ofxtools refuses a BANKID longer than 9 characters (OFXSpecError, the whole file
lost), turns DTPOSTED `20261105220000[-5:EST]` into 2026-11-06 (it converts to UTC; the bank's
date is the one written), lets a symbol amount escape as decimal.InvalidOperation, and decodes a
header's lie to mojibake. And the XML form is read by the same reader, not by an XML parser:
real 2.x files leave leaf tags unclosed too, which any XML parser refuses. The reader never
processes a DTD: a `<!DOCTYPE` or `<!ENTITY` is refused (UnreadableFile), so no entity can
expand; `&amp;`-style references and numeric character references are unescaped in values.

How it reads: a tag followed by text is an element with that value, whether `</TAG>` follows
or not; a tag followed by another tag is an aggregate when its `</TAG>` appears somewhere in the
file or it is one of the aggregates rows are read from (STMTTRN... banks leave those open
too), else an empty element; an aggregate opened while one of the same name is open closes the
earlier one (OFX never nests an aggregate in itself), and `</TAG>` closes what is open inside
TAG. It streams: memory grows with the rows, not with the file.

Rows: DTPOSTED's date as written (time and zone ignored); TRNAMT signed, `.` or `,` as the
decimal mark; an amount with a currency symbol or other text is refused: that row is invalid
with the reason, the others are read (the contract: refuse what is not unambiguous). FITID ->
bank_id, NAME (or PAYEE/NAME) -> payee, MEMO -> description. Currency: a row's CURRENCY/CURSYM
(its amount is in that currency), else its statement's CURDEF (also with ORIGCURRENCY, whose
amount the bank already converted into CURDEF). A row's `line` is its STMTTRN's ordinal in the
file (1, 2, ...): many OFX files are one line long, and a row's line must name it alone.
Charset: see _text.py (the header's CHARSET/ENCODING, or the XML declaration, unless the bytes
say otherwise). A file that ends before `</OFX>` is refused as truncated.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from expense_api.domain.bankfiles import Options, ParsedFile, Row, UnreadableFile
from expense_api.domain.bankfiles._rowcheck import (
    checked,
    currency_or_none,
    date_or_none,
    decimal_or_reason,
)
from expense_api.domain.bankfiles._text import decode

# Possessive quantifiers: a 20 MB `<AAAA...` without `>` is one linear scan, no backtracking.
_TOKEN = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9_.]*+)[^<>]*+>|<[?!][^<>]*+>|[^<]++|<")
_CLOSING = re.compile(r"</([A-Za-z][A-Za-z0-9_.]*)")
_HEADER_LINE = re.compile(rb"([A-Z]+)\s*:\s*([^\r\n]*)")
_XML_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9_.:-]{1,40})["']""")
_DATE = re.compile(r"\s*(\d{4})(\d{2})(\d{2})")
_STATEMENTS = ("STMTRS", "CCSTMTRS")
_ACCOUNTS = ("BANKACCTFROM", "CCACCTFROM")
# Aggregates whose rows we read: these are aggregates even where a bank never closes them.
_AGGREGATES = frozenset(
    {"OFX", "BANKMSGSRSV1", "CREDITCARDMSGSRSV1", "STMTTRNRS", "CCSTMTTRNRS", *_STATEMENTS}
    | {*_ACCOUNTS, "BANKTRANLIST", "STMTTRN", "PAYEE", "CURRENCY", "ORIGCURRENCY"}
    | {"BANKACCTTO", "CCACCTTO", "LEDGERBAL", "AVAILBAL", "STATUS"}
)


def parse(data: bytes, options: Options) -> ParsedFile:
    warnings: list[str] = []
    body, header_lines, charset = _split_header(data)
    text = decode(body, charset, warnings)
    reader = _Reader(header_lines)
    reader.read(text)
    if not reader.saw_ofx:
        raise UnreadableFile("no <OFX> element", 1)
    if not reader.saw_statement:
        raise UnreadableFile(
            "no bank or credit-card statement (STMTRS or CCSTMTRS) in the file", "OFX"
        )
    if len(set(reader.accounts)) > 1:
        warnings.append(f"the file holds {len(set(reader.accounts))} accounts; rows of all read")
    return ParsedFile(
        format="ofx",
        rows=reader.rows,
        account=reader.accounts[0] if reader.accounts else None,
        currency=reader.currencies[0] if reader.currencies else None,
        warnings=warnings,
    )


def _split_header(data: bytes) -> tuple[bytes, int, str | None]:
    """The body after the header, how many lines the header took, and the charset it names."""
    start = data.removeprefix(b"\xef\xbb\xbf")
    stripped = start.lstrip()
    if stripped.startswith(b"OFXHEADER"):
        end = stripped.find(b"<")
        if end < 0:
            raise UnreadableFile("an OFX header and no <OFX> element", 1)
        fields = dict(m.groups() for m in _HEADER_LINE.finditer(stripped[:end][:4096]))
        charset = None
        encoding = fields.get(b"ENCODING", b"").strip().upper()
        if encoding in (b"UTF-8", b"UTF8"):
            charset = "UTF-8"
        elif fields.get(b"CHARSET"):
            charset = fields[b"CHARSET"].strip().decode("ascii", "replace")
        lines = start[: len(start) - len(stripped) + end].count(b"\n")
        return stripped[end:], lines, charset
    if stripped.startswith(b"<"):
        declaration = (
            _XML_ENCODING.search(stripped[:200]) if stripped.startswith(b"<?xml") else None
        )
        charset = declaration.group(1).decode("ascii") if declaration else None
        return stripped, start[: len(start) - len(stripped)].count(b"\n"), charset
    raise UnreadableFile("not an OFX file: it starts with neither OFXHEADER nor <", 1)


@dataclass
class _Statement:
    currency: str | None = None


@dataclass
class _Reader:
    line_offset: int
    rows: list[Row] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    currencies: list[str] = field(default_factory=list)
    saw_ofx: bool = False
    saw_statement: bool = False

    def read(self, text: str) -> None:
        self.text = text
        closed = {m.group(1).upper() for m in _CLOSING.finditer(text)}
        self.stack: list[str] = []
        self.record: dict[str, str] | None = None
        self.record_at = 0
        self.statement = _Statement()
        pending: str | None = None  # a tag just opened, not yet known as leaf or aggregate
        pending_at = 0
        for match in _TOKEN.finditer(text):
            token = match.group(0)
            name = match.group(2)
            if name is None:
                if token.startswith("<!"):
                    keyword = token[2:12].upper()
                    if keyword.startswith(("DOCTYPE", "ENTITY")):
                        raise UnreadableFile(
                            "a DTD or entity declaration is not allowed in an OFX file",
                            self._line(match.start()),
                        )
                    continue
                if token.startswith("<?"):
                    continue
                value = token.strip()
                if pending is not None and value:
                    self._leaf(pending, html.unescape(value))
                    pending = None
                continue
            name = name.upper()
            if match.group(1):  # </NAME>
                if pending == name:
                    self._leaf(pending, "")
                    pending = None
                    continue
                if pending is not None:
                    self._resolve(pending, pending_at, closed)
                    pending = None
                if name in self.stack:
                    while self.stack:
                        if self._close() == name:
                            break
                continue
            if pending is not None:
                self._resolve(pending, pending_at, closed)
            pending, pending_at = name, match.start()
        if pending is not None:
            self._resolve(pending, pending_at, closed)
        if self.saw_ofx and "OFX" in self.stack:
            where = self._line(len(text)) if self.record is None else self._line(self.record_at)
            raise UnreadableFile("the file ends before </OFX>: it is truncated", where)

    def _line(self, position: int) -> int:
        return self.line_offset + self.text.count("\n", 0, position) + 1

    def _resolve(self, name: str, at: int, closed: set[str]) -> None:
        if name in closed or name in _AGGREGATES:
            self._open(name, at)
        else:
            self._leaf(name, "")

    def _open(self, name: str, at: int) -> None:
        if name in self.stack:  # <STMTTRN> while one is open: the earlier one ends here
            while self._close() != name:
                pass
        self.stack.append(name)
        if name == "OFX":
            self.saw_ofx = True
        elif name in _STATEMENTS:
            self.saw_statement = True
            self.statement = _Statement()
        elif name == "STMTTRN" and self._in_statement():
            self.record, self.record_at = {}, at

    def _close(self) -> str:
        name = self.stack.pop()
        if name == "STMTTRN" and self.record is not None:
            self.rows.append(self._row(self.record, len(self.rows) + 1))
            self.record = None
        return name

    def _in_statement(self) -> bool:
        return any(name in _STATEMENTS for name in self.stack)

    def _leaf(self, name: str, value: str) -> None:
        if self.record is not None:
            inner = self.stack[len(self.stack) - self.stack[::-1].index("STMTTRN") :]
            self.record.setdefault(".".join([*inner, name]), value)
        elif name == "CURDEF" and self._in_statement():
            self.statement.currency = currency_or_none(value)
            if self.statement.currency:
                self.currencies.append(self.statement.currency)
        elif name == "ACCTID" and self.stack and self.stack[-1] in _ACCOUNTS and value:
            self.accounts.append(value)

    def _row(self, record: dict[str, str], ordinal: int) -> Row:
        invalid = None
        posted = record.get("DTPOSTED")
        day = None
        if posted:
            match = _DATE.match(posted)
            day = date_or_none(*map(int, match.groups())) if match else None
            if day is None:
                invalid = f"date not readable: {posted[:40]!r}"
        amount = decimal_or_reason(record.get("TRNAMT"))
        if isinstance(amount, str):
            invalid, amount = invalid or amount, None
        currency = (
            currency_or_none(record.get("CURRENCY.CURSYM") or record.get("CURRENCY"))
            or self.statement.currency
        )
        return checked(
            Row(
                line=ordinal,
                date=day,
                amount=amount,
                payee=record.get("NAME") or record.get("PAYEE.NAME") or record.get("PAYEE") or None,
                description=record.get("MEMO") or None,
                bank_id=record.get("FITID") or None,
                currency=currency,
                invalid=invalid,
            )
        )
