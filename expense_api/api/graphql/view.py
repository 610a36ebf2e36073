"""POST /api/graphql: one operation (a JSON object) or a batch of up to 5 (a JSON array).

In order, so that a refused request costs no database work but the session check:
1. the bearer token's signature, expiry and type (401 problem+json otherwise, as REST);
2. the body (400/415 problem+json as REST; 400 too for JSON that is neither one operation, an
   object, nor a batch, an array of 1 to 5 objects), the batch's size, each document's size, its
   syntax, its fit to the schema, its depth and cost (limits.py), all without the database;
3. the session check (the same query as every REST request), whatever step 2 found: a revoked
   token is 401 whatever the body, so nothing about the schema is told to a dead session. Then
   refused operations get errors and no data, and when nothing is left to run nothing else
   touches the database; an Idempotency-Key claim when the request holds a mutation
   (api/core/idempotency.py, as on REST POSTs);
4. execution in the request's one transaction (api/core/request_transaction.py): committed when a
   mutation field succeeded, rolled back otherwise; each mutation field, its selection included,
   runs in a savepoint (execution.MutationExecutor). A request without a mutation only reads:
   its statements run as a GET's do (no BEGIN, no COMMIT).
A deadlock or serialization failure propagates, so api/core/retry.py runs the whole request again
as it does for REST; a database outage is REST's 503.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import psycopg
from flask import Blueprint, current_app, json, request
from graphql import (
    DocumentNode,
    GraphQLError,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from psycopg_pool import PoolTimeout

from ...domain.errors import DomainError
from ...services.changes import door
from ..core import bearer, idempotency
from ..core.jsonio import read_json_body
from ..core.problems import HttpError
from ..core.request_transaction import get_conn, reads_only, rollback_at_end
from . import explorer, limits
from .context import RequestContext
from .errors import format_error
from .execution import MutationExecutor
from .schema import executable_schema

blp = Blueprint("graphql", __name__)
PATH = "/api/graphql"


@dataclass
class Operation:
    document: DocumentNode
    variables: dict | None
    name: str | None
    is_mutation: bool


def _bad_request(message: str) -> GraphQLError:
    return limits.refusal(message, "validation_error", status=422, errors={"query": [message]})


def _prepare(payload) -> Operation | list[GraphQLError]:
    """An operation ready to run, or why it is refused (no database work either way)."""
    variables, name = payload.get("variables"), payload.get("operationName")
    too_large = limits.document_too_large(payload["query"])
    if too_large is not None:
        return [too_large]
    introspection = current_app.config["SETTINGS"].graphql_introspection
    document, errors = _checked(payload["query"], introspection)
    if not errors:
        errors = _cost_refusal(payload["query"], introspection, variables)
    if errors:
        return list(errors)
    operation = get_operation_ast(document, name)
    if operation is None:
        return [_bad_request("Name the operation to run (`operationName`): none matches.")]
    return Operation(document, variables, name, operation.operation == OperationType.MUTATION)


@lru_cache(maxsize=256)
def _checked(query: str, introspection: bool) -> tuple[DocumentNode | None, tuple]:
    """The parsed document and what is wrong with it, apart from its cost (which depends on the
    variables). Validating costs more than running a small query, so a document is checked
    once per worker (clients send the same few documents over and over, with variables)."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, (error,)
    rules = [*specified_rules, limits.DepthLimit, limits.OneLedgerAtATime]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return document, tuple(validate(executable_schema(), document, rules))


def _cost_refusal(query: str, introspection: bool, variables: dict | None) -> tuple:
    """A valid document's refusal for its cost with these variables, if any; kept per worker
    for small variables (a dashboard sends the same ones again and again)."""
    text = json.dumps(variables, sort_keys=True)
    if len(text) > 1024:
        return _costed.__wrapped__(query, introspection, text)
    return _costed(query, introspection, text)


@lru_cache(maxsize=1024)
def _costed(query: str, introspection: bool, variables: str) -> tuple:
    document, _ = _checked(query, introspection)
    schema = executable_schema()
    return tuple(validate(schema, document, [limits.cost_rule(schema, json.loads(variables))]))


OPERATION_MEMBERS = frozenset({"query", "variables", "operationName", "extensions"})


class NotAnOperation(HttpError):
    status, code = 400, "malformed_request"


@blp.post(PATH)
def graphql():
    door.VIA.set("graphql")  # for the change log; the request's own context ends with it
    bearer.refuse_unreadable()  # no readable token: its 401, before any database work
    try:
        body = read_json_body(request)
        payloads = _payloads(body)
    except DomainError:
        _check_session(writes=False)  # a revoked token is 401 before the body's 400
        raise
    refused = limits.batch_too_large(len(payloads))
    if refused is not None:
        _check_session(writes=False)
        return _answer({"errors": [format_error(refused)]})
    prepared = [_prepare(payload) for payload in payloads]
    runnable = [op for op in prepared if isinstance(op, Operation)]
    writes = any(op.is_mutation for op in runnable)
    _check_session(writes)
    idempotency.check_key()  # its form, whether or not a mutation will claim it
    if writes:
        replay = idempotency.begin(bearer.current_user()["id"])
        if replay is not None:
            return replay
    context = RequestContext(get_conn(), bearer.current_user()) if runnable else None
    results = [_run(op, context) if isinstance(op, Operation) else _refused(op) for op in prepared]
    if not runnable or not context.wrote:
        rollback_at_end()  # nothing was written: nothing to commit, no answer to keep
    return _answer(results if isinstance(body, list) else results[0])


def _payloads(body) -> list:
    """The operations of a body: one (a JSON object) or a batch (a JSON array of objects)."""
    payloads = [body] if isinstance(body, dict) else body
    if not isinstance(payloads, list) or not payloads or not all(map(_is_operation, payloads)):
        raise NotAnOperation(
            "The body must be one operation (a JSON object with a `query` string, and optionally "
            "`variables` and `extensions` (objects) and `operationName` (a string), nothing "
            f"else) or a batch (a JSON array of 1 to {limits.MAX_BATCH} such objects)."
        )
    return payloads


def _is_operation(payload) -> bool:
    """A GraphQL-over-HTTP request object: what the OpenAPI document's request schema says. Any
    other shape is the request's fault, not the document's: 400, as for a body that is no JSON
    object at all (the GraphQL-over-HTTP spec's answer for application/json)."""
    return (
        isinstance(payload, dict)
        and set(payload) <= OPERATION_MEMBERS
        and isinstance(payload.get("query"), str)
        and isinstance(payload.get("variables"), dict | None)
        and isinstance(payload.get("operationName"), str | None)
        and isinstance(payload.get("extensions"), dict | None)
    )


def _check_session(writes: bool) -> None:
    """The session check (revoked, disabled, deleted -> 401), before any answer is given; a
    `read` personal access token with a mutation: 403 insufficient_scope."""
    if not writes:
        reads_only()  # queries only: no BEGIN, no COMMIT (a round trip less), as a GET
    bearer.verify(writes=writes)


def _refused(errors: list[GraphQLError]) -> dict:
    return {"errors": [format_error(error) for error in errors]}


def _run(operation: Operation, context: RequestContext) -> dict:
    result = execute(
        executable_schema(),
        operation.document,
        context_value=context,
        variable_values=operation.variables,
        operation_name=operation.name,
        executor_class=MutationExecutor,
    )
    answer: dict = {"data": result.data}
    if result.errors:
        for error in result.errors:
            _raise_database_failure(error)
        answer["errors"] = [format_error(error) for error in result.errors]
    return answer


def _raise_database_failure(error: GraphQLError) -> None:
    """A database failure is the request's, not a field's: raised, it is retried (a deadlock, a
    serialization failure) or answered 503 as on REST."""
    original = error.original_error
    if isinstance(original, psycopg.Error | PoolTimeout):
        raise original


def _answer(result) -> object:
    return current_app.response_class(json.dumps(result), mimetype="application/json")


@blp.get(PATH)
def explorer_page():
    return explorer.page()


@blp.get(f"{PATH}/<graphiql_asset:asset>")
def explorer_asset(asset: str):
    return explorer.asset(asset)
