"""What every resource's resolvers share (resources/*.py): the per-request context (the
connection, the caller, who they act as in each ledger, the batched loaders), the nodes they
answer, how rows become REST's shapes, and connection shaping.

Nodes: a ledger is a LedgerNode (its fields in REST's shape, the actor in it, the ledgers listed
with it, what was computed for it); what a ledger holds (a category, a transaction, a budget, a
recurring rule, a webhook endpoint) is an ItemNode (its fields, the actor, the LedgerNode it was
read under). Both are read-only mappings of their fields, which GraphQL reads by name.

Shapes: rows are dumped through the REST API's own marshmallow schemas (api/schemas), under the
acting ledger's currency, so GraphQL's values are REST's values (money strings with the
currency's digits, YYYY-MM-DD dates, UTC timestamps with Z, camelCase names). Inputs are loaded
through REST's input schemas, so validation (and its messages) is REST's.

Batching: a ledger shown in a list carries the list (`LedgerNode.siblings`). The first nested
field asked of any of them (its categories, budgets, transactions page, members, reports) is
loaded for all of them in one statement and kept (RequestContext.batch); the others take their
part of it. One statement per level, however many ledgers. A field read one ledger at a time
(limits.ONE_LEDGER_AT_A_TIME) is computed once per ledger node (once_per_ledger).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError
from marshmallow.experimental.context import Context
from psycopg import Connection

from ...domain.errors import ValidationFailed
from ...services import ledgers
from ...services.ledgers import Actor
from ..core.problems import flatten_messages
from ..core.views import default_actor
from ..schemas.ledgers import LedgerSchema

_SCHEMAS: dict[type[Schema], Schema] = {}


def _schema(kind: type[Schema], partial: bool = False) -> Schema:
    key = (kind, partial)
    if key not in _SCHEMAS:
        _SCHEMAS[key] = kind(partial=partial)
    return _SCHEMAS[key]


def dump(kind: type[Schema], value: Any, actor: Actor, *, many: bool = False) -> Any:
    """A row (or rows) in REST's shape, money in the actor's ledger's currency."""
    with Context({"currency": actor.currency}):
        return _schema(kind).dump(value, many=many)


def load(kind: type[Schema], data: dict, actor: Actor, *, partial: bool = False) -> dict:
    """An input through REST's schema; its messages become a validation_error as in REST."""
    with Context({"currency": actor.currency}):
        try:
            return _schema(kind, partial).load(data)
        except ValidationError as error:
            raise ValidationFailed(flatten_messages(error.messages)) from None


@dataclass(eq=False)
class LedgerNode(Mapping):
    """A Ledger: `fields` in REST's shape, the caller acting in it, the ledgers listed with it
    (itself included: a batch loads for all of them), what was computed for it (`memo`)."""

    fields: dict
    actor: Actor
    siblings: list[LedgerNode]
    memo: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)


@dataclass(eq=False)
class ItemNode(Mapping):
    """What a ledger holds (a category, transaction, budget, recurring rule, webhook endpoint):
    `fields` in REST's shape, the actor, and the LedgerNode it was read under (None for what a
    mutation answers: its `ledger` is read when asked)."""

    fields: dict
    actor: Actor
    ledger: LedgerNode | None = None

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)


class RequestContext:
    def __init__(self, conn: Connection, user: dict):
        self.conn = conn
        self.user = user
        self.in_mutation = False
        self.wrote = False
        self._actors: dict[int, Actor] = {}
        self._batches: dict[tuple, dict[int, Any] | BaseException] = {}

    # -- who acts ---------------------------------------------------------------------------

    def actor(self, ledger_id: int | None = None) -> Actor:
        """The caller in a ledger (NotFound for a non-member); None: their default ledger.
        During a mutation the role is read afresh: an earlier mutation of the same request may
        have changed it."""
        if ledger_id is None and not self.in_mutation:
            return default_actor(self.user)
        if ledger_id is None:
            ledger_id = self.user["default_ledger_id"]
        if ledger_id not in self._actors:
            self._actors[ledger_id] = ledgers.actor_in(
                self.conn, user_id=self.user["id"], ledger_id=ledger_id
            )
        return self._actors[ledger_id]

    def start_mutation(self) -> None:
        self.in_mutation = True
        self.forget_reads()

    def forget_reads(self) -> None:
        """Drops the roles and rows kept so far: a mutation may change them, and a rolled-back
        one read rows (its own writes among them) that no longer exist."""
        self._actors.clear()
        self._batches.clear()

    # -- ledgers and what hangs below them ----------------------------------------------------

    def ledger_nodes(self, rows: list[dict]) -> list[LedgerNode]:
        """Ledger rows (as a member sees them) as Ledger nodes sharing one sibling list."""
        siblings: list[LedgerNode] = []
        for row in rows:
            actor = Actor(self.user["id"], row["id"], row["role"], row["currency"], row["timezone"])
            self._actors.setdefault(row["id"], actor)
            siblings.append(LedgerNode(dump(LedgerSchema, row, actor), actor, siblings))
        return siblings

    def ledger_node(self, actor: Actor) -> LedgerNode:
        """The Ledger node of the ledger an actor acts in (one statement, kept per request)."""
        key = ("ledger", actor.ledger_id)
        if key not in self._batches:
            self._batches[key] = {0: self.ledger_nodes([ledgers.get(self.conn, actor)])[0]}
        return self._batches[key][0]  # type: ignore[index]

    def batch(
        self, key: tuple, node: LedgerNode, load_all: Callable[[list[Actor]], dict[int, Any]]
    ):
        """node's part of a result loaded once for all its siblings: load_all(actors) answers
        {ledger_id: value}. A failure is kept too, and raised for each sibling."""
        # Keyed by the sibling list's identity; the entry keeps the list alive, so its id cannot
        # be reused by another list within the request.
        key = (*key, id(node.siblings))
        if key not in self._batches:
            try:
                result = load_all([sibling.actor for sibling in node.siblings])
            except Exception as error:
                result = error
            self._batches[key] = (node.siblings, result)
        _, result = self._batches[key]
        if isinstance(result, BaseException):
            raise result
        return result[node.actor.ledger_id]


def once_per_ledger(resolve):
    """A ledger field read one ledger at a time (limits.ONE_LEDGER_AT_A_TIME) is computed once per
    ledger node and arguments: the many transactions of a page share their `ledger`, so
    `transactions { nodes { ledger { category(id: 1) } } }` reads the category once."""

    def memoized(node: LedgerNode, info, **arguments):
        key = (info.field_name, repr(sorted(arguments.items())))
        if key not in node.memo:
            try:
                node.memo[key] = resolve(node, info, **arguments)
            except Exception as error:
                node.memo[key] = error
        if isinstance(node.memo[key], Exception):
            raise node.memo[key]
        return node.memo[key]

    return memoized


def item(kind: type[Schema], row: dict, actor: Actor, ledger: LedgerNode | None = None):
    """A row of what a ledger holds as a node that knows its ledger (for its `ledger` field)."""
    return ItemNode(dump(kind, row, actor), actor, ledger)


def items(kind: type[Schema], rows: list[dict], ledger: LedgerNode) -> list[ItemNode]:
    """Rows read under a ledger node, as nodes that know it."""
    actor = ledger.actor
    return [ItemNode(value, actor, ledger) for value in dump(kind, rows, actor, many=True)]


def owner_ledger(value: ItemNode, info) -> LedgerNode:
    """The `ledger` field of what a ledger holds: the node it was read under, or (for what a
    mutation answers) the ledger the mutation acted in."""
    return value.ledger if value.ledger is not None else info.context.ledger_node(value.actor)


def given(**arguments) -> dict:
    """GraphQL arguments as REST's query parameters: the ones given, by REST's names."""
    return {name: value for name, value in arguments.items() if value is not None}


def connection(edges: list[dict], next_cursor: str | None) -> dict:
    return {
        "edges": edges,
        "nodes": [edge["node"] for edge in edges],
        "pageInfo": {
            "hasNextPage": next_cursor is not None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }
