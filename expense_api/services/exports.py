"""Export a ledger (CSV, OFX, JSON), streamed, and restore a JSON export into a new ledger.

An export reads the ledger in one REPEATABLE READ READ ONLY snapshot (db/snapshot.py: the door
opens it around the stream and keeps the connection until the stream ends), the transactions a
keyset page at a time (repositories/exports.PAGE_SIZE), so memory does not grow with the
ledger. The file text comes from domain/exportfiles.py.

A restore writes a new ledger from a document the door has validated field by field: here the
references inside it are checked (every id a transaction, line, budget or recurring rule names
is in the document's lists; every payee and tag name too), then everything is written
set-based in the caller's transaction (one INSERT ... SELECT FROM unnest per table), the
totals rebuilt once, and the change log's `created` entries written in bulk, by the restoring
user through the current door. Recurring rules come back as they were (their progress kept:
the last date handled and the next) but paused: the original ledger may still be running
them, and a copy that ran them too would record every date twice. Resume them to let the
restored ledger record them instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from psycopg import Connection

from ..db import snapshot
from ..domain import exportfiles
from ..domain.currencies import ConversionError, allocate, convert, rate_text
from ..domain.errors import ValidationFailed
from ..domain.money import AmountError, check_digits, format_amount
from ..repositories import exports, totals
from . import ledgers, rules, transactions
from .changes import hook
from .ledgers import Action, Actor, authorize

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "ofx": "application/x-ofx",
    "json": "application/json",
}
VERSION = 1
RESTORED_ENTITIES = ("category", "transaction", "budget", "recurring")


@dataclass(frozen=True)
class Export:
    """What the door needs to answer before the first byte: the type, the file's name, and
    the period; `chunks(conn)` then streams the text (inside one snapshot on `conn`)."""

    actor: Actor
    format: str
    content_type: str
    file_name: str
    start: date
    end: date

    def chunks(self, conn: Connection) -> Iterator[str]:
        snapshot.require(conn)
        writer = {"csv": _csv, "ofx": _ofx, "json": _json}[self.format]
        yield from writer(conn, self)


def export(conn: Connection, actor: Actor, *, format: str, period_filter: dict) -> Export:
    """Any member may export; the period as the transaction list reads it (no filter at all:
    everything)."""
    authorize(actor, Action.READ)
    if format not in FORMATS:
        raise ValidationFailed({"format": [f"Must be one of: {', '.join(FORMATS)}."]})
    if period_filter:
        period = transactions.resolve_period(conn, actor, period_filter)
        start, end = period.start, period.end
        suffix = f"-{start.isoformat()}-{end.isoformat()}"
    else:
        start, end, suffix = date.min, date.max, ""
    name = f"ledger-{actor.ledger_id}{suffix}.{format}"
    return Export(actor, format, FORMATS[format], name, start, end)


def _shown(actor: Actor, row: dict) -> dict:
    """A transaction's REST shape and where it came from (account, bankId, importId)."""
    return {
        **hook.render(actor, "transaction", row),
        "account": row["account"],
        "bankId": row["bank_id"],
        "importId": row["import_key"],
    }


def _rows(conn: Connection, export: Export) -> Iterator[list[dict]]:
    """The period's transactions in their shape, a page at a time."""
    page: list[dict] = []
    for row in exports.transactions(
        conn, ledger_id=export.actor.ledger_id, date_from=export.start, date_to=export.end
    ):
        page.append(_shown(export.actor, row))
        if len(page) == exports.PAGE_SIZE:
            yield page
            page = []
    if page:
        yield page


def _csv(conn: Connection, export: Export) -> Iterator[str]:
    yield exportfiles.csv_text([exportfiles.CSV_HEADER])
    for page in _rows(conn, export):
        yield exportfiles.csv_text(row for shown in page for row in exportfiles.csv_rows(shown))


def _ofx(conn: Connection, export: Export) -> Iterator[str]:
    actor = export.actor
    span = exports.span(conn, ledger_id=actor.ledger_id, date_from=export.start, date_to=export.end)
    today = datetime.now(UTC)
    start = span["first"] if export.start == date.min else export.start
    end = span["last"] if export.end == date.max else export.end
    yield exportfiles.ofx_head(
        currency=actor.currency,
        account=f"ledger-{actor.ledger_id}",
        start=start or today.date(),
        end=end or today.date(),
        now=today,
    )
    for page in _rows(conn, export):
        yield "".join(
            exportfiles.ofx_transaction(
                shown, fitid=shown["bankId"] or f"EXP-{actor.ledger_id}-{shown['id']}"
            )
            for shown in page
        )
    balance = format_amount(Decimal(span["balance"]), actor.currency)
    yield exportfiles.ofx_tail(balance=balance, now=today)


def _json(conn: Connection, export: Export) -> Iterator[str]:
    actor = export.actor
    ledger = exports.ledger(conn, ledger_id=actor.ledger_id)
    lists = exports.lists(conn, ledger_id=actor.ledger_id)
    value = exportfiles.json_value
    head = {
        "version": VERSION,
        "ledger": {key: ledger[key] for key in ("name", "currency", "timezone")},
        "categories": [hook.render(actor, "category", row) for row in lists["categories"]],
        "payees": [{"id": row["id"], "name": row["name"]} for row in lists["payees"]],
        "tags": [{"id": row["id"], "name": row["name"]} for row in lists["tags"]],
        "budgets": [hook.render(actor, "budget", row) for row in lists["budgets"]],
    }
    yield value(head)[:-1] + ',"transactions":['
    first = True
    for page in _rows(conn, export):
        text = ",".join(value(shown) for shown in page)
        yield text if first else "," + text
        first = False
    rules = [_rule(row) for row in lists["rules"]]
    recurring = [_recurring(actor, row) for row in lists["recurring"]]
    yield f'],"rules":{value(rules)},"recurring":{value(recurring)},"rates":['
    first = True
    for page in exports.rates(conn, ledger_id=actor.ledger_id):
        text = ",".join(value(_rate(row)) for row in page)
        yield text if first else "," + text
        first = False
    yield "]}"


def _rate(row: dict) -> dict:
    """A ledger rate as GET .../rates shows it."""
    return {
        "currency": row["currency"],
        "date": row["day"].isoformat(),
        "rate": rate_text(row["rate"]),
    }


def _rule(row: dict) -> dict:
    return {
        "id": row["id"],
        "position": row["position"],
        "match": row["match"],
        "set": {
            key: value
            for key, value in (
                ("categoryId", row["set_category_id"]),
                ("payee", row["set_payee"]),
                ("tags", row["set_tags"]),
            )
            if value is not None
        },
    }


def _recurring(actor: Actor, row: dict) -> dict:
    """The rule's REST shape with its currency, and its progress (the last date handled, how
    many)."""
    last = row["last_date"]
    shown = hook.render(actor, "recurring", row)
    return {
        **shown,
        "currency": shown.get("currency") or row["currency"] or actor.currency,
        "lastDate": None if last is None else last.isoformat(),
        "occurrenceCount": row["occurrence_count"],
    }


# --- Restore ----------------------------------------------------------------------------------

PATH = "restore"


def restore(conn: Connection, user: dict, *, name: str, document: dict) -> dict:
    """A new ledger named `name`, owned by the user, holding the document's data (a JSON export
    loaded by the door's schema: snake_case keys, amounts Decimal, dates date). A reference to
    something the document does not hold is 422 naming its path (`restore.transactions.3.
    categoryId`). The ledger as its owner sees it."""
    _check_references(document)
    info = document["ledger"]
    ledger = ledgers.create(
        conn, user, name=name, currency=info["currency"], timezone=info["timezone"]
    )
    actor = Actor(user["id"], ledger["id"], "owner", ledger["currency"], ledger["timezone"], False)
    totals.defer_for_transaction(conn)
    _write(conn, actor, document)
    totals.rebuild_for_ledgers(conn, [actor.ledger_id])
    for entity in RESTORED_ENTITIES:
        hook.record_created_in_bulk(conn, actor, entity)
    given = document.get("rates") or []
    written = exports.insert_rates(
        conn,
        ledger_id=actor.ledger_id,
        columns={
            "currencies": [item["currency"] for item in given],
            "days": [item["date"] for item in given],
            "rates": [item["rate"] for item in given],
        },
    )
    hook.record_rates(conn, actor, written)  # `created` each, one statement
    _restore_rules(conn, actor, document)
    return ledger


def _restore_rules(conn: Connection, actor: Actor, document: dict) -> None:
    """The import rules, in their order, through the rules service (few: it logs each), their
    categories found again by name in the new ledger."""
    names = {item["id"]: item["name"].lower() for item in document["categories"]}
    by_name = {
        row["name"].lower(): row["id"]
        for row in exports.lists(conn, ledger_id=actor.ledger_id)["categories"]
    }
    for item in sorted(document["rules"], key=lambda rule: (rule["position"], rule["id"])):
        chosen = dict(item["set"])
        if chosen.get("categoryId") is not None:
            chosen["categoryId"] = by_name[names[chosen["categoryId"]]]
        rules.create(conn, actor, {"match": item["match"], "set": chosen})


def _check_references(document: dict) -> None:
    errors: dict[str, list[str]] = {}

    def refuse(path: str, message: str) -> None:
        errors.setdefault(f"{PATH}.{path}", []).append(message)

    def unique(items: list[dict], what: str) -> tuple[set[int], set[str]]:
        ids, names = Counter(item["id"] for item in items), set()
        for index, item in enumerate(items):
            if ids[item["id"]] > 1:
                refuse(f"{what}.{index}.id", "Another item of the list has this id.")
            lowered = item["name"].lower()
            if lowered in names:
                refuse(f"{what}.{index}.name", "Another item of the list has this name.")
            names.add(lowered)
        return set(ids), names

    categories, _ = unique(document["categories"], "categories")
    _, payees = unique(document["payees"], "payees")
    _, tags = unique(document["tags"], "tags")
    no_category = "No such category in the document's categories."

    seen = {"bank_id": set(), "import_key": set()}
    ledger_currency = document["ledger"]["currency"]
    for index, item in enumerate(document["transactions"]):
        at = f"transactions.{index}"
        _check_amounts(
            item, ledger_currency, lambda path, message, at=at: refuse(f"{at}.{path}", message)
        )
        if item.get("category_id") is not None and item["category_id"] not in categories:
            refuse(f"{at}.categoryId", no_category)
        lines = item.get("splits") or []
        for number, line in enumerate(lines):
            if line["category_id"] not in categories:
                refuse(f"{at}.splits.{number}.categoryId", no_category)
        if lines and sum(line["amount"] for line in lines) != item["amount"]:
            refuse(f"{at}.splits", "The lines must sum exactly to the transaction's amount.")
        if item.get("payee") is not None and item["payee"].lower() not in payees:
            refuse(f"{at}.payee", "No such payee in the document's payees.")
        for number, tag in enumerate(item.get("tags") or []):
            if tag.lower() not in tags:
                refuse(f"{at}.tags.{number}", "No such tag in the document's tags.")
        for key, field in (("bank_id", "bankId"), ("import_key", "importId")):
            if item.get(key) is not None:
                pair = (item.get("account"), item[key])
                if pair in seen[key]:
                    refuse(f"{at}.{field}", f"Another transaction of the account has this {field}.")
                seen[key].add(pair)

    scopes = set()
    for index, item in enumerate(document["budgets"]):
        if item["category_id"] is not None and item["category_id"] not in categories:
            refuse(f"budgets.{index}.categoryId", no_category)
        scope = (item["year"], item["month"], item["category_id"])
        if scope in scopes:
            refuse(f"budgets.{index}", "Another budget has this month, year and category.")
        scopes.add(scope)

    for index, item in enumerate(document["recurring"]):
        if item["category_id"] not in categories:
            refuse(f"recurring.{index}.categoryId", no_category)
        if item.get("currency") == ledger_currency:
            item["currency"] = None
        try:
            check_digits(item["amount"], item.get("currency") or ledger_currency)
        except AmountError as error:
            refuse(f"recurring.{index}.amount", str(error))

    days = set()
    for index, item in enumerate(document.get("rates") or []):
        if item["currency"] == ledger_currency:
            refuse(
                f"rates.{index}.currency",
                f"A rate is for a currency other than the ledger's ({ledger_currency}).",
            )
        if (item["currency"], item["date"]) in days:
            refuse(f"rates.{index}", "Another rate has this currency and date.")
        days.add((item["currency"], item["date"]))

    for index, item in enumerate(document["rules"]):
        category_id = item["set"].get("categoryId")
        if category_id is not None and category_id not in categories:
            refuse(f"rules.{index}.set.categoryId", no_category)
    if errors:
        raise ValidationFailed(errors, "The restore document is not consistent.")


def _check_amounts(item: dict, ledger_currency: str, refuse) -> None:
    """A transaction's amounts in its own currency's digits; in another currency its rate
    given, its `ledgerAmount` convert(amount, rate) and its lines' the allocate() shares of it
    (in the ledger's own, each the amount itself). Sets `currency` (None: the ledger's),
    `ledger_amount` and each line's `ledger_amount` to what the restore writes."""
    currency = item.get("currency") or ledger_currency
    lines = item.get("splits") or []
    item["currency"] = None if currency == ledger_currency else currency
    digits_fit = True
    for path, amount in [("amount", item["amount"])] + [
        (f"splits.{number}.amount", line["amount"]) for number, line in enumerate(lines)
    ]:
        try:
            check_digits(amount, currency)
        except AmountError as error:
            digits_fit = False
            refuse(path, str(error))
    if not digits_fit:
        return
    rate = item.get("rate")
    if item["currency"] is None:
        if rate is not None and rate != 1:
            refuse("rate", f"A rate is for a currency other than the ledger's ({ledger_currency}).")
            return
        item["rate"] = None
        ledger_amount, shares = item["amount"], [line["amount"] for line in lines]
    elif rate is None:
        refuse("rate", f"A transaction in {currency} needs the rate it was recorded at.")
        return
    else:
        try:
            ledger_amount = convert(item["amount"], rate, ledger_currency)
        except ConversionError as error:
            refuse("amount", str(error))
            return
        shares = allocate(ledger_amount, [line["amount"] for line in lines], ledger_currency)
    given = item.get("ledger_amount")
    if given is not None and given != ledger_amount:
        refuse(
            "ledgerAmount",
            f"Must be {format_amount(ledger_amount, ledger_currency)}: the amount at its rate, "
            "rounded half up once.",
        )
    for number, (line, share) in enumerate(zip(lines, shares, strict=True)):
        if share <= 0:
            refuse(f"splits.{number}.amount", f"Converts to zero in {ledger_currency}.")
        elif line.get("ledger_amount") is not None and line["ledger_amount"] != share:
            refuse(
                f"splits.{number}.ledgerAmount",
                f"Must be {format_amount(share, ledger_currency)}: the line's share of the "
                "transaction's ledgerAmount (largest remainder).",
            )
        line["ledger_amount"] = share
    item["ledger_amount"] = ledger_amount


def _write(conn: Connection, actor: Actor, document: dict) -> None:
    ledger_id = actor.ledger_id
    named = {
        what: exports.insert_named(
            conn, what, ledger_id=ledger_id, names=[item["name"] for item in document[what]]
        )
        for what in ("categories", "payees", "tags")
    }
    category_ids = {
        item["id"]: named["categories"][item["name"].lower()] for item in document["categories"]
    }
    items = document["transactions"]
    ids = exports.allocate_transaction_ids(conn, len(items))
    exports.insert_transactions(
        conn,
        ledger_id=ledger_id,
        created_by=actor.user_id,
        columns={
            "ids": ids,
            "category_ids": [category_ids.get(item.get("category_id")) for item in items],
            "types": [item["type"] for item in items],
            "amounts": [item["ledger_amount"] for item in items],
            "currencies": [item["currency"] for item in items],
            "rates": [item["rate"] for item in items],
            "foreign_amounts": [item["amount"] if item["currency"] else None for item in items],
            "descriptions": [item.get("description", "") for item in items],
            "dates": [item["occurred_on"] for item in items],
            "payee_ids": [
                named["payees"][item["payee"].lower()] if item.get("payee") else None
                for item in items
            ],
            "accounts": [item.get("account") for item in items],
            "bank_ids": [item.get("bank_id") for item in items],
            "import_keys": [item.get("import_key") for item in items],
        },
    )
    lines = [
        (new_id, number, line, item["currency"] is not None)
        for new_id, item in zip(ids, items, strict=True)
        for number, line in enumerate(item.get("splits") or [], 1)
    ]
    exports.insert_splits(
        conn,
        ledger_id=ledger_id,
        columns={
            "transaction_ids": [new_id for new_id, _, _, _ in lines],
            "line_nos": [number for _, number, _, _ in lines],
            "category_ids": [category_ids[line["category_id"]] for _, _, line, _ in lines],
            "amounts": [line["ledger_amount"] for _, _, line, _ in lines],
            "foreign_amounts": [
                line["amount"] if foreign else None for _, _, line, foreign in lines
            ],
            "memos": [line.get("memo") for _, _, line, _ in lines],
        },
    )
    tagged = sorted(
        {
            (new_id, named["tags"][tag.lower()])
            for new_id, item in zip(ids, items, strict=True)
            for tag in item.get("tags") or []
        }
    )
    exports.insert_transaction_tags(
        conn,
        ledger_id=ledger_id,
        columns={
            "transaction_ids": [new_id for new_id, _ in tagged],
            "tag_ids": [tag_id for _, tag_id in tagged],
        },
    )
    budgets = document["budgets"]
    exports.insert_budgets(
        conn,
        ledger_id=ledger_id,
        columns={
            "category_ids": [category_ids.get(item["category_id"]) for item in budgets],
            "years": [item["year"] for item in budgets],
            "months": [item["month"] for item in budgets],
            "amounts": [item["amount"] for item in budgets],
            "modes": [item.get("mode") or "hard" for item in budgets],
            "thresholds": [item.get("alert_threshold") or 80 for item in budgets],
            "rollovers": [item.get("rollover") or "none" for item in budgets],
        },
    )
    rules = document["recurring"]
    exports.insert_recurring(
        conn,
        ledger_id=ledger_id,
        acts_as=actor.user_id,
        columns={
            "category_ids": [category_ids[item["category_id"]] for item in rules],
            "types": [item["type"] for item in rules],
            "amounts": [item["amount"] for item in rules],
            "currencies": [item.get("currency") for item in rules],
            "descriptions": [item.get("description", "") for item in rules],
            "frequencies": [item["frequency"] for item in rules],
            "intervals": [item.get("repeat_interval") or 1 for item in rules],
            "by_weekdays": [
                ",".join(item["by_weekday"]) if item.get("by_weekday") else None for item in rules
            ],
            "by_month_days": [item.get("by_month_day") for item in rules],
            "start_dates": [item["start_date"] for item in rules],
            "end_dates": [item.get("end_date") for item in rules],
            "counts": [item.get("max_occurrences") for item in rules],
            "paused": [True for _ in rules],  # see the module's note
            "last_dates": [item.get("last_date") for item in rules],
            "next_dates": [item.get("next_date") for item in rules],
            "occurrence_counts": [item.get("occurrence_count") or 0 for item in rules],
        },
    )
