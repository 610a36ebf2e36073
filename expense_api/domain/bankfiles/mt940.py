"""MT940 (SWIFT customer statement, as banks send it): one row per `:61:` line, its `:86:` the
payee and description.

The `mt-940` package reads the tags, with or without the `{1:...}{2:...}{4:` block wrapper and
its `-}` end: `:61:`'s value date (YYMMDD), its optional entry date (MMDD, the year guessed
across a new year), the mark (C, D, RC, RD: D and RC below zero, RD a debit given back;
this needs the library's `Options.all()`, without which RC came out above zero), the funds
code, the comma decimal amount, the type and the references. It refuses a whole file for one
`:61:` it cannot read (a RuntimeError or ValueError): that is our UnreadableFile, naming the
line. Its German `?`-field post-processor is switched off; `:86:` is read here, per dialect:
- German (`NNN?00...`): `?00` posting text, `?20`-`?29` and `?60`-`?63` the purpose lines (the
  text after `SVWZ+` when SEPA keywords are used), `?32`/`?33` the counterparty's name.
- SWIFT codes (Dutch banks: ING's `/CNTP/iban/bic/name/city/` and `/REMI/USTD//text/`,
  Rabobank and ABN AMRO's `/NAME/.../REMI/...`): NAME (or CNTP's third part) the payee, REMI the
  description.
- Anything else: the whole text is the description.
A field's line breaks are the bank's wrapping (lines of at most 65 characters, cut mid-word), so
lines are joined without a space. Date: the entry (booking) date when given, else the value
date, as OFX's DTPOSTED and CAMT's BookgDt. bank_id: the customer reference unless a
placeholder (NONREF, EREF, NOTPROVIDED), else the bank's reference after `//`; a bank id that
two rows of the file share is no id: those rows get none (a warning says so) and are
deduplicated by their import id. `:25:` the account, `:60F:`/`:60M:` the currency. A row's
`line` is its `:61:`'s line. A file without a closing balance after its last `:61:` is
refused as truncated. Charset: see _text.py (MT940 names none: UTF-8, else Windows-1252).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import replace
from datetime import date

import mt940 as mt940_package

from expense_api.domain.bankfiles import Options, ParsedFile, Row, UnreadableFile
from expense_api.domain.bankfiles._rowcheck import checked, currency_or_none
from expense_api.domain.bankfiles._text import decode

_STATEMENT_LINE = re.compile(r"^:61:", re.MULTILINE)
_ACCOUNT = re.compile(r"^:25:([^\r\n]{1,40})", re.MULTILINE)
_OPENING = re.compile(r"^:60[FM]:[CD]\d{6}([A-Z]{3})", re.MULTILINE)
_GERMAN = re.compile(r"\A\s*\d{0,3}\?\d\d")
_GERMAN_FIELD = re.compile(r"\?(\d\d)")
_SWIFT_CODES = (
    "TRTP|IBAN|BIC|NAME|REMI|EREF|MARF|CSID|CNTP|ORDP|BENM|ULTC|ULTD|ULTB|PURP|RTRN|ADDR|"
    "ISDT|TRCD|CREF|PREF|SVCL|CITY|ACCW|BUSP|EXCH|OCMT|COAM|CHGS|ORIG|ID"
)
_SWIFT_FIELD = re.compile(rf"/({_SWIFT_CODES})/")
_SEPA_KEYWORD = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|COAM|OAMT|BIC|IBAN)\+")
_PLACEHOLDERS = {"NONREF", "EREF", "NOTPROVIDED", "NONE", ""}

# Every fix of the library's next major release: RC below zero (a credit taken back, issue #130),
# lowercase marks, :86: details of any length (5.0 cut them after 9 lines), a BOM dropped.
_LIBRARY_OPTIONS = mt940_package.Options.all()
logging.getLogger("mt940").setLevel(logging.CRITICAL)  # a refused tag is our UnreadableFile


def parse(data: bytes, options: Options) -> ParsedFile:
    warnings: list[str] = []
    text = decode(data.removeprefix(b"\xef\xbb\xbf"), None, warnings).replace("\r\n", "\n")
    if not re.search(r"^:(20|25):", text, re.MULTILINE):
        raise UnreadableFile("not an MT940 statement: no :20: or :25: tag", 1)
    transactions = mt940_package.models.Transactions(
        processors={"post_transaction_details": []}, options=_LIBRARY_OPTIONS
    )
    try:
        transactions.parse(text)
    except (RuntimeError, ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
        raise UnreadableFile(
            f"an MT940 tag could not be read: {_what(error)}", _line(text, error)
        ) from None
    last = text.rfind("\n:61:")
    if last >= 0 and not re.search(r"^:62[FM]:", text[last:], re.MULTILINE):
        raise UnreadableFile("no closing balance (:62F:) after the last :61:: truncated", None)
    lines = [text.count("\n", 0, m.start()) + 1 for m in _STATEMENT_LINE.finditer(text)]
    if len(lines) != len(transactions):
        warnings.append("rows numbered by their order: :61: lines and rows did not pair up")
        lines = list(range(1, len(transactions) + 1))
    rows = [_row(t.data, line) for t, line in zip(transactions, lines, strict=True)]
    rows = _unique_bank_ids(rows, warnings)
    account = _ACCOUNT.search(text)
    currency = _OPENING.search(text)
    return ParsedFile(
        format="mt940",
        rows=rows,
        account=account.group(1).strip() if account else None,
        currency=currency.group(1) if currency else None,
        warnings=warnings,
    )


def _what(error: Exception) -> str:
    detail = error.args[2] if len(error.args) > 2 and isinstance(error.args[2], str) else error
    return str(detail)[:120]


def _line(text: str, error: Exception) -> int | None:
    detail = error.args[2] if len(error.args) > 2 and isinstance(error.args[2], str) else None
    at = text.find(detail) if detail else -1
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def _row(data: dict, line: int) -> Row:
    amount = data.get("amount")
    day = data.get("entry_date") or data.get("date")
    payee, description = _details(data.get("transaction_details") or "")
    return checked(
        Row(
            line=line,
            date=date(day.year, day.month, day.day) if day else None,
            amount=amount.amount if amount is not None else None,
            payee=payee,
            description=description,
            bank_id=_bank_id(data),
            currency=currency_or_none(data.get("currency")),
        )
    )


def _bank_id(data: dict) -> str | None:
    customer = (data.get("customer_reference") or "").strip()
    if customer.upper() not in _PLACEHOLDERS:
        return customer
    return (data.get("bank_reference") or "").strip() or None


def _unique_bank_ids(rows: list[Row], warnings: list[str]) -> list[Row]:
    counts = Counter(row.bank_id for row in rows if row.bank_id)
    shared = {bank_id for bank_id, n in counts.items() if n > 1}
    if not shared:
        return rows
    warnings.append(
        f"references shared by several rows are not used as bank ids: {sorted(shared)[:5]}"
    )
    return [replace(row, bank_id=None) if row.bank_id in shared else row for row in rows]


def _details(text: str) -> tuple[str | None, str | None]:
    flat = text.replace("\n", "").strip()
    if not flat:
        return None, None
    if _GERMAN.match(flat):
        return _german(flat)
    if _SWIFT_FIELD.search(flat):
        return _swift(flat)
    return None, flat


def _german(flat: str) -> tuple[str | None, str | None]:
    parts = _GERMAN_FIELD.split(flat)
    fields: dict[str, str] = {}
    for code, value in zip(parts[1::2], parts[2::2], strict=True):
        fields[code] = fields.get(code, "") + value
    purpose = "".join(fields.get(f"{n}", "") for n in (*range(20, 30), *range(60, 64)))
    if "SVWZ+" in purpose:
        after = purpose.split("SVWZ+", 1)[1]
        purpose = _SEPA_KEYWORD.split(after, 1)[0]
    name = (fields.get("32", "") + fields.get("33", "")).strip()
    return name or None, purpose.strip() or fields.get("00", "").strip() or None


def _swift(flat: str) -> tuple[str | None, str | None]:
    parts = _SWIFT_FIELD.split(flat)
    fields: dict[str, str] = {}
    for code, value in zip(parts[1::2], parts[2::2], strict=True):
        fields.setdefault(code, value)
    name = fields.get("NAME", "").strip("/ ")
    if not name and "CNTP" in fields:  # ING: /CNTP/iban/bic/name/city/
        pieces = fields["CNTP"].split("/")
        name = pieces[2].strip() if len(pieces) > 2 else ""
    remittance = fields.get("REMI", "")
    for prefix in ("USTD//", "USTD/", "STRD/CUR/", "STRD/"):
        if remittance.startswith(prefix):
            remittance = remittance[len(prefix) :]
            break
    remittance = remittance.strip("/ ")
    return name or None, remittance or parts[0].strip("/ ") or None
