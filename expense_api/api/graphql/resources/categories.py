"""Categories: a ledger's (batched across the ledgers of a list), one by id, a category's
ledger, and their mutations."""

from __future__ import annotations

from ariadne import MutationType, ObjectType

from ....services import categories
from ...schemas.categories import CategoryInputSchema, CategorySchema
from ..context import item, items, load, once_per_ledger, owner_ledger
from ..execution import writes

ledger = ObjectType("Ledger")
category = ObjectType("Category")
mutation = MutationType()


@ledger.field("categories")
def resolve_categories(node, info):
    conn = info.context.conn
    rows = info.context.batch(
        ("categories",), node, lambda actors: categories.list_for_ledgers(conn, actors)
    )
    return items(CategorySchema, rows, node)


@ledger.field("category")
@once_per_ledger
def resolve_category(node, info, id):
    row = categories.get(info.context.conn, node.actor, id)
    return item(CategorySchema, row, node.actor, node)


category.set_field("ledger", owner_ledger)


@writes(mutation, "createCategory")
def create_category(context, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(CategoryInputSchema, input, actor)
    return item(CategorySchema, categories.create(context.conn, actor, **body), actor)


@writes(mutation, "updateCategory")
def update_category(context, id, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(CategoryInputSchema, input, actor)
    return item(CategorySchema, categories.rename(context.conn, actor, id, **body), actor)


@writes(mutation, "deleteCategory")
def delete_category(context, id, ledgerId=None):
    categories.delete(context.conn, context.actor(ledgerId), id)
    return True


BINDABLES = [ledger, category, mutation]
