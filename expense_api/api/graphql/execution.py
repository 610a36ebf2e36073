"""How mutations run: each mutation field, with its whole selection, in a savepoint of the
request's transaction (MutationExecutor); `writes` registers a resource's mutation fields.

A mutation field either commits and answers its data, or answers null with its errors and
changes nothing, whether the write itself was refused or a field of its answer failed (a report
asked with a bad month, a field the caller's role may not read). The request goes on with the
next field; what the others wrote is kept (view.py commits when any field succeeded).
`ledgerId` omitted means the caller's default ledger."""

from __future__ import annotations

from functools import wraps

from ariadne import MutationType
from graphql.execution.executor_throwing_on_incremental import ExecutorThrowingOnIncremental


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


def writes(mutation: MutationType, name: str):
    """Registers a mutation field on a resource's MutationType: the resolver takes the request's
    context and the field's arguments (MutationExecutor runs it in a savepoint, with fresh
    roles)."""

    def decorator(resolver):
        @wraps(resolver)
        def run(_, info, **arguments):
            return resolver(info.context, **arguments)

        mutation.set_field(name, run)
        return resolver

    return decorator
