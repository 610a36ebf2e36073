"""CAMT.053 (ISO 20022 bank-to-customer statement, camt.053.001.02 and later): one row per
entry (`Ntry`), or per transaction of a batch entry.

Parsed with defusedxml, as a stream (`iterparse`, each entry dropped once read: memory follows
one entry, not the file): a DTD, an entity declaration or an external reference is refused
(UnreadableFile), so entity expansion cannot happen; XML that is not well formed is refused with
its line. Elements are found by local name, so every version's namespace reads the same; a
document in another namespace (camt.052, camt.054, pain...) is refused.

An entry: date BookgDt (Dt or DtTm, its date as written), else ValDt; Amt signed by CdtDbtInd
(DBIT: below zero) in its Ccy; bank_id AcctSvcrRef, else NtryRef; payee the counterparty's
name (for money out the creditor, Cdtr; for money in the debtor, Dbtr; `Nm` directly or under
`Pty`, the later versions); description the remittance text (RmtInf/Ustrd, joined), else
AddtlTxInf, else the entry's AddtlNtryInf. A batch entry (several TxDtls) is one row per TxDtls
when every TxDtls gives its own amount (Amt, or AmtDtls/TxAmt/Amt in .02) and they add up to the
entry's amount; those rows' bank_id is the entry's reference with `#1`, `#2`... (their order in
the entry). Otherwise the entry is one row whose description joins its transactions' details.
A reversal (RvslInd true) is a row like any other: ISO 20022 gives a reversal's CdtDbtInd as
its own direction (a debit returned is CRDT: money back in), so its sign follows CdtDbtInd; its
description starts with "Reversal: " and its payee is the original's counterparty. An entry
whose status is not booked (PDNG, INFO) is an invalid row (reason: not booked).
A row's `line` is its ordinal in the file.
"""

from __future__ import annotations

import io
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree

from expense_api.domain.bankfiles import Options, ParsedFile, Row, UnreadableFile
from expense_api.domain.bankfiles._rowcheck import (
    checked,
    currency_or_none,
    date_or_none,
    decimal_or_reason,
)

_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053."


def parse(data: bytes, options: Options) -> ParsedFile:
    rows: list[Row] = []
    accounts: list[str] = []
    currencies: list[str] = []
    warnings: list[str] = []
    entries = 0
    events = defusedxml.ElementTree.iterparse(
        io.BytesIO(data), events=("start", "end"), forbid_dtd=True
    )
    try:
        for event, element in events:
            name = _local(element.tag)
            if event == "start":
                if element.tag.startswith("{") and not element.tag.startswith("{" + _NAMESPACE):
                    raise UnreadableFile(
                        f"not a CAMT.053 document: namespace {element.tag[1:].split('}')[0][:80]}",
                        name,
                    )
                continue
            if name == "Acct" and _local_path_ends(element, "Id"):
                account = _text(element, "Id", "IBAN") or _text(element, "Id", "Othr", "Id")
                if account:
                    accounts.append(account)
                currency = currency_or_none(_text(element, "Ccy"))
                if currency:
                    currencies.append(currency)
            elif name == "Ntry":
                entries += 1
                rows.extend(_rows(element, len(rows), entries, warnings))
                element.clear()
    except defusedxml.DefusedXmlException as error:
        raise UnreadableFile(
            f"a DTD, entity or external reference is not allowed ({type(error).__name__})", 1
        ) from None
    except ParseError as error:
        raise UnreadableFile(f"not well-formed XML: {error}", error.position[0]) from None
    if entries == 0 and not accounts:
        raise UnreadableFile("no statement (Stmt with Acct) in the document", "Document")
    return ParsedFile(
        format="camt053",
        rows=rows,
        account=accounts[0] if accounts else None,
        currency=currencies[0] if currencies else None,
        warnings=warnings,
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _local_path_ends(element: Element, child: str) -> bool:
    return any(_local(c.tag) == child for c in element)


def _find(element: Element, *path: str) -> Element | None:
    for step in path:
        element = next((c for c in element if _local(c.tag) == step), None)
        if element is None:
            return None
    return element


def _all(element: Element, *path: str) -> list[Element]:
    found = [element]
    for step in path:
        found = [c for e in found for c in e if _local(c.tag) == step]
    return found


def _text(element: Element, *path: str) -> str | None:
    found = _find(element, *path)
    text = (found.text or "").strip() if found is not None else ""
    return text or None


def _date(entry: Element):
    for where in ("BookgDt", "ValDt"):
        text = _text(entry, where, "Dt") or _text(entry, where, "DtTm")
        if text:
            parts = text[:10].split("-")
            if len(parts) == 3 and all(p.isdigit() for p in parts):
                return date_or_none(*map(int, parts)), text
            return None, text
    return None, None


def _amount(element: Element, *path: str) -> tuple[object, str | None]:
    found = _find(element, *path)
    if found is None:
        return None, None
    return decimal_or_reason(found.text), currency_or_none(found.get("Ccy"))


def _details(tx: Element, debit: bool) -> tuple[str | None, str | None]:
    party = _find(tx, "RltdPties", "Cdtr" if debit else "Dbtr")
    payee = None
    if party is not None:
        payee = _text(party, "Nm") or _text(party, "Pty", "Nm")
    remittance = " ".join(e.text.strip() for e in _all(tx, "RmtInf", "Ustrd") if e.text)
    return payee, remittance or _text(tx, "AddtlTxInf")


def _rows(entry: Element, before: int, ordinal: int, warnings: list[str]) -> list[Row]:
    where = f"Ntry[{ordinal}]"
    day, written = _date(entry)
    invalid = None if day or written is None else f"date not readable: {written[:40]!r}"
    amount, currency = _amount(entry, "Amt")
    if isinstance(amount, str):
        invalid, amount = invalid or amount, None
    indicator = _text(entry, "CdtDbtInd")
    debit = indicator == "DBIT"
    if indicator not in ("DBIT", "CRDT"):
        invalid = invalid or f"CdtDbtInd is {str(indicator)[:10]!r}, not CRDT or DBIT"
    reversal = (_text(entry, "RvslInd") or "").lower() in ("true", "1")
    status = _text(entry, "Sts") or _text(entry, "Sts", "Cd")
    if status and status not in ("BOOK",):
        invalid = invalid or f"entry not booked (status {status[:10]})"
    reference = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
    transactions = _all(entry, "NtryDtls", "TxDtls")
    prefix = "Reversal: " if reversal else ""

    def row(n, amount, payee, description, bank_id, currency):
        signed = -amount if debit and amount is not None else amount
        text = f"{prefix}{description or ''}".strip() or None
        return checked(
            Row(before + n, day, signed, payee, text, bank_id, currency, invalid=invalid)
        )

    split = len(transactions) > 1 and amount is not None
    parts = []
    if split:
        for tx in transactions:
            tx_amount, tx_currency = _amount(tx, "Amt")
            if tx_amount is None:
                tx_amount, tx_currency = _amount(tx, "AmtDtls", "TxAmt", "Amt")
            tx_debit = (_text(tx, "CdtDbtInd") or indicator) == "DBIT"
            if not isinstance(tx_amount, type(amount)) or tx_debit != debit:
                split = False
                break
            parts.append((tx_amount, tx_currency or currency, *_details(tx, debit != reversal)))
        if split and sum(p[0] for p in parts) != amount:
            warnings.append(f"{where}: its transactions do not add up to it: read as one row")
            split = False
    if split:
        return [
            row(n, tx_amount, payee, description, f"{reference}#{n}" if reference else None, ccy)
            for n, (tx_amount, ccy, payee, description) in enumerate(parts, 1)
        ]
    details = [_details(tx, debit != reversal) for tx in transactions]
    payees = list(dict.fromkeys(p for p, _ in details if p))
    texts = [d for _, d in details if d]
    if len(transactions) > 1:
        count = _text(entry, "NtryDtls", "Btch", "NbOfTxs") or str(len(transactions))
        texts = [
            f"batch of {count}: " + "; ".join(f"{p or ''} {d or ''}".strip() for p, d in details)
        ]
    elif not transactions and _find(entry, "NtryDtls", "Btch") is not None:
        texts = [f"batch of {_text(entry, 'NtryDtls', 'Btch', 'NbOfTxs') or '?'}"]
    description = " ".join(texts) or _text(entry, "AddtlNtryInf")
    payee = payees[0] if len(payees) == 1 else None
    return [row(1, amount, payee, description, reference, currency)]
