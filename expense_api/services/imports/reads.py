"""Reading imports: one, a page of them, a page of an import's rows."""

from __future__ import annotations

from decimal import Decimal

from psycopg import Connection

from ...domain.currencies import ConversionError, convert
from ...domain.errors import found
from ...repositories import imports
from ..changes import hook
from ..ledgers import Action, Actor, authorize


def get(conn: Connection, actor: Actor, import_id: int) -> dict:
    authorize(actor, Action.READ)
    return found(imports.get(conn, ledger_id=actor.ledger_id, import_id=import_id), "import")


def shape(actor: Actor, row: dict) -> dict:
    """The import's REST shape (the change log's images)."""
    return hook.render(actor, "import", row)


def list_page(conn: Connection, actor: Actor, *, limit: int, before_id: int | None) -> list[dict]:
    """Up to `limit` imports, newest first, before the id `before_id` when given."""
    authorize(actor, Action.READ)
    ids = imports.list_ids(conn, ledger_id=actor.ledger_id, limit=limit, before_id=before_id)
    return [imports.get(conn, ledger_id=actor.ledger_id, import_id=id_) for id_ in ids]


def rows_page(
    conn: Connection,
    actor: Actor,
    import_id: int,
    *,
    limit: int,
    after_line: int = 0,
    decision: str | None = None,
) -> list[dict]:
    """Up to `limit` rows of the import in line order, after `after_line`, each with its
    `ledger_amount` (None for an invalid row); 404 for an import the ledger does not have."""
    get(conn, actor, import_id)
    rows = imports.rows_page(
        conn, ledger_id=actor.ledger_id, import_id=import_id, decision=decision,
        after_line=after_line, limit=limit,
    )  # fmt: skip
    return [{**row, "ledger_amount": _ledger_amount(actor, row)} for row in rows]


def _ledger_amount(actor: Actor, row: dict) -> Decimal | None:
    """What the row counts in the ledger's currency: its amount, or in another currency its
    amount at its recorded rate (the commit writes the same, sql/imports.sql)."""
    if row["decision"] == "invalid" or row["amount"] is None:
        return None
    if row["rate"] is None:
        return row["amount"] if row["currency"] == actor.currency else None
    try:
        return convert(row["amount"], row["rate"], actor.currency)
    except ConversionError:  # pragma: no cover - such a row is invalid at preview
        return None
