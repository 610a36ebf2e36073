"""Exchange rates: a ledger's own table of rates per currency and day (../shared/API.md,
"Several currencies"), read by every member, written by editors and owners one currency at a
time (PUT) or from an ECB rates file (import). A rate is ledger-currency units per one unit of
the currency; a transaction without a rate of its own takes the latest one on or before its
date (repositories/rates.rate_on, the transaction service's).

Writes are set-based: one upsert statement per CHUNK rates of the body or file (only rates
whose value changed are written), then one change-log entry per rate created or changed,
written by the database in one statement per chunk (hook.record_rates). The ledger's rate
writes are serialized (an advisory lock), so each entry's `before` is the value it replaced.
A file's rates are logged `via: "import"`, as a bank import's transactions are, whichever door
uploaded it.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

from psycopg import Connection

from ..domain import ratefiles
from ..domain.bankfiles import UnreadableFile
from ..domain.errors import ValidationFailed
from ..repositories import rates
from .changes import door, hook
from .ledgers import Action, Actor, authorize

log = logging.getLogger(__name__)

MAX_ITEMS = 5000  # rates in one PUT body
# Rates per upsert statement (and per change-log statement): a whole ECB history (about 200,000)
# in one statement would pass the statement timeout (DB_STATEMENT_TIMEOUT_MS, 5 s by default).
CHUNK = 20_000


class RatesFileUnreadable(ValidationFailed):
    code = "unreadable_file"


def list_page(
    conn: Connection,
    actor: Actor,
    *,
    limit: int,
    currency: str | None = None,
    from_day: date | None = None,
    to_day: date | None = None,
    after: tuple[str, date] | None = None,
) -> list[dict]:
    """Up to `limit` of the ledger's rates, by currency then day, after the keyset position
    `after` (currency, day); any member may read them."""
    authorize(actor, Action.READ)
    return rates.page(
        conn,
        ledger_id=actor.ledger_id,
        limit=limit,
        currency=currency,
        from_day=from_day,
        to_day=to_day,
        after=after,
    )


def put(conn: Connection, actor: Actor, currency: str, items: list[dict]) -> list[dict]:
    """Writes the currency's rates of the given days ({"date", "rate"} each, no day twice, as
    the schema loads them); answers those days' rates as now stored, by day."""
    authorize(actor, Action.WRITE)
    check_currency(actor, currency)
    if len(items) > MAX_ITEMS:
        raise ValidationFailed({"items": [f"At most {MAX_ITEMS} rates in one request."]})
    days = [item["date"] for item in items]
    if len(set(days)) != len(days):
        raise ValidationFailed({"items": ["A date appears twice."]})
    _write(conn, actor, [(currency, item["date"], item["rate"]) for item in items])
    return [
        {"currency": currency, "day": item["date"], "rate": item["rate"]}
        for item in sorted(items, key=lambda item: item["date"])
    ]


def import_file(conn: Connection, actor: Actor, data: bytes) -> dict:
    """An ECB rates file's rates written to the ledger (see domain/ratefiles): the currencies
    it gave rates of, its first and last day of them, how many rates were created or changed,
    and the withdrawn currencies' columns it skipped."""
    authorize(actor, Action.WRITE)  # a viewer's upload is refused before its file is read
    file, found = read_file(data, actor.currency)
    with door.through("import"):
        written = _write(conn, actor, found)
    days = [rate.day for rate in found]
    return {
        "currencies": sorted({rate.currency for rate in found}),
        "from": min(days, default=None),
        "to": max(days, default=None),
        "rates": written,
        "skipped": list(file.skipped),
    }


def read_file(data: bytes, ledger_currency: str):
    """The file read and converted to the ledger's currency, or the client's 422."""
    try:
        file = ratefiles.read(data, ratefiles.known_currencies())
        return file, ratefiles.convert(file, ledger_currency)
    except ratefiles.MissingCurrency as error:
        raise ValidationFailed(
            {"file": [f"{error} Rates are converted to the ledger's currency through EUR."]},
            f"The file has no {ledger_currency} column.",
        ) from None
    except UnreadableFile as error:
        where = "" if error.where is None else f" (at line {error.where})"
        refusal = RatesFileUnreadable(
            {"file": [error.why]}, f"The file cannot be read{where}: {error.why}"
        )
        refusal.extra.update(line=error.where)
        raise refusal from None
    except Exception:  # the reader's bug: logged, and still the client's 422, never a 500
        log.exception("the rates file reader failed on a file")
        raise RatesFileUnreadable(
            {"file": ["The file could not be read."]}, "The file could not be read."
        ) from None


def check_currency(actor: Actor, currency: str) -> None:
    if currency not in ratefiles.known_currencies():
        raise ValidationFailed({"currency": ["Must be an ISO 4217 currency code, such as USD."]})
    if currency == actor.currency:
        raise ValidationFailed(
            {"currency": [f"{currency} is the ledger's own currency: its rate is always 1."]}
        )


def _write(conn: Connection, actor: Actor, given: list[tuple[str, date, Decimal]]) -> int:
    """The rates upserted and their changes logged; how many were created or changed."""
    if not given:
        return 0
    rates.lock_ledger(conn, ledger_id=actor.ledger_id)
    count = 0
    for start in range(0, len(given), CHUNK):
        written = rates.upsert(conn, ledger_id=actor.ledger_id, rates=given[start : start + CHUNK])
        hook.record_rates(conn, actor, written)
        count += len(written)
    return count
