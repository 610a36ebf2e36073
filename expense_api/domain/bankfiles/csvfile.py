"""CSV bank files (../shared/API.md, "Import and export"): encoding, delimiter, header, the
columns, the decimal mark and the date order are detected, each unless the client's `mapping`
says; what detection cannot decide is NeedsMapping, with the columns seen.

The file is read twice, record by record, never held as a list of records: the first pass
decides the decimal mark and the date order over all rows, the second builds the rows. Our own
export (`date, type, amount, ..., splitOf`) is read too: `type` gives the sign, the lines of a
split (sharing `splitOf`) become one Row with its split lines.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from functools import cache

import iso4217

from expense_api.domain.bankfiles import (
    NeedsMapping,
    Options,
    ParsedFile,
    Row,
    SplitLine,
    UnreadableFile,
    amounts,
    columns,
    dates,
)
from expense_api.domain.bankfiles.text import MAX_ROWS, decode, lines, refuse_binary
from expense_api.domain.exportfiles import unguard

DELIMITERS = (",", ";", "\t", "|")
SAMPLE = 40  # records looked at for the delimiter and the header
SAMPLE_LINES = 400  # within the first lines (after skipRows)
MAX_RECORDS = 2 * MAX_ROWS  # blank ones included
_TAGS = re.compile(r"[;|]")


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(the record's first line, its cells), blank records left out (but counted: a file of
    blank lines is refused like one of too many rows)."""
    reader = csv.reader(lines(text), delimiter=delimiter, skipinitialspace=True)
    start = 1
    try:
        for number, record in enumerate(reader, start=1):
            if any(cell.strip() for cell in record):
                yield start, record
            elif number > MAX_RECORDS:
                raise UnreadableFile(f"more than {MAX_RECORDS} lines: split the file", start)
            start = reader.line_num + 1
    except csv.Error as error:
        raise UnreadableFile(f"not readable as CSV: {error}", reader.line_num or 1) from None


def _sample(text: str, delimiter: str, skip: int) -> list[tuple[int, list[str]]]:
    found = []
    for line, record in _records(text, delimiter):
        if line > skip + SAMPLE_LINES:
            break
        if line > skip:
            found.append((line, record))
            if len(found) == SAMPLE:
                break
    return found


def _consistency(sample: list[tuple[int, list[str]]]) -> tuple[float, int]:
    widths = [len(record) for _, record in sample]
    if not widths:
        return 0.0, 0
    common = max(set(widths), key=lambda width: (widths.count(width), width))
    return widths.count(common) / len(widths), common


class _Layout:
    """Where the data is and which column is which."""

    def __init__(self, text: str, mapping: dict) -> None:
        skip = int(mapping.get("skipRows") or 0)
        wanted = mapping.get("delimiter")
        wanted = "\t" if wanted in ("tab", "\\t") else wanted
        candidates = (wanted,) if wanted else DELIMITERS
        samples = {delimiter: _sample(text, delimiter, skip) for delimiter in candidates}
        self.delimiter, self.header_line, self.header = self._find(samples, mapping)
        sample = samples[self.delimiter]
        self.first = next((line for line, _ in sample if line > self.header_line), None)
        self.seen = self.header or (sample[0][1] if sample else [])
        self.export = self.header is not None and columns.is_export(self.header)
        self.roles = self._roles(mapping, sample)

    def _find(self, samples: dict, mapping: dict) -> tuple[str, int, list[str] | None]:
        """The delimiter, the header's line (0: none) and the header."""
        has_header = mapping.get("header")
        best = None
        for delimiter, sample in samples.items():
            if has_header is False:
                break
            for line, record in sample[:20] if has_header is None else sample[:1]:
                if has_header or columns.is_export(record) or columns.usable(columns.roles(record)):
                    if best is None or len(record) > len(best[2]):
                        best = (delimiter, line, record)
                    break
        if best is not None:
            return best
        scores = {d: _consistency(sample) for d, sample in samples.items()}
        delimiter = max(samples, key=lambda d: (scores[d][1] > 1, scores[d]))
        sample = samples[delimiter]
        if scores[delimiter][1] < 2 and not mapping.get("delimiter"):
            seen = sample[0][1] if sample else []
            raise NeedsMapping("no delimiter found (tried , ; tab |): send mapping", seen)
        if has_header is None and sample and not _looks_like_data(sample[0][1]):
            raise NeedsMapping("no known column names in the header: send mapping", sample[0][1])
        return delimiter, 0, None

    def _roles(self, mapping: dict, sample: list) -> dict[str, int]:
        if self.export:
            return columns.export_roles(self.header)
        found = columns.roles(self.header) if self.header else {}
        width = len(self.seen)
        try:
            given = {
                role: columns.resolve(mapping[role], self.header, width)
                for role in columns.MAPPED
                if mapping.get(role) is not None
            }
        except ValueError as error:
            raise NeedsMapping(str(error), self.seen) from None
        if "amount" in given or "debit" in given or "credit" in given:
            for role in ("amount", "debit", "credit"):
                found.pop(role, None)
        taken = set(given.values())
        found = {role: index for role, index in found.items() if index not in taken}
        found.update(given)
        if not columns.usable(found):
            missing = "date" if "date" not in found else "amount (or debit and credit)"
            raise NeedsMapping(f"no {missing} column found: send mapping", self.seen)
        return found


def _looks_like_data(record: list[str]) -> bool:
    return any(dates.candidates(cell) or amounts.vote(cell) for cell in record)


def _cell(record: list[str], index: int | None) -> str:
    if index is None or index >= len(record):
        return ""
    return record[index].strip()


def _decide(text: str, layout: _Layout, mapping: dict) -> tuple[str, str | None, bool]:
    """The decimal mark, the date order (None: the mapping's dateFormat), whether the bank id
    column can be trusted (unique in the file)."""
    votes = {".": 0, ",": 0, "?": 0}
    first: dict[str, int] = {}
    order_votes = dates.Votes()
    ids: set[str] = set()
    unique = True
    money = [layout.roles.get(role) for role in ("amount", "debit", "credit")]
    count = 0
    for line, record in _records(text, layout.delimiter):
        if line <= layout.header_line:
            continue
        count += 1
        if count > MAX_ROWS:
            raise UnreadableFile(f"more than {MAX_ROWS} rows: split the file", line)
        raw_date = _cell(record, layout.roles["date"])
        if raw_date:
            order_votes.add(raw_date)
        for index in money:
            mark = amounts.vote(_cell(record, index))
            if mark:
                votes[mark] += 1
                first.setdefault(mark, line)
        bank_id = _cell(record, layout.roles.get("bankId"))
        if bank_id and unique:
            unique = bank_id not in ids
            ids.add(bank_id)
    decimal = mapping.get("decimal")
    if not decimal:
        if votes["."] and votes[","]:
            raise NeedsMapping(
                f"amounts with a decimal point (line {first['.']}) and a decimal comma "
                f"(line {first[',']}): send mapping.decimal",
                layout.seen,
            )
        decimal = "," if votes[","] else "." if votes["."] or not votes["?"] else None
        if decimal is None:
            raise NeedsMapping(
                f"amounts such as line {first['?']}'s could have a decimal comma or a "
                "thousands separator: send mapping.decimal",
                layout.seen,
            )
    order = None
    if mapping.get("dateFormat"):
        try:
            dates.compile_format(mapping["dateFormat"])
        except ValueError as error:
            raise NeedsMapping(str(error), layout.seen) from None
    else:
        try:
            order = order_votes.decide()
        except ValueError as error:
            why = f"the dates could be {error}: send mapping.dateFormat"
            raise NeedsMapping(why, layout.seen) from None
        if order is None and order_votes.seen:
            raise NeedsMapping("no date readable in the date column: send mapping", layout.seen)
    return decimal, order, unique


def parse(data: bytes, options: Options) -> ParsedFile:
    mapping = options.mapping or {}
    text = decode(data, mapping.get("encoding"))
    refuse_binary(text)
    layout = _Layout(text, mapping)
    warnings: list[str] = []
    if layout.first is None:
        return ParsedFile(format="csv", rows=[], warnings=["no data rows"])
    decimal, order, unique = _decide(text, layout, mapping)
    if "bankId" in layout.roles and not unique and mapping.get("bankId") is None:
        del layout.roles["bankId"]
        warnings.append("the reference column repeats values: not used as bank ids")
    builder = _Builder(layout, decimal, order, mapping.get("dateFormat"))
    for line, record in _records(text, layout.delimiter):
        if line > layout.header_line:
            builder.add(line, record)
    rows, account = builder.finish()
    warnings.extend(builder.warnings)
    return ParsedFile(format="csv", rows=rows, account=account, warnings=warnings)


class _Builder:
    def __init__(self, layout: _Layout, decimal: str, order: str | None, date_format: str | None):
        self.roles = layout.roles
        self.export = layout.export
        self.decimal = decimal
        self.order = order
        self.date_format = date_format
        self.rows: list[Row] = []
        self.splits: dict[str, list[int]] = {}  # splitOf -> indexes of its lines in rows
        self.accounts: set[str] = set()
        self.warnings: list[str] = []

    def _date(self, value: str):
        if self.date_format:
            return dates.read_format(value, self.date_format)
        return dates.read(value, self.order) if self.order else None

    def _amount(self, value: str) -> tuple[Decimal, str | None] | None:
        return amounts.parse(value, self.decimal) if value else None

    def add(self, line: int, record: list[str]) -> None:
        if len(self.rows) >= MAX_ROWS:
            raise UnreadableFile(f"more than {MAX_ROWS} rows: split the file", line)
        row = self._row(line, record)
        if self.export:
            account = _cell(record, self.roles.get("account"))
            if account:
                self.accounts.add(account)
            split_of = _cell(record, self.roles.get("splitOf"))
            if split_of:
                self.splits.setdefault(split_of, []).append(len(self.rows))
        self.rows.append(row)

    def _row(self, line: int, record: list[str]) -> Row:
        def get(role: str) -> str:
            cell = _cell(record, self.roles.get(role))
            # Our export guards text cells against spreadsheet formulas with an apostrophe.
            return unguard(cell) if self.export and role in _GUARDED else cell

        raw_date = get("date")
        day = self._date(raw_date) if raw_date else None
        amount, code, why = self._money(get)
        currency = get("currency").upper() or code
        if currency and not _known(currency):
            why = why or f"unknown currency {currency[:10]!r}"
        if not raw_date:
            why = "no date"
        elif day is None:
            why = f"unreadable date {raw_date[:40]!r}"
        tags = get("tags") if self.export else ""
        return Row(
            line=line,
            date=day,
            amount=amount,
            payee=get("payee") or None,
            description=get("description") or None,
            bank_id=get("bankId") or None,
            import_key=(get("importId") or None) if self.export else None,
            rate=(get("rate").strip() or None) if self.export else None,
            currency=currency or None,
            category=get("category") or None,
            tags=tuple(t.strip() for t in _TAGS.split(tags) if t.strip()) if tags else (),
            invalid=why,
        )

    def _money(self, get) -> tuple[Decimal | None, str | None, str | None]:
        """(amount, ISO code written with it, why the row is invalid)."""
        if "amount" in self.roles:
            raw = get("amount")
            if not raw:
                return None, None, "no amount"
            parsed = self._amount(raw)
            if parsed is None:
                return None, None, f"unreadable amount {raw[:40]!r}"
            amount, code = parsed
            if self.export:
                kind = get("type").lower()
                if kind not in ("expense", "income"):
                    return None, code, f"unknown type {get('type')[:20]!r}"
                amount = -abs(amount) if kind == "expense" else abs(amount)
        else:
            debit, credit = get("debit"), get("credit")
            if not debit and not credit:
                return None, None, "no amount"
            parsed_debit = self._amount(debit) if debit else (Decimal(0), None)
            parsed_credit = self._amount(credit) if credit else (Decimal(0), None)
            if parsed_debit is None or parsed_credit is None:
                return None, None, f"unreadable amount {(debit or credit)[:40]!r}"
            amount = abs(parsed_credit[0]) - abs(parsed_debit[0])
            code = parsed_debit[1] or parsed_credit[1]
        if amount == 0:
            return amount, code, "zero amount"
        return amount, code, None

    def finish(self) -> tuple[list[Row], str | None]:
        drop: set[int] = set()
        for indexes in self.splits.values():
            if len(indexes) > 1:
                self.rows[indexes[0]] = self._merge([self.rows[i] for i in indexes])
                drop.update(indexes[1:])
        rows = [row for i, row in enumerate(self.rows) if i not in drop] if drop else self.rows
        if len(self.accounts) > 1:
            self.warnings.append("several accounts in the file: import each separately")
        account = next(iter(self.accounts)) if len(self.accounts) == 1 else None
        return rows, account

    def _merge(self, parts: list[Row]) -> Row:
        """The lines of one split transaction (export rows sharing `splitOf`) as one Row."""
        head = parts[0]
        bad = next((part for part in parts if part.invalid), None)
        if bad is not None:
            return replace(head, invalid=f"split line {bad.line}: {bad.invalid}", category=None)
        total = sum((part.amount for part in parts), Decimal(0))
        descriptions = {part.description for part in parts}
        common = next(iter(descriptions)) if len(descriptions) == 1 else None
        whole = replace(head, amount=total, category=None, description=common)
        signs = {part.amount > 0 for part in parts}
        no_category = any(not part.category for part in parts)
        if len(signs) > 1 or not 2 <= len(parts) <= 50 or total == 0 or no_category:
            self.warnings.append(f"line {head.line}: split lines that cannot be a split")
            return whole if total else replace(whole, invalid="zero amount")
        lines_ = tuple(
            SplitLine(
                category=part.category or "",  # not empty: checked above
                amount=abs(part.amount),
                memo=part.description if len(descriptions) != 1 else None,
            )
            for part in parts
        )
        return replace(whole, splits=lines_)


# The export's text cells (domain/exportfiles.guard).
_GUARDED = frozenset({"payee", "description", "category", "tags"})


@cache
def _known(code: str) -> bool:
    try:
        iso4217.Currency(code)
    except ValueError:
        return False
    return True
