"""What a GraphQL request may ask, checked before anything runs (no database work for a refused
one): the document's size, the operations in a batch, the depth of a selection and its cost.

- A document (the `query` text) of at most 10 kB (MAX_DOCUMENT_BYTES, UTF-8).
- At most 5 operations in a batch (a JSON array of requests).
- Selections at most 10 fields deep; introspection fields (`__schema`, `__type`, `__typename`)
  and what is below them do not count.
- A cost of at most 10,000 (MAX_COST), computed by ariadne's cost rule from COST_MAP: about the
  number of objects the operation can answer. Every field that reads an object costs 1; a list
  costs its size and multiplies the cost of everything below it by that size: a connection
  (`transactions`, `notifications`, `occurrences`, `deliveries`, `changes`) its `first`, a list
  cut by an argument (LIMITED_LISTS: `payees`) that argument, any other list its maximum size
  (LIST_SIZES: the real maximum where the service has one, 10 webhooks a ledger; an assumed size
  for costing where it has none, 100 categories a ledger).
  Each cost is multiplied by the sizes of every list it sits in. So the dashboard's query costs
  about a hundred, one page of 500 transactions about 1,500, a connection inside a connection's
  nodes 250,000, and categories inside categories (`categories { ledger { categories ... } }`)
  10,000 per level: refused, however few categories the ledger really has.
"""

from __future__ import annotations

from functools import cache

from ariadne.validation import cost_validator
from graphql import (
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
)
from graphql.language import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.validation import ValidationRule

from ...services import rates, rules
from ...services.ledgers import MAX_LEDGERS_PER_USER
from ...services.transactions import MAX_LINES
from ...services.webhooks import endpoints as webhooks

MAX_DOCUMENT_BYTES = 10 * 1024
MAX_BATCH = 5
MAX_DEPTH = 10
MAX_COST = 10_000
CONNECTIONS = {
    ("Ledger", "transactions"),
    ("Query", "notifications"),
    ("RecurringRule", "occurrences"),
    ("Webhook", "deliveries"),
    ("Ledger", "changes"),
}


# Lists cut by an argument of theirs: each costs that argument (its default when not given), as a
# connection its `first`.
LIMITED_LISTS = {("Ledger", "payees"): "limit"}


def refusal(message: str, code: str, **extensions) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extensions})


def document_too_large(query: str) -> GraphQLError | None:
    size = len(query.encode("utf-8", "surrogatepass"))
    if size <= MAX_DOCUMENT_BYTES:
        return None
    return refusal(
        f"The document is {size} bytes; at most {MAX_DOCUMENT_BYTES} are accepted.",
        "query_too_large",
        limit=MAX_DOCUMENT_BYTES,
    )


def batch_too_large(size: int) -> GraphQLError | None:
    if size <= MAX_BATCH:
        return None
    return refusal(
        f"The batch holds {size} operations; at most {MAX_BATCH} are accepted.",
        "batch_too_large",
        limit=MAX_BATCH,
    )


# The most items a list (other than a connection) can hold, for its cost. Where the service has a
# maximum, it is that one; where it has none (a ledger may hold any number of categories), the
# size assumed for costing (docs/GRAPHQL.md, "Cost"): the list is not cut to it, a query asking
# for it is only priced as if it held that many.
LIST_SIZES = {
    ("Query", "ledgers"): MAX_LEDGERS_PER_USER,  # the most a user may belong to
    ("Query", "invitations"): 25,  # assumed: the caller's pending invitations
    ("Ledger", "categories"): 100,  # assumed
    ("Ledger", "budgets"): 100,  # assumed
    ("Ledger", "members"): 25,  # assumed
    ("Ledger", "invitations"): 25,  # assumed
    ("Ledger", "recurring"): 100,  # assumed
    ("Ledger", "webhooks"): webhooks.MAX_PER_LEDGER,  # the service's maximum (10)
    ("Ledger", "tags"): 100,  # assumed
    ("Ledger", "rules"): rules.MAX_PER_LEDGER,  # the service's maximum (500)
    ("RatePage", "items"): 500,  # a page's most (limit)
    ("RateList", "items"): rates.MAX_ITEMS,  # what putRates may write (5,000)
    ("CategoryBreakdown", "items"): 100,  # one per category, as categories
    ("BudgetUsage", "items"): 100,  # one per budget of the month, as budgets
    ("Trends", "items"): 120,  # one per month: `months` is at most 120 (assumed for from/to)
    ("Transaction", "splits"): MAX_LINES,  # the service's maximum (50)
    # a write fires at most the threshold and the limit alert of each category's budget it
    # raises (one, or one per split line) and of the month's overall budget
    ("TransactionResult", "alerts"): 2 * (MAX_LINES + 1),
    ("BudgetResult", "alerts"): 4,
}


@cache
def _cost_map(schema: GraphQLSchema) -> dict[str, dict[str, dict]]:
    return cost_map(schema)


def cost_map(schema: GraphQLSchema) -> dict[str, dict[str, dict]]:
    """Each field reading an object or a list: its complexity 1 and what it multiplies (a
    connection's `first`, another list's size). A connection's `edges` and `nodes` hold `first`
    items, already counted by the connection: they multiply nothing more."""
    costs: dict[str, dict[str, dict]] = {}
    for type_name, kind in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(kind, GraphQLObjectType):
            continue
        for field_name, field in kind.fields.items():
            if is_leaf_type(get_named_type(field.type)):
                continue
            cost: dict = {"complexity": 1}
            if (type_name, field_name) in CONNECTIONS:
                cost["multipliers"] = ["first"]
            elif (type_name, field_name) in LIMITED_LISTS:
                cost["multipliers"] = [LIMITED_LISTS[(type_name, field_name)]]
            elif is_list_type(get_nullable_type(field.type)) and not _in_connection(
                type_name, field_name
            ):
                if (type_name, field_name) not in LIST_SIZES:
                    raise LookupError(f"{type_name}.{field_name} is a list: size it in LIST_SIZES")
                cost["size"] = LIST_SIZES[(type_name, field_name)]
            costs.setdefault(type_name, {})[field_name] = cost
    return costs


def _in_connection(type_name: str, field_name: str) -> bool:
    return type_name.endswith("Connection") and field_name in {"edges", "nodes"}


# Ledger fields read one ledger at a time (a service call each). Under `ledgers` they would cost a
# statement per ledger, so they are refused there: ask them of `ledger(id)`. A ledger's lists,
# contents, members and reports are batched (one statement per level for all the listed ledgers)
# and may be asked under `ledgers`.
ONE_LEDGER_AT_A_TIME = frozenset(
    {"invitations", "category", "transaction", "budget", "recurring", "recurringRule", "rules",
     "rates", "webhooks", "webhook", "changes"}
)  # fmt: skip
# Fields read one item at a time (a service call each): refused below the list that holds the
# items. Ask them of the item read by id (`recurringRule(id)`, `webhook(id)`).
ONE_ITEM_AT_A_TIME = {
    "recurring": frozenset({"occurrences", "preview"}),
    "webhooks": frozenset({"deliveries"}),
}


class OneLedgerAtATime(ValidationRule):
    """Refuses ONE_LEDGER_AT_A_TIME fields anywhere below `ledgers`, and ONE_ITEM_AT_A_TIME
    fields below their list (fragments followed)."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_):
        ledger = self.context.schema.get_type("Ledger")
        for selection in self._root_fields(node.selection_set, frozenset()):
            if selection.name.value == "ledgers":
                found = self._find_ledger_field(selection.selection_set, ledger, frozenset())
                if found is not None:
                    self._refuse(found, "ledger", "ledger(id: ...)", "ledgers")

    def enter_field(self, node: FieldNode, *_):
        names = ONE_ITEM_AT_A_TIME.get(node.name.value)
        if names and node.selection_set:
            found = self._find(node.selection_set, frozenset(), names)
            if found is not None:
                one = "recurringRule" if node.name.value == "recurring" else "webhook"
                self._refuse(found, "item", f"{one}(id: ...)", node.name.value)

    def _refuse(self, found: FieldNode, unit: str, where: str, below: str) -> None:
        name = found.name.value
        self.report_error(
            GraphQLError(
                f"`{name}` is read one {unit} at a time: ask it of `{where}`, not below "
                f"`{below}` (that would cost a statement per {unit}).",
                found,
                extensions={
                    "code": "validation_error",
                    "status": 422,
                    "errors": {"query": [f"{name}: not below {below}"]},
                },
            )
        )

    def _root_fields(self, selections: SelectionSetNode, seen: frozenset[str]):
        """The operation's top fields, through fragments spread at the top."""
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from self._root_fields(selection.selection_set, seen)
            elif selection.name.value not in seen:
                fragment = self.context.get_fragment(selection.name.value)
                if fragment:
                    names = seen | {selection.name.value}
                    yield from self._root_fields(fragment.selection_set, names)

    def _find_ledger_field(self, selections: SelectionSetNode | None, parent, seen: frozenset[str]):
        """The first ONE_LEDGER_AT_A_TIME field of a Ledger in the selections (of type `parent`),
        at any depth: only a Ledger's (a report's `category` is a name, not a read)."""
        schema = self.context.schema
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if parent.name == "Ledger" and name in ONE_LEDGER_AT_A_TIME:
                    return selection
                field = getattr(parent, "fields", {}).get(name)
                if field is None:  # __typename, or unknown (FieldsOnCorrectType reports it)
                    continue
                found = self._find_ledger_field(
                    selection.selection_set, get_named_type(field.type), seen
                )
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                kind = schema.get_type(condition.name.value) if condition else parent
                found = self._find_ledger_field(selection.selection_set, kind or parent, seen)
            else:
                name = selection.name.value
                fragment = self.context.get_fragment(name) if name not in seen else None
                kind = schema.get_type(fragment.type_condition.name.value) if fragment else None
                found = (
                    self._find_ledger_field(fragment.selection_set, kind, seen | {name})
                    if fragment and kind
                    else None
                )
            if found is not None:
                return found
        return None

    def _find(self, selections: SelectionSetNode | None, seen: frozenset[str], names):
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                if selection.name.value in names:
                    return selection
                found = self._find(selection.selection_set, seen, names)
            elif isinstance(selection, InlineFragmentNode):
                found = self._find(selection.selection_set, seen, names)
            else:
                name = selection.name.value
                fragment = self.context.get_fragment(name) if name not in seen else None
                found = (
                    self._find(fragment.selection_set, seen | {name}, names) if fragment else None
                )
            if found is not None:
                return found
        return None


class DepthLimit(ValidationRule):
    """Refuses an operation whose selections nest deeper than MAX_DEPTH fields."""

    def __init__(self, context):
        super().__init__(context)
        self._fragment_depths: dict[str, int] = {}

    def enter_operation_definition(self, node: OperationDefinitionNode, *_):
        depth = self._depth(node.selection_set, frozenset())
        if depth > MAX_DEPTH:
            name = f" {node.name.value}" if node.name else ""
            self.report_error(
                GraphQLError(
                    f"The operation{name} nests {depth} fields deep; at most {MAX_DEPTH} are "
                    "accepted.",
                    node,
                    extensions={"code": "query_too_deep", "limit": MAX_DEPTH},
                )
            )

    def _depth(self, selections: SelectionSetNode | None, seen: frozenset[str]) -> int:
        """How many fields deep the selections go (fragments followed once per path)."""
        if selections is None:
            return 0
        deepest = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue  # introspection does not count
                deepest = max(deepest, 1 + self._depth(selection.selection_set, seen))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, self._depth(selection.selection_set, seen))
            elif isinstance(selection, FragmentSpreadNode):
                deepest = max(deepest, self._fragment_depth(selection.name.value, seen))
        return deepest

    def _fragment_depth(self, name: str, seen: frozenset[str]) -> int:
        if name in seen:  # a cycle: NoFragmentCycles reports it
            return 0
        if name not in self._fragment_depths:
            fragment = self.context.get_fragment(name)
            depth = self._depth(fragment.selection_set, seen | {name}) if fragment else 0
            self._fragment_depths[name] = depth
        return self._fragment_depths[name]


def cost_rule(schema: GraphQLSchema, variables: dict | None):
    """ariadne's cost rule with our map, limit, variables and error."""
    base = cost_validator(
        MAX_COST, default_cost=0, variables=variables or {}, cost_map=_cost_map(schema)
    )

    class CostLimit(base):  # type: ignore[misc, valid-type]
        def get_args_from_cost_map(self, node, parent_type, field_args):
            """A list's size multiplies what is below it, as a connection's `first` does."""
            args = super().get_args_from_cost_map(node, parent_type, field_args)
            if args is not None and "size" in args:
                args["multipliers"] = [args.pop("size")]
            return args

        def get_cost_exceeded_error(self) -> GraphQLError:
            return refusal(
                f"The operation costs {self.cost}; at most {MAX_COST} is accepted (a list "
                "costs its size, a connection's `first` or another list's maximum, and "
                "multiplies what is inside it: see docs/GRAPHQL.md, Cost).",
                "query_too_complex",
                cost=self.cost,
                limit=MAX_COST,
            )

    return CostLimit
