"""Budgets: a ledger's (batched across the ledgers of a list), one by id, a budget's ledger,
and their mutations."""

from __future__ import annotations

from ariadne import MutationType, ObjectType

from ....services import budgets
from ...schemas.budgets import (
    BudgetCopyInputSchema,
    BudgetInputSchema,
    BudgetQuerySchema,
    BudgetSchema,
)
from ..context import given, item, items, load, once_per_ledger, owner_ledger
from ..execution import writes
from .alerts import with_alerts

ledger = ObjectType("Ledger")
budget = ObjectType("Budget")
mutation = MutationType()


@ledger.field("budgets")
def resolve_budgets(node, info, month=None, year=None):
    args = load(BudgetQuerySchema, given(month=month, year=year), node.actor)

    def load_all(actors):
        return budgets.list_for_ledgers(info.context.conn, actors, **args)

    rows = info.context.batch(("budgets", month, year), node, load_all)
    return items(BudgetSchema, rows, node)


@ledger.field("budget")
@once_per_ledger
def resolve_budget(node, info, id):
    row = budgets.get(info.context.conn, node.actor, id)
    return item(BudgetSchema, row, node.actor, node)


budget.set_field("ledger", owner_ledger)


@writes(mutation, "upsertBudget")
def upsert_budget(context, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(BudgetInputSchema, input, actor)
    row, created = budgets.save(context.conn, actor, body)
    return with_alerts(BudgetSchema, "budget", row, actor, created=created)


@writes(mutation, "deleteBudget")
def delete_budget(context, id, ledgerId=None):
    budgets.delete(context.conn, context.actor(ledgerId), id)
    return True


@writes(mutation, "copyBudgets")
def copy_budgets(context, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(BudgetCopyInputSchema, input, actor)
    copied = budgets.copy(
        context.conn,
        actor,
        source=(body["source"]["year"], body["source"]["month"]),
        target=(body["target"]["year"], body["target"]["month"]),
    )
    return {key: [item(BudgetSchema, row, actor) for row in rows] for key, rows in copied.items()}


BINDABLES = [ledger, budget, mutation]
