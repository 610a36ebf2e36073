"""Mutation resolvers: one service call each, the same as the REST view that writes the same
thing, with the input loaded through that view's schema.

Each mutation field, with its whole selection, runs in a savepoint of the request's transaction
(MutationExecutor): it either commits and answers its data, or answers null with its errors and
changes nothing, whether the write itself was refused or a field of its answer failed (a report
asked with a bad month, a field the caller's role may not read). The request goes on with the
next field; what the others wrote is kept (view.py commits when any field succeeded).
`ledgerId` omitted means the caller's default ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import wraps

from ariadne import MutationType
from flask import current_app
from graphql.execution.executor_throwing_on_incremental import ExecutorThrowingOnIncremental

from ...services import (
    alerts,
    budgets,
    categories,
    invitations,
    ledgers,
    recurring,
    transactions,
    webhooks,
)
from ..schemas.alerts import AlertSchema
from ..schemas.budgets import BudgetInputSchema, BudgetSchema
from ..schemas.categories import CategoryInputSchema, CategorySchema
from ..schemas.invitations import InvitationInputSchema, InvitationSchema
from ..schemas.ledgers import (
    LedgerInputSchema,
    LedgerRenameSchema,
    MemberRoleSchema,
    MemberSchema,
)
from ..schemas.recurring import RecurringInputSchema, RecurringPatchSchema, RecurringSchema
from ..schemas.transactions import (
    TransactionInputSchema,
    TransactionPatchSchema,
    TransactionSchema,
)
from ..schemas.webhooks import (
    DeliverySchema,
    WebhookInputSchema,
    WebhookPatchSchema,
    WebhookSchema,
    WebhookWithSecretSchema,
)
from .context import dump, item, load

mutation = MutationType()


class _Refused(Exception):
    """Raised out of a mutation field's savepoint so that psycopg rolls it back."""


class MutationExecutor(ExecutorThrowingOnIncremental):
    """graphql-core's executor, with each mutation field resolved AND completed (its payload's
    fields resolved: `transaction { ledger { summary } }`) inside a savepoint of the request's
    transaction. An error anywhere under the field rolls the savepoint back; the field answers
    null, with the errors (their paths below it say where it failed)."""

    def execute_field(self, parent_type, source, field_details_list, path, position_context):
        if parent_type is not self.schema.mutation_type:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        context = self.context_value
        errors = self.collected_errors.errors
        before = len(errors)
        context.start_mutation()
        try:
            with context.conn.transaction():  # a savepoint: the session check opened one
                result = super().execute_field(
                    parent_type, source, field_details_list, path, position_context
                )
                if len(errors) > before:
                    raise _Refused
        except _Refused:
            context.forget_reads()  # what it read inside the savepoint is gone with it
            return None
        context.wrote = True
        return result


def _writes(name: str):
    """Registers a mutation field (MutationExecutor runs it in a savepoint, with fresh roles)."""

    def decorator(resolver):
        @wraps(resolver)
        def run(_, info, **arguments):
            return resolver(info.context, **arguments)

        mutation.set_field(name, run)
        return resolver

    return decorator


def _written(kind, row, actor) -> dict:
    return item(dump(kind, row, actor), actor)


def _with_alerts(kind, key, row, actor, **extra) -> dict:
    alerts = row.pop("alerts")
    return {
        key: _written(kind, row, actor),
        "alerts": dump(AlertSchema, alerts, actor, many=True),
        **extra,
    }


@_writes("createCategory")
def create_category(context, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(CategoryInputSchema, input, actor)
    return _written(CategorySchema, categories.create(context.conn, actor, **body), actor)


@_writes("updateCategory")
def update_category(context, id, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(CategoryInputSchema, input, actor)
    return _written(CategorySchema, categories.rename(context.conn, actor, id, **body), actor)


@_writes("deleteCategory")
def delete_category(context, id, ledgerId=None):
    categories.delete(context.conn, context.actor(ledgerId), id)
    return True


@_writes("createTransaction")
def create_transaction(context, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(TransactionInputSchema, input, actor)
    row = transactions.create(context.conn, actor, body)
    return _with_alerts(TransactionSchema, "transaction", row, actor)


@_writes("updateTransaction")
def update_transaction(context, id, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(TransactionPatchSchema, input, actor, partial=True)
    row = transactions.update(context.conn, actor, id, body)
    return _with_alerts(TransactionSchema, "transaction", row, actor)


@_writes("deleteTransaction")
def delete_transaction(context, id, ledgerId=None):
    transactions.delete(context.conn, context.actor(ledgerId), id)
    return True


@_writes("upsertBudget")
def upsert_budget(context, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(BudgetInputSchema, input, actor)
    row, created = budgets.save(context.conn, actor, body)
    return _with_alerts(BudgetSchema, "budget", row, actor, created=created)


@_writes("deleteBudget")
def delete_budget(context, id, ledgerId=None):
    budgets.delete(context.conn, context.actor(ledgerId), id)
    return True


@_writes("markNotificationRead")
def mark_notification_read(context, id, ledgerId=None):
    if ledgerId is None:
        row = alerts.mark_read_in_any_ledger(context.conn, context.user["id"], id)
    else:
        row = alerts.mark_read(context.conn, context.actor(ledgerId), id)
    return dump(AlertSchema, row, context.actor())


@_writes("createLedger")
def create_ledger(context, input):
    body = load(LedgerInputSchema, input, context.actor())
    row = ledgers.create(
        context.conn,
        context.user,
        name=body["name"],
        currency=body.get("currency"),
        timezone=body.get("timezone"),
    )
    return context.ledger_nodes([row])[0]


@_writes("updateLedger")
def update_ledger(context, id, input):
    actor = context.actor(id)
    body = load(LedgerRenameSchema, input, actor)
    return context.ledger_nodes([ledgers.rename(context.conn, actor, **body)])[0]


@_writes("deleteLedger")
def delete_ledger(context, id):
    ledgers.delete(context.conn, context.actor(id))
    return True


@_writes("updateMember")
def update_member(context, ledgerId, userId, input):
    actor = context.actor(ledgerId)
    body = load(MemberRoleSchema, input, actor)
    return dump(MemberSchema, ledgers.change_role(context.conn, actor, userId, **body), actor)


@_writes("removeMember")
def remove_member(context, ledgerId, userId):
    ledgers.remove_member(context.conn, context.actor(ledgerId), userId)
    return True


@_writes("createInvitation")
def create_invitation(context, ledgerId, input):
    actor = context.actor(ledgerId)
    body = load(InvitationInputSchema, input, actor)
    return dump(InvitationSchema, invitations.create(context.conn, actor, **body), actor)


@_writes("revokeInvitation")
def revoke_invitation(context, ledgerId, id):
    invitations.revoke(context.conn, context.actor(ledgerId), id)
    return True


@_writes("acceptInvitation")
def accept_invitation(context, id):
    return context.ledger_nodes([invitations.accept(context.conn, context.user["id"], id)])[0]


@_writes("declineInvitation")
def decline_invitation(context, id):
    invitations.decline(context.conn, context.user["id"], id)
    return True


@_writes("createRecurring")
def create_recurring(context, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(RecurringInputSchema, input, actor)
    return _written(RecurringSchema, recurring.create(context.conn, actor, body), actor)


@_writes("updateRecurring")
def update_recurring(context, id, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(RecurringPatchSchema, input, actor, partial=True)
    return _written(RecurringSchema, recurring.update(context.conn, actor, id, body), actor)


@_writes("deleteRecurring")
def delete_recurring(context, id, ledgerId=None):
    recurring.delete(context.conn, context.actor(ledgerId), id)
    return True


def _settings():
    return current_app.config["SETTINGS"]


@_writes("createWebhook")
def create_webhook(context, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(WebhookInputSchema, input, actor)
    row = webhooks.create(context.conn, actor, _settings(), **body)
    return dump(WebhookWithSecretSchema, row, actor)


@_writes("updateWebhook")
def update_webhook(context, id, input, ledgerId=None):
    actor = context.actor(ledgerId)
    body = load(WebhookPatchSchema, input, actor, partial=True)
    row = webhooks.update(context.conn, actor, _settings(), id, body)
    return _written(WebhookSchema, row, actor)


@_writes("deleteWebhook")
def delete_webhook(context, id, ledgerId=None):
    webhooks.delete(context.conn, context.actor(ledgerId), id)
    return True


@_writes("rotateWebhookSecret")
def rotate_webhook_secret(context, id, ledgerId=None):
    actor = context.actor(ledgerId)
    now = datetime.now(UTC)
    row = webhooks.rotate_secret(context.conn, actor, _settings(), id, now)
    return dump(WebhookWithSecretSchema, row, actor)


@_writes("redeliverWebhookDelivery")
def redeliver_webhook_delivery(context, webhookId, deliveryId, ledgerId=None):
    actor = context.actor(ledgerId)
    now = datetime.now(UTC)
    row = webhooks.redeliver(context.conn, actor, webhookId, deliveryId, now)
    return dump(DeliverySchema, row, actor)


BINDABLES = [mutation]
