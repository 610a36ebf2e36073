"""The change log: a ledger's audit trail, a page at a time, through the same service, schemas
and cursors as REST's GET /api/ledgers/<id>/changes (api/changes.py).

Read one ledger at a time (limits.ONE_LEDGER_AT_A_TIME): refused below `ledgers`, as a trail is
read for one ledger; a page costs its `first` (limits.CONNECTIONS)."""

from __future__ import annotations

from ariadne import ObjectType, ScalarType

from ....services.changes import log
from ...core import pagination
from ...schemas.changes import ChangeQuerySchema, ChangeSchema
from ..context import connection, dump, given, load, once_per_ledger

ledger = ObjectType("Ledger")
# Out only: the images are already REST's JSON values.
json = ScalarType("JSON", serializer=lambda value: value)


@ledger.field("changes")
@once_per_ledger
def resolve_changes(node, info, first=50, after=None, filter=None):
    actor = node.actor
    args = load(ChangeQuerySchema, given(**(filter or {}), limit=first, cursor=after), actor)
    limit, cursor = args.pop("limit"), args.pop("cursor", None)
    before_seq = pagination.decode_id(cursor) if cursor else None
    rows = log.page(info.context.conn, actor, limit=limit + 1, before_seq=before_seq, **args)
    rows, next_cursor = pagination.page_by_id(rows, limit, key="seq")
    edges = [
        {"cursor": pagination.encode_id(row["seq"]), "node": value}
        for row, value in zip(rows, dump(ChangeSchema, rows, actor, many=True), strict=True)
    ]
    return connection(edges, next_cursor)


BINDABLES = [ledger, json]
