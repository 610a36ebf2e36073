"""The text of an export's files, a chunk at a time (no I/O): CSV rows and an OFX 2.x bank
statement from transactions in their REST shape (amounts already strings with the currency's
digits), plus the JSON document's pieces.

Several currencies: a CSV row's `amount` is in the transaction's own `currency` (a split line's
too) with its `rate` (empty in the ledger's currency), so that the import reads it back at that
rate. An OFX statement is in the ledger's currency (CURDEF): TRNAMT is the ledger amount, and a
transaction in another currency adds ORIGCURRENCY (OFX 2: CURRATE, the ratio of CURDEF to
CURSYM, is our rate; CURSYM the transaction's currency).

CSV injection: a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and some also a
tab or carriage return) as a formula. Every text cell (category, payee, tags, description,
account, bankId, importId) that starts with one of those, or with an apostrophe, gets one
leading apostrophe; dates, types, amounts, currencies and ids never start with one. Reading an
export back, strip one leading apostrophe from a text cell that starts with one (`unguard`):
the apostrophe rule is reversible because an apostrophe at the start is itself guarded.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import date, datetime
from xml.sax.saxutils import escape

CSV_HEADER = (
    "date", "type", "amount", "currency", "rate", "category", "payee", "tags", "description",
    "account", "bankId", "importId", "splitOf",
)  # fmt: skip
TAG_SEPARATOR = ";"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def guard(text: str | None) -> str:
    """A text cell that a spreadsheet will not run as a formula (see the module's note)."""
    if not text:
        return ""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def unguard(text: str) -> str:
    """The text guard() was given: one leading apostrophe removed."""
    return text[1:] if text.startswith("'") else text


def csv_rows(transaction: dict) -> list[list[str]]:
    """A transaction's CSV rows: one, or one per line of a split transaction (the line's
    category and amount, the transaction's description, `splitOf` its id). Amounts in the
    transaction's currency, with its rate (none in the ledger's own)."""
    common = {
        "date": transaction["date"],
        "type": transaction["type"],
        "currency": transaction["currency"],
        "rate": transaction["rate"] or "",
        "payee": guard(transaction["payee"]),
        "tags": guard(TAG_SEPARATOR.join(transaction["tags"])),
        "description": guard(transaction["description"]),
        "account": guard(transaction.get("account")),
        "bankId": guard(transaction.get("bankId")),
        "importId": guard(transaction.get("importId")),
    }
    if not transaction["splits"]:
        parts = [(transaction["category"], transaction["amount"], "")]
    else:
        split_of = str(transaction["id"])
        parts = [(line["category"], line["amount"], split_of) for line in transaction["splits"]]
    rows = []
    for category, amount, split_of in parts:
        cells = {**common, "category": guard(category), "amount": amount, "splitOf": split_of}
        rows.append([cells[name] for name in CSV_HEADER])
    return rows


def csv_text(rows: Iterable[list[str]]) -> str:
    """CSV text (RFC 4180: quoted where needed, CRLF line ends) of the rows."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


# OFX 2.x: an XML declaration, the OFX processing instruction, then the elements. NAME is at
# most 32 characters and MEMO 255 in the specification: longer text is cut there.
NAME_LENGTH, MEMO_LENGTH = 32, 255


def _ofx_date(day: date) -> str:
    return day.strftime("%Y%m%d")


def _ofx_time(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def ofx_head(*, currency: str, account: str, start: date, end: date, now: datetime) -> str:
    """Everything of the statement before its first STMTTRN."""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" '
        'NEWFILEUID="NONE"?>\n'
        "<OFX>\n"
        "<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>"
        f"<DTSERVER>{_ofx_time(now)}</DTSERVER><LANGUAGE>ENG</LANGUAGE></SONRS></SIGNONMSGSRSV1>\n"
        "<BANKMSGSRSV1><STMTTRNRS><TRNUID>0</TRNUID>"
        "<STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>\n"
        f"<STMTRS><CURDEF>{escape(currency)}</CURDEF>\n"
        "<BANKACCTFROM><BANKID>EXPENSEAPI</BANKID>"
        f"<ACCTID>{escape(account)}</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>\n"
        f"<BANKTRANLIST><DTSTART>{_ofx_date(start)}</DTSTART><DTEND>{_ofx_date(end)}</DTEND>\n"
    )


def ofx_transaction(transaction: dict, *, fitid: str) -> str:
    """One STMTTRN: DEBIT for an expense (TRNAMT negative), CREDIT for income; TRNAMT in the
    ledger's currency, and ORIGCURRENCY for a transaction recorded in another."""
    expense = transaction["type"] == "EXPENSE"
    amount = ("-" if expense else "") + transaction["ledgerAmount"]
    parts = [
        f"<STMTTRN><TRNTYPE>{'DEBIT' if expense else 'CREDIT'}</TRNTYPE>",
        f"<DTPOSTED>{transaction['date'].replace('-', '')}</DTPOSTED>",
        f"<TRNAMT>{amount}</TRNAMT>",
        f"<FITID>{escape(fitid[:255])}</FITID>",
    ]
    if transaction["payee"]:
        parts.append(f"<NAME>{escape(transaction['payee'][:NAME_LENGTH])}</NAME>")
    if transaction["description"]:
        parts.append(f"<MEMO>{escape(transaction['description'][:MEMO_LENGTH])}</MEMO>")
    if transaction["rate"] is not None:
        parts.append(
            f"<ORIGCURRENCY><CURRATE>{transaction['rate']}</CURRATE>"
            f"<CURSYM>{escape(transaction['currency'])}</CURSYM></ORIGCURRENCY>"
        )
    parts.append("</STMTTRN>\n")
    return "".join(parts)


def ofx_tail(*, balance: str, now: datetime) -> str:
    """Everything of the statement after its last STMTTRN."""
    return (
        "</BANKTRANLIST>\n"
        f"<LEDGERBAL><BALAMT>{balance}</BALAMT><DTASOF>{_ofx_time(now)}</DTASOF></LEDGERBAL>\n"
        "</STMTRS></STMTTRNRS></BANKMSGSRSV1>\n"
        "</OFX>\n"
    )


def json_value(value) -> str:
    """A JSON text of a value of the document (already plain: strings, numbers, lists, dicts)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
