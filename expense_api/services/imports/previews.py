"""A bank file read into an import in preview: every row with its decision and reason, and
nothing of the ledger changed until the commit.

A row in a currency other than the ledger's (the file's row, the upload's `currency`, or the
file's own) takes the rate its file gives (an export's `rate` column), else the ledger's rate of
its date (the latest on or before it, looked up for all rows in one statement); it records that
rate (import_rows.rate) and its ledger amount is amount x rate rounded half up once
(domain/currencies.convert). Without a rate, or when the conversion is zero or too large, the
row is invalid, its reason naming the currency and date. A split row's lines get their shares of
the ledger amount by the largest remainder (allocate), kept with each line (`ledger_amount`).
"""

from __future__ import annotations

from decimal import Decimal

from psycopg import Connection

from ...domain import bankfiles
from ...domain.currencies import ConversionError, RateError, allocate, convert, parse_rate
from ...domain.money import MAX_AMOUNT, minor_units
from ...repositories import imports
from ..changes import hook
from ..ledgers import Action, Actor, authorize
from . import decisions, reads

UNCATEGORIZED = "Uncategorized"
MAX_LINES = 50  # a split's lines (services.transactions.MAX_LINES)


def create(
    conn: Connection,
    actor: Actor,
    parsed: bankfiles.ParsedFile,
    *,
    account: str,
    file_name: str | None,
    currency: str | None = None,
    categorize=None,
) -> dict:
    """The import of a parsed file, in preview. `currency`: the client's, for a file that names
    none (default the ledger's). `categorize(row) -> {"category_id"?, "payee"?, "tags"?} | None`:
    the ledger's rules (None: none apply)."""
    authorize(actor, Action.WRITE)
    file_currency = parsed.currency or currency or actor.currency
    rows = [_row(actor, row, file_currency) for row in parsed.rows]
    _convert(conn, actor, rows)
    decisions.assign_import_keys(rows)
    bank_ids = [row["bank_id"] for row in rows if row["bank_id"] is not None]
    keys = [row["import_key"] for row in rows if row["import_key"] is not None]
    decisions.mark_duplicates(
        rows,
        imports.known_bank_ids(conn, ledger_id=actor.ledger_id, account=account, bank_ids=bank_ids)
        if bank_ids
        else {},
        imports.known_import_keys(conn, ledger_id=actor.ledger_id, account=account, keys=keys)
        if keys
        else {},
    )
    window = decisions.match_window(rows)
    if window is not None:
        wanted = {(row["currency"], row["amount"]) for row in rows if row["decision"] == "new"}
        candidates = imports.hand_entered_near(
            conn,
            ledger_id=actor.ledger_id,
            ledger_currency=actor.currency,
            amounts=sorted(amount for currency, amount in wanted if currency == actor.currency),
            foreign=sorted(pair for pair in wanted if pair[0] != actor.currency),
            first=window[0],
            last=window[1],
        )
        decisions.mark_matches(rows, candidates)
    _categorize(conn, actor, rows, categorize)
    created = imports.insert(
        conn,
        ledger_id=actor.ledger_id,
        created_by=actor.user_id,
        format=parsed.format,
        account=account,
        file_name=file_name,
        currency=file_currency,
    )
    imports.stage_rows(conn, ledger_id=actor.ledger_id, import_id=created["id"], rows=rows)
    shown = reads.get(conn, actor, created["id"])
    hook.record(conn, actor, "import", "created", after=reads.shape(actor, shown))
    return shown


def _row(actor: Actor, row: bankfiles.Row, file_currency: str) -> dict:
    """A parsed row as import_rows holds it: unsigned amount and type, its decision so far."""
    currency = row.currency or file_currency
    amount = None if row.amount is None else abs(row.amount)
    shaped = {
        "line": row.line,
        "occurred_on": row.date,
        "amount": amount,
        "type": None if row.amount is None else ("EXPENSE" if row.amount < 0 else "INCOME"),
        "payee": _text(row.payee, 200),
        "description": _text(row.description, 500) or "",
        "bank_id": _text(row.bank_id, 200),
        "import_key": _text(row.import_key, 200),  # an export of ours gives it; else made
        "currency": currency,
        "category_id": None,
        "category_name": _text(row.category, 100),
        "tags": list(dict.fromkeys(tag for tag in (_text(t, 40) for t in row.tags) if tag))[:20],
        "splits": _splits(row),
        "decision": "new",
        "transaction_id": None,
        "reason": None,
        "rate": None,  # the file's, else the ledger's of the date (_convert)
        "ledger_amount": None,
    }
    reason = row.invalid or _invalid(actor, shaped) or _file_rate(actor, shaped, row.rate)
    if reason is not None:
        shaped.update(decision="invalid", reason=reason)
    return shaped


def _invalid(actor: Actor, row: dict) -> str | None:
    """Why a row that parsed cannot become a transaction (None: it can)."""
    if row["occurred_on"] is None:
        return "No date."
    if row["amount"] is None:
        return "No amount."
    if row["amount"] == 0:
        return "Zero amount."
    currency = row["currency"]
    try:
        digits = minor_units(currency)
    except ValueError:
        return f"{currency} is not a currency of amounts (it has no minor units)."
    if row["amount"] != row["amount"].quantize(Decimal(1).scaleb(-digits)):
        return f"More fraction digits than {currency} has ({digits})."
    if row["amount"] >= MAX_AMOUNT:
        return "The amount is too large."
    return None


def _file_rate(actor: Actor, row: dict, text: str | None) -> str | None:
    """The rate the file gives the row (an export's `rate` cell), checked and kept in
    row["rate"]; why the row is invalid (None: it is not)."""
    if text is None:
        return None
    try:
        rate = parse_rate(text)
    except RateError as error:
        return f"Unreadable rate {text[:40]!r}: {error}"
    if row["currency"] == actor.currency:
        if rate != 1:
            return f"A rate is for a currency other than the ledger's {actor.currency}."
        return None
    row["rate"] = rate
    return None


def _convert(conn: Connection, actor: Actor, rows: list[dict]) -> None:
    """Each valid row's ledger amount and its lines' shares: in the ledger's currency its own;
    in another, at the file's rate or else the ledger's rate of its date (one statement for all
    rows); no rate, or a conversion to zero or past the largest amount: invalid."""
    valid = [row for row in rows if row["decision"] != "invalid"]
    unrated = sorted(
        {
            (row["currency"], row["occurred_on"])
            for row in valid
            if row["currency"] != actor.currency and row["rate"] is None
        }
    )
    found = imports.rates_on(conn, ledger_id=actor.ledger_id, pairs=unrated) if unrated else {}
    for row in valid:
        if row["currency"] == actor.currency:
            row["ledger_amount"] = row["amount"]
            _share(actor, row, [line["amount"] for line in row["splits"] or ()])
            continue
        rate = row["rate"] or found.get((row["currency"], row["occurred_on"]))
        if rate is None:
            row.update(
                decision="invalid",
                reason=f"In {row['currency']}: the ledger has no {row['currency']} rate on or "
                f"before {row['occurred_on'].isoformat()}.",
            )
            continue
        row["rate"] = rate
        try:
            row["ledger_amount"] = convert(row["amount"], rate, actor.currency)
        except ConversionError as error:
            row.update(decision="invalid", reason=f"In {row['currency']} at {rate:f}: {error}")
            continue
        if row["splits"] is not None:
            parts = [Decimal(line["amount"]) for line in row["splits"]]
            _share(actor, row, allocate(row["ledger_amount"], parts, actor.currency))


def _share(actor: Actor, row: dict, shares: list) -> None:
    """The lines' ledger shares kept with them; a line whose share is zero cannot be a line
    (the record is imported whole, as any split the split rules refuse)."""
    if row["splits"] is None:
        return
    if any(Decimal(share) <= 0 for share in shares):
        row["splits"] = None
        return
    row["splits"] = [
        {**line, "ledger_amount": str(share)}
        for line, share in zip(row["splits"], shares, strict=True)
    ]


def _splits(row: bankfiles.Row) -> list[dict] | None:
    """A file's split lines when they make a valid split of the row (2 to 50 positive lines
    summing exactly to its amount), else None: the row is imported whole."""
    lines = row.splits
    if not lines or row.amount is None or not 2 <= len(lines) <= MAX_LINES:
        return None
    if any(line.amount <= 0 or not line.category for line in lines):
        return None
    if sum(line.amount for line in lines) != abs(row.amount):
        return None
    return [
        {"category": line.category[:100], "amount": str(line.amount), "memo": line.memo}
        for line in lines
    ]


def _text(value: str | None, limit: int) -> str | None:
    """Trimmed, at most `limit` characters, None when empty."""
    if value is None:
        return None
    value = " ".join(value.split())[:limit]
    return value or None


def _categorize(conn: Connection, actor: Actor, rows: list[dict], categorize) -> None:
    """Each row to be created gets the first matching rule's category, payee and tags; the
    file's category name is found in the ledger (or made at commit); else Uncategorized."""
    known = imports.categories_by_name(conn, ledger_id=actor.ledger_id)
    for row in rows:
        if row["decision"] != "new":
            continue
        ruled = categorize(row) if categorize is not None else None
        if ruled:
            row["category_id"] = ruled.get("category_id") or row["category_id"]
            row["payee"] = ruled.get("payee") or row["payee"]
            row["tags"] = list(dict.fromkeys([*row["tags"], *(ruled.get("tags") or ())]))[:20]
        if row["category_id"] is None and row["splits"] is None:
            name = row["category_name"] or UNCATEGORIZED
            found = known.get(name.lower())
            row["category_id"] = found["id"] if found else None
            row["category_name"] = name
