"""GraphQL's resolvers, one module per resource, each beside its SDL file (../sdl/): the fields
the resource adds to Ledger and Query, its mutations, and its own types' fields. Each calls the
same services as the REST views of the resource (the services authorize), through the shared
helpers of ../context.py and ../execution.py."""

from __future__ import annotations

from . import (
    alerts,
    budgets,
    categories,
    changes,
    ledgers,
    payees,
    rates,
    recurring,
    reports,
    rules,
    tags,
    transactions,
    webhooks,
)

RESOURCES = (
    categories, transactions, payees, tags, budgets, alerts, reports, ledgers, recurring,
    rules, rates, webhooks, changes,
)  # fmt: skip
BINDABLES = [bindable for resource in RESOURCES for bindable in resource.BINDABLES]
