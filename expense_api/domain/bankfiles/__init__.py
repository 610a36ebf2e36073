"""Bank files in: CSV, OFX/QFX (1.x SGML and 2.x XML), QIF, CAMT.053 and MT940, read into one
shape (ParsedFile: its rows, in file order), with no database and no HTTP (issue 29,
../shared/API.md "Import and export"). What to do with the rows (deduplication, rules, the
preview, the commit) is services/imports.

Every parser is `parse(data: bytes, options: Options) -> ParsedFile` and refuses a file it cannot
read with UnreadableFile (the line or element, and why): never another exception, whatever the
bytes (a hostile file included: XML entity expansion, a wrong or lying encoding, a 20 MB line).
A row that can be read but not used (no date, no amount, amount zero, an unknown currency) is
not an error: it is a Row with `invalid` set to the reason, and the other rows go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

FORMATS = ("csv", "ofx", "qif", "camt053", "mt940")


class UnreadableFile(Exception):
    """The file is not what it claims to be, or not readable as its format: 422
    `unreadable_file`, naming where (`line`: a 1-based line number, or an element's path) and
    why."""

    def __init__(self, why: str, where: str | int | None = None):
        super().__init__(why)
        self.why = why
        self.where = where


class NeedsMapping(UnreadableFile):
    """A CSV whose columns detection cannot decide (no header it knows, an ambiguous date or
    decimal mark): 422 with the columns it saw, so that the client can send a `mapping`."""

    def __init__(self, why: str, columns: list[str]):
        super().__init__(why, 1)
        self.columns = columns


@dataclass(frozen=True)
class SplitLine:
    """A line of a split record (QIF `S`/`$` lines): a category name and a positive amount."""

    category: str
    amount: Decimal
    memo: str | None = None


@dataclass(frozen=True)
class Row:
    """One transaction of the file. `amount` is signed as the bank shows it (below zero: money
    out, an expense); `line` is where it starts (1-based line, or the record's ordinal for XML).
    `invalid` is the reason the row cannot be imported (None: it can)."""

    line: int
    date: date | None
    amount: Decimal | None
    payee: str | None = None
    description: str | None = None
    bank_id: str | None = None  # OFX FITID, CAMT AcctSvcrRef/NtryRef, a mapped CSV column
    currency: str | None = None  # ISO 4217, when the file names one for the row or the account
    category: str | None = None  # a category name the file carries (QIF L, an export's column)
    tags: tuple[str, ...] = ()
    splits: tuple[SplitLine, ...] = ()
    invalid: str | None = None
    import_key: str | None = None  # the import key an export of ours gives (its importId)
    rate: str | None = None  # an export's `rate` cell, as written (checked by the import)


@dataclass(frozen=True)
class ParsedFile:
    format: str
    rows: list[Row]
    account: str | None = None  # the account the file names (OFX ACCTID, CAMT IBAN, MT940 :25:)
    currency: str | None = None  # the file's currency (OFX CURDEF, CAMT Ccy, MT940 balances)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Options:
    """What the client said about the file: its format (None: detect), its currency for files
    that name none, and for CSV and QIF the `mapping` of the contract (a dict, as the client
    sent it, already validated by the API's schema)."""

    format: str | None = None
    currency: str | None = None
    mapping: dict | None = None
    file_name: str | None = None


MAX_BYTES = 20 * 1024 * 1024  # the API refuses bigger uploads with 413 before parsing
