"""Which CSV column is which: the usual header names of banks' files (English, German, French,
Dutch, Spanish), compared without case, accents, punctuation or a unit in parentheses
(`Betrag (EUR)` is `betrag`); our own export's header; and a client's `mapping`, whose columns
are header names or 0-based indexes.
"""

from __future__ import annotations

import re
import unicodedata

# For each role, the names in order of preference (a booking date before a value date).
# fmt: off
NAMES = {
    "date": (
        "date", "datum", "buchungstag", "buchungsdatum", "transaction date", "booking date",
        "posting date", "posted date", "trans date", "date operation", "date de l operation",
        "date de operation", "fecha", "fecha operacion", "fecha de operacion", "transactiedatum",
        "boekdatum", "boekingsdatum", "date comptable", "value date", "valutadatum",
        "wertstellung", "date valeur", "date de valeur", "fecha valor",
    ),
    "amount": (
        "amount", "betrag", "montant", "bedrag", "importe", "transaction amount", "umsatz",
        "amount eur", "betrag eur", "montant eur", "bedrag eur",
    ),
    "debit": (
        "debit", "soll", "debet", "withdrawal", "withdrawals", "money out", "paid out",
        "debit amount", "ausgang", "ausgaben", "cargo", "cargos", "afschrijving",
    ),
    "credit": (
        "credit", "haben", "deposit", "deposits", "money in", "paid in", "credit amount",
        "eingang", "einnahmen", "abono", "abonos", "bijschrijving",
    ),
    "payee": (
        "payee", "beneficiary", "empfanger", "empfaenger", "zahlungsempfanger",
        "beguenstigter zahlungspflichtiger", "begunstigter zahlungspflichtiger",
        "auftraggeber empfanger", "name zahlungsbeteiligter", "zahlungsbeteiligter", "name",
        "payee name", "recipient", "counterparty", "counterparty name", "merchant",
        "beneficiaire", "tiers", "nom", "tegenpartij", "naam", "naam omschrijving",
        "beneficiario",
    ),
    "description": (
        "description", "memo", "verwendungszweck", "libelle", "libelle operation",
        "omschrijving", "mededelingen", "concepto", "descripcion", "details", "narrative",
        "transaction description", "purpose", "buchungstext", "text", "notes", "note",
        "communication",
    ),
    "bankId": (
        "bankid", "bank id", "transaction id", "id", "fitid", "reference", "referenz",
        "transaktions id", "reference number", "ref", "referencia",
    ),
    "currency": ("currency", "wahrung", "waehrung", "devise", "moneda", "munt", "ccy"),
    "category": ("category", "kategorie", "categorie", "categoria"),
}
# fmt: on
# fmt: off
MAPPED = ("date", "amount", "debit", "credit", "payee", "description", "bankId", "currency")
EXPORT = (
    "date", "type", "amount", "currency", "rate", "category", "payee", "tags", "description",
    "account", "bankId", "importId", "splitOf",
)
# fmt: on


def normalize(name: str) -> str:
    name = re.sub(r"\([^)]*\)", " ", name).replace("ß", "ss")
    name = unicodedata.normalize("NFKD", name)
    name = "".join(char for char in name if not unicodedata.combining(char)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", name).split())


def is_export(header: list[str]) -> bool:
    """Our own export's header (its first columns, at least, in its order)."""
    names = [cell.strip() for cell in header]
    return names[:4] == list(EXPORT[:4]) and "splitOf" in names


def export_roles(header: list[str]) -> dict[str, int]:
    names = [cell.strip() for cell in header]
    return {name: names.index(name) for name in EXPORT if name in names}


def roles(header: list[str]) -> dict[str, int]:
    """Role -> column index, for the header names recognized (each column one role at most)."""
    names = [normalize(cell) for cell in header]
    found: dict[str, int] = {}
    for role, synonyms in NAMES.items():
        for synonym in synonyms:
            index = next(
                (i for i, name in enumerate(names) if name == synonym and i not in found.values()),
                None,
            )
            if index is not None:
                found[role] = index
                break
    if "amount" in found or not ("debit" in found and "credit" in found):
        found.pop("debit", None)
        found.pop("credit", None)
    return found


def usable(found: dict[str, int]) -> bool:
    return "date" in found and ("amount" in found or ("debit" in found and "credit" in found))


def resolve(column: object, header: list[str] | None, width: int) -> int:
    """A mapping's column (a header name or a 0-based index) as an index; ValueError why not."""
    if isinstance(column, int) and not isinstance(column, bool):
        if not 0 <= column < width:
            raise ValueError(f"column {column} does not exist (the file has {width})")
        return column
    if not isinstance(column, str):
        raise ValueError(f"a column is a header name or a 0-based index, not {column!r}")
    if header is None:
        raise ValueError(f"column {column!r} is named but the file has no header: use indexes")
    names = [cell.strip() for cell in header]
    if column.strip() in names:
        return names.index(column.strip())
    normalized = [normalize(cell) for cell in header]
    if normalize(column) in normalized:
        return normalized.index(normalize(column))
    raise ValueError(f"no column named {column!r}")
