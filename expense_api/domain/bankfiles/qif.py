"""QIF (Quicken Interchange Format) bank files: the records of `!Type:Bank`, `Cash`, `CCard`,
`Oth A` and `Oth L` sections; investment (`!Type:Invst`) and list sections (categories,
classes, memorized payees, ...) are skipped, `!Option:`/`!Clear:` lines ignored.

Fields: D date, T amount (U when there is no T), P payee, M memo (the description), L category
(`[Account]` is a transfer: noted in the description, no category; `/Class` dropped), N number
(a cheque number is noted in the description), S/E/$ split lines. `^` ends a record.

Dates: `MM/DD/YYYY`, `MM/DD/YY`, `MM/DD'YY` (Quicken's form for 2000 on), `DD/MM/YYYY`,
`DD.MM.YYYY`, `YYYY-MM-DD`, spaces in them ignored (` 1/ 5'24`); day-first or month-first is
decided over the whole file, and a file where it cannot be decided (every day 12 or less) is
NeedsMapping unless the mapping's `dateFormat` says. Two-digit years: 00-69 are 2000-2069,
70-99 are 1970-1999. Amounts: a decimal point and `,` thousands, unless the file's amounts
show a decimal comma (`-1.234,56`) and none shows a point.

Split lines become Row.splits only when they are 2 to 50 lines with a category each (not a
transfer), amounts of T's sign summing to T exactly; else the record is imported whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from expense_api.domain.bankfiles import (
    NeedsMapping,
    Options,
    ParsedFile,
    Row,
    SplitLine,
    UnreadableFile,
    amounts,
    dates,
)
from expense_api.domain.bankfiles.text import MAX_ROWS, decode, lines, refuse_binary

TRANSACTIONS = {"bank", "cash", "ccard", "oth a", "oth l"}


@dataclass
class _Record:
    line: int
    fields: dict[str, str] = field(default_factory=dict)
    splits: list[dict[str, str]] = field(default_factory=list)


def _normal_date(value: str) -> str:
    return value.replace("'", "/").replace(" ", "")


def _scan(text: str) -> tuple[list[_Record], str | None, list[str]]:
    """The transaction records, the account they belong to (when one), warnings."""
    records: list[_Record] = []
    warnings: list[str] = []
    section: str | None = None
    account: str | None = None
    accounts: set[str] = set()
    current: _Record | None = None
    pending_account: str | None = None
    for number, raw in enumerate(lines(text), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("!"):
            header = line[1:].strip().lower()
            if header.startswith(("option:", "clear:")):
                continue
            if current is not None:
                warnings.append(f"line {current.line}: a record without its closing ^")
                records.append(current)
                current = None
            if header.startswith("type:"):
                section = "transactions" if header[5:].strip() in TRANSACTIONS else "skip"
            else:
                section = "account" if header == "account" else "skip"
            continue
        if section is None:
            section = "transactions"
            warnings.append("no !Type header: read as a bank account")
        if section == "account":
            if line[0] == "N":
                pending_account = line[1:].strip() or None
            elif line[0] == "^":
                account = pending_account
            continue
        if section != "transactions":
            continue
        code, value = line[0], line[1:].strip()
        if code == "^":
            if current is not None:
                records.append(current)
                if account:
                    accounts.add(account)
                if len(records) > MAX_ROWS:
                    raise UnreadableFile(f"more than {MAX_ROWS} records: split the file", number)
            current = None
            continue
        if current is None:
            current = _Record(line=number)
        if code == "S":
            current.splits.append({"S": value})
        elif code in "E$%" and current.splits:
            current.splits[-1].setdefault(code, value)
        elif code not in current.fields:
            current.fields[code] = value
    if current is not None and current.fields:
        warnings.append(f"line {current.line}: a record without its closing ^")
        records.append(current)
    return records, (next(iter(accounts)) if len(accounts) == 1 else None), warnings


def _decide(records: list[_Record], mapping: dict) -> tuple[str | None, str]:
    """The date order (None: the mapping's dateFormat) and the decimal mark."""
    order = None
    if mapping.get("dateFormat"):
        try:
            dates.compile_format(_normal_date(mapping["dateFormat"]))
        except ValueError as error:
            raise NeedsMapping(str(error), []) from None
    else:
        votes = dates.Votes()
        for record in records:
            if record.fields.get("D"):
                votes.add(_normal_date(record.fields["D"]))
        try:
            order = votes.decide()
        except ValueError as error:
            why = f"the dates could be {error}: send mapping.dateFormat"
            raise NeedsMapping(why, []) from None
    marks = {".": 0, ",": 0}
    for record in records:
        mark = amounts.vote(record.fields.get("T") or record.fields.get("U") or "")
        if mark in marks:
            marks[mark] += 1
    decimal = mapping.get("decimal") or ("," if marks[","] and not marks["."] else ".")
    return order, decimal


def parse(data: bytes, options: Options) -> ParsedFile:
    mapping = options.mapping or {}
    text = decode(data, mapping.get("encoding"))
    refuse_binary(text)
    records, account, warnings = _scan(text)
    order, decimal = _decide(records, mapping)
    date_format = _normal_date(mapping["dateFormat"]) if mapping.get("dateFormat") else None
    rows = [_row(record, order, date_format, decimal) for record in records]
    return ParsedFile(format="qif", rows=rows, account=account, warnings=warnings)


def _category(value: str | None) -> tuple[str | None, str | None]:
    """(category, transfer account) of an L or S value; `/Class` dropped."""
    if not value:
        return None, None
    name = value.split("/", 1)[0].strip() if not value.startswith("[") else value
    if name.startswith("["):
        return None, name.split("]", 1)[0].strip("[ ") or None
    return name or None, None


def _row(record: _Record, order: str | None, date_format: str | None, decimal: str) -> Row:
    fields = record.fields
    raw_date = fields.get("D", "")
    if date_format:
        day = dates.read_format(_normal_date(raw_date), date_format)
    else:
        day = dates.read(_normal_date(raw_date), order) if order else None
    raw_amount = fields.get("T") or fields.get("U") or ""
    parsed = amounts.parse(raw_amount, decimal) if raw_amount else None
    amount = parsed[0] if parsed else None
    category, transfer = _category(fields.get("L"))
    notes = [fields.get("M") or None]
    if transfer:
        notes.append(f"transfer [{transfer}]")
    if fields.get("N", "").isdigit():
        notes.append(f"check {fields['N']}")
    description = "; ".join(note for note in notes if note) or None
    row = Row(
        line=record.line,
        date=day,
        amount=amount,
        payee=fields.get("P") or None,
        description=description,
        category=category,
    )
    why = None
    if not raw_date:
        why = "no date"
    elif day is None:
        why = f"unreadable date {raw_date[:40]!r}"
    elif not raw_amount:
        why = "no amount"
    elif amount is None:
        why = f"unreadable amount {raw_amount[:40]!r}"
    elif amount == 0:
        why = "zero amount"
    if why:
        return replace(row, invalid=why)
    splits = _splits(record, amount, decimal)
    if splits:
        return replace(row, category=None, splits=splits)
    return row


def _splits(record: _Record, total: Decimal, decimal: str) -> tuple[SplitLine, ...]:
    """The record's split lines when they satisfy the split rules, else ()."""
    if not 2 <= len(record.splits) <= 50:
        return ()
    found, signed = [], Decimal(0)
    for split in record.splits:
        category, transfer = _category(split.get("S"))
        parsed = amounts.parse(split.get("$", ""), decimal)
        if category is None or transfer or parsed is None:
            return ()
        amount = parsed[0]
        signed += amount
        if amount == 0 or (amount > 0) != (total > 0):
            return ()
        found.append(SplitLine(category=category, amount=abs(amount), memo=split.get("E") or None))
    if signed != total:
        return ()
    return tuple(found)
