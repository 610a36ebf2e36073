"""Tags: a ledger's tags in use (batched across the ledgers of a list), through the same
service and schema as REST's GET /api/ledgers/<id>/tags (api/tags.py)."""

from __future__ import annotations

from ariadne import ObjectType

from ....services import tags
from ...schemas.tags import TagSchema
from ..context import dump

ledger = ObjectType("Ledger")


@ledger.field("tags")
def resolve_tags(node, info):
    rows = info.context.batch(
        ("tags",), node, lambda actors: tags.list_for_ledgers(info.context.conn, actors)
    )
    return dump(TagSchema, rows, node.actor, many=True)


BINDABLES = [ledger]
