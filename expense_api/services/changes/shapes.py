"""Each logged entity as its REST GET shows it (camelCase, money as exact strings with the
ledger's currency's digits, dates as ISO dates, timestamps in UTC with a `Z`), rendered without
HTTP so every door records the same images: the change log's `before` and `after`, and the
webhook payloads that come from them. A test compares each shape with the API's own answer
(tests/ledgers/test_change_log_shapes.py).

A shape is a list of (key, column, kind): the same fields, names and order as the entity's
marshmallow schema in api/schemas.
"""

from __future__ import annotations

from decimal import Decimal

from ...domain.currencies import rate_text
from ...domain.money import format_amount
from ...domain.periods import utc_timestamp

PLAIN, MONEY, DATE, TIMESTAMP, LINES = "plain", "money", "date", "timestamp", "lines"
# A transaction's (and its lines') own amount: money in the row's `currency` (None: the ledger's);
# the currency itself (None shown as the ledger's); a rate as an exact plain decimal.
OWN_MONEY, CURRENCY, RATE = "own_money", "currency", "rate"
MATCH = "match"  # a rule's match: its amounts are money, the rest plain
MATCH_AMOUNTS = ("amountMin", "amountMax")

SHAPES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "ledger": (
        ("id", "id", PLAIN),
        ("name", "name", PLAIN),
        ("currency", "currency", PLAIN),
        ("timezone", "timezone", PLAIN),
        ("isDefault", "is_default", PLAIN),
        ("role", "role", PLAIN),
        ("createdAt", "created_at", TIMESTAMP),
    ),
    "member": (
        ("userId", "user_id", PLAIN),
        ("name", "name", PLAIN),
        ("email", "email", PLAIN),
        ("role", "role", PLAIN),
        ("joinedAt", "joined_at", TIMESTAMP),
    ),
    "invitation": (
        ("id", "id", PLAIN),
        ("ledgerId", "ledger_id", PLAIN),
        ("email", "email", PLAIN),
        ("role", "role", PLAIN),
        ("status", "status", PLAIN),
        ("createdAt", "created_at", TIMESTAMP),
        ("expiresAt", "expires_at", TIMESTAMP),
    ),
    "category": (
        ("id", "id", PLAIN),
        ("name", "name", PLAIN),
        ("createdAt", "created_at", TIMESTAMP),
    ),
    "transaction": (
        ("id", "id", PLAIN),
        ("amount", "amount", OWN_MONEY),
        ("type", "type", PLAIN),
        ("categoryId", "category_id", PLAIN),
        ("category", "category", PLAIN),
        ("description", "description", PLAIN),
        ("date", "occurred_on", DATE),
        ("createdAt", "created_at", TIMESTAMP),
        ("createdBy", "created_by", PLAIN),
        ("payee", "payee", PLAIN),
        ("tags", "tags", PLAIN),
        ("splits", "splits", LINES),
        ("currency", "currency", CURRENCY),
        ("rate", "rate", RATE),
        ("ledgerAmount", "ledger_amount", MONEY),
    ),
    # A split transaction's line (inside the transaction's shape).
    "line": (
        ("categoryId", "category_id", PLAIN),
        ("category", "category", PLAIN),
        ("amount", "amount", OWN_MONEY),
        ("memo", "memo", PLAIN),
        ("ledgerAmount", "ledger_amount", MONEY),
    ),
    "budget": (
        ("id", "id", PLAIN),
        ("categoryId", "category_id", PLAIN),
        ("category", "category", PLAIN),
        ("amount", "amount", MONEY),
        ("month", "month", PLAIN),
        ("year", "year", PLAIN),
        ("mode", "mode", PLAIN),
        ("alertThreshold", "alert_threshold", PLAIN),
        ("createdAt", "created_at", TIMESTAMP),
    ),
    "recurring": (
        ("id", "id", PLAIN),
        ("amount", "amount", MONEY),
        ("type", "type", PLAIN),
        ("categoryId", "category_id", PLAIN),
        ("category", "category", PLAIN),
        ("description", "description", PLAIN),
        ("frequency", "frequency", PLAIN),
        ("interval", "repeat_interval", PLAIN),
        ("byWeekday", "by_weekday", PLAIN),
        ("byMonthDay", "by_month_day", PLAIN),
        ("startDate", "start_date", DATE),
        ("endDate", "end_date", DATE),
        ("count", "max_occurrences", PLAIN),
        ("paused", "paused", PLAIN),
        ("pausedReason", "paused_reason", PLAIN),
        ("nextDate", "next_date", DATE),
        ("failures", "failures", PLAIN),
        ("retryAt", "retry_at", TIMESTAMP),
        ("lastError", "last_error", PLAIN),
        ("createdAt", "created_at", TIMESTAMP),
    ),
    # A rule (import and apply): its `match` as given (amounts as money), its `set` always with
    # its three keys (null where the rule leaves that alone).
    "rule": (
        ("id", "id", PLAIN),
        ("position", "position", PLAIN),
        ("match", "match", MATCH),
        ("set", "set", PLAIN),
        ("createdAt", "created_at", TIMESTAMP),
    ),
    # The secret never appears (it is not part of the GET either).
    "webhook": (
        ("id", "id", PLAIN),
        ("ledgerId", "ledger_id", PLAIN),
        ("url", "url", PLAIN),
        ("events", "events", PLAIN),
        ("description", "description", PLAIN),
        ("enabled", "enabled", PLAIN),
        ("disabledAt", "disabled_at", TIMESTAMP),
        ("disabledReason", "disabled_reason", PLAIN),
        ("createdAt", "created_at", TIMESTAMP),
    ),
    "import": (
        ("id", "id", PLAIN),
        ("status", "status", PLAIN),
        ("format", "format", PLAIN),
        ("account", "account", PLAIN),
        ("fileName", "file_name", PLAIN),
        ("currency", "currency", PLAIN),
        ("counts", "counts", PLAIN),
        ("overBudget", "over_budget", PLAIN),
        ("kept", "kept", PLAIN),
        ("createdAt", "created_at", TIMESTAMP),
        ("committedAt", "committed_at", TIMESTAMP),
        ("undoneAt", "undone_at", TIMESTAMP),
    ),
    # An exchange rate (GET .../rates's item; its entries' entity id is the row's id). Its
    # entries are rendered by the database (sql/changes.sql, record_rates) in this shape.
    "rate": (
        ("currency", "currency", PLAIN),
        ("date", "day", DATE),
        ("rate", "rate", RATE),
    ),
    # Not a logged entity: alerts are consequences of changes; their webhook events use it.
    "alert": (
        ("id", "id", PLAIN),
        ("ledgerId", "ledger_id", PLAIN),
        ("budgetId", "budget_id", PLAIN),
        ("kind", "kind", PLAIN),
        ("percentUsed", "percent_used", PLAIN),
        ("recurringId", "recurring_id", PLAIN),
        ("createdAt", "created_at", TIMESTAMP),
        ("readAt", "read_at", TIMESTAMP),
    ),
}


def render(entity: str, row: dict, currency: str, own_currency: str | None = None) -> dict:
    """The entity's REST shape of a repository row (`currency`: the ledger's; `own_currency`:
    a line's transaction's, when not the ledger's)."""
    own = own_currency or row.get("currency") or currency
    return {
        key: _value(row.get(column), kind, currency, own) for key, column, kind in SHAPES[entity]
    }


def identity(entity: str, shape: dict) -> int:
    """The entity's id in its shape (a member's is its user id)."""
    return shape["userId"] if entity == "member" else shape["id"]


def _value(value, kind: str, currency: str, own_currency: str):
    if kind == CURRENCY:
        return value or currency
    if value is None:
        return None
    if kind == MONEY:
        return format_amount(Decimal(value), currency)
    if kind == OWN_MONEY:
        return format_amount(Decimal(value), own_currency)
    if kind == RATE:
        return rate_text(Decimal(value))
    if kind == DATE:
        return value.isoformat()
    if kind == TIMESTAMP:
        return utc_timestamp(value)
    if kind == MATCH:
        return {
            key: format_amount(Decimal(inner), currency) if key in MATCH_AMOUNTS else inner
            for key, inner in value.items()
        }
    if kind == LINES:
        return [render("line", line, currency, own_currency) for line in value]
    # A Decimal that is not money (an alert's percentUsed) is shown as an exact string.
    return str(value) if isinstance(value, Decimal) else value
