"""Opaque keyset cursors: the (date, id) of the last row of a page, base64url-encoded JSON; and
the pages REST and GraphQL both serve with them (a rule's occurrences, an endpoint's
deliveries)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import date

from ...domain.errors import ValidationFailed
from ...services import rates
from ...services.recurring import rules as recurring
from ...services.webhooks import endpoints as webhooks


def encode(occurred_on: date, row_id: int) -> str:
    raw = json.dumps([occurred_on.isoformat(), row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(cursor: str) -> tuple[date, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        day, row_id = json.loads(raw)
        if not isinstance(row_id, int) or isinstance(row_id, bool) or not 0 < row_id < 2**63:
            raise ValueError
        return date.fromisoformat(day), row_id
    except (ValueError, TypeError, binascii.Error):
        raise ValidationFailed({"cursor": ["Not a cursor this API issued."]}) from None


def page(
    rows: list[dict],
    limit: int,
    position=lambda row: (row["occurred_on"], row["id"]),
    encoder=encode,
) -> tuple[list[dict], str | None]:
    """Rows were fetched with limit + 1: the extra one says whether a next page exists.
    `position` gives a row's keyset position ((date, id), as `encoder` takes it)."""
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encoder(*position(rows[limit - 1]))


def encode_id(row_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([row_id]).encode()).rstrip(b"=").decode()


def decode_id(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        (row_id,) = json.loads(raw)
        if not isinstance(row_id, int) or isinstance(row_id, bool) or not 0 < row_id < 2**63:
            raise ValueError
        return row_id
    except (ValueError, TypeError, binascii.Error):
        raise ValidationFailed({"cursor": ["Not a cursor this API issued."]}) from None


def page_by_id(rows: list[dict], limit: int, key: str = "id") -> tuple[list[dict], str | None]:
    """page() for rows ordered by one integer column (`key`), as encode_id cursors."""
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode_id(rows[limit - 1][key])


def occurrences_page(conn, acting, rule_id: int, limit: int, cursor: str | None):
    """A page of a rule's occurrences and the next page's cursor (REST and GraphQL)."""
    before = None
    if cursor:
        before, cursor_rule = decode(cursor)
        if cursor_rule != rule_id:
            raise ValidationFailed({"cursor": ["Not a cursor of this rule's occurrences."]})
    rows = recurring.occurrences_page(conn, acting, rule_id, limit=limit + 1, before=before)
    # A rule's occurrences are keyed by date; the cursor carries the rule's id as well.
    return page(rows, limit, position=lambda row: occurrence_position(row, rule_id))


def occurrence_position(row: dict, rule_id: int):
    return row["occurrence_date"], rule_id


def deliveries_page(conn, acting, webhook_id: int, limit: int, cursor: str | None):
    """A page of an endpoint's deliveries and the next page's cursor (REST and GraphQL)."""
    rows = webhooks.list_deliveries(
        conn,
        acting,
        webhook_id,
        limit=limit + 1,
        before_id=decode_id(cursor) if cursor else None,
    )
    return page_by_id(rows, limit)


def encode_rate(currency: str, day: date) -> str:
    """A rate list's keyset position: (currency, day) of a page's last rate."""
    raw = json.dumps([currency, day.isoformat()], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_rate(cursor: str) -> tuple[str, date]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        currency, day = json.loads(raw)
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
            raise ValueError
        return currency, date.fromisoformat(day)
    except (ValueError, TypeError, binascii.Error):
        raise ValidationFailed({"cursor": ["Not a cursor this API issued."]}) from None


def rates_page(conn, acting, *, limit: int, cursor: str | None = None, **filters):
    """A page of the ledger's rates and the next page's cursor (REST and GraphQL)."""
    after = decode_rate(cursor) if cursor else None
    rows = rates.list_page(conn, acting, limit=limit + 1, after=after, **filters)
    return page(
        rows, limit, position=lambda row: (row["currency"], row["day"]), encoder=encode_rate
    )
