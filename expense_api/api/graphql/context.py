"""What every resolver shares for one request: the request's connection, the caller, who they
act as in each ledger, the batched loaders, and how rows become REST's shapes.

Shapes: rows are dumped through the REST API's own marshmallow schemas (api/schemas), under the
acting ledger's currency, so GraphQL's values are REST's values (money strings with the
currency's digits, YYYY-MM-DD dates, UTC timestamps with Z, camelCase names). Inputs are loaded
through REST's input schemas, so validation (and its messages) is REST's.

Batching: a ledger shown in a list carries the list (`_siblings`). The first nested list field
asked of any of them (its categories, budgets, transactions page, members) is loaded for all of
them in one statement and kept; the others take their part of it. One statement per level,
however many ledgers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, ValidationError
from marshmallow.experimental.context import Context
from psycopg import Connection

from ...errors import ValidationFailed
from ...services import ledgers
from ...services.ledgers import Actor
from ..common import default_actor
from ..problems import flatten_messages
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

    def ledger_nodes(self, rows: list[dict]) -> list[dict]:
        """Ledger rows (as a member sees them) as Ledger nodes sharing one sibling list."""
        siblings: list[dict] = []
        for row in rows:
            actor = Actor(self.user["id"], row["id"], row["role"], row["currency"], row["timezone"])
            self._actors.setdefault(row["id"], actor)
            node = {**dump(LedgerSchema, row, actor), "_actor": actor, "_siblings": siblings}
            siblings.append(node)
        return siblings

    def ledger_node(self, actor: Actor) -> dict:
        """The Ledger node of the ledger an actor acts in (one statement, kept per request)."""
        key = ("ledger", actor.ledger_id)
        if key not in self._batches:
            self._batches[key] = {0: self.ledger_nodes([ledgers.get(self.conn, actor)])[0]}
        return self._batches[key][0]  # type: ignore[index]

    def batch(self, key: tuple, node: dict, load_all: Callable[[list[Actor]], dict[int, Any]]):
        """node's part of a result loaded once for all its siblings: load_all(actors) answers
        {ledger_id: value}. A failure is kept too, and raised for each sibling."""
        key = (*key, id(node["_siblings"]))
        if key not in self._batches:
            try:
                self._batches[key] = load_all([n["_actor"] for n in node["_siblings"]])
            except Exception as error:
                self._batches[key] = error
        result = self._batches[key]
        if isinstance(result, BaseException):
            raise result
        return result[node["_actor"].ledger_id]


def item(value: dict, actor: Actor, ledger: dict | None = None) -> dict:
    """A dumped row that knows its ledger (for its `ledger` field)."""
    return {**value, "_actor": actor, "_ledger": ledger}


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
