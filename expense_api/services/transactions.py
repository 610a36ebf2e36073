"""Income and expenses: recording, listing, changing and deleting them. The category (or each
split line's) must be the ledger's own, a split's lines sum exactly to its amount, and every
write that can raise spending passes the budget guard in the same database transaction first.

A transaction in another currency than its ledger's records its rate (given, or the ledger's
rate of its date) and its `ledger_amount`, converted once, half up (domain/currencies.py); its
lines get shares of that by the largest remainder. Budgets, totals and reports count the ledger
amounts only."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from decimal import Decimal

from psycopg import Connection

from ..db.pool import Batch, Pending
from ..domain import periods
from ..domain.currencies import ConversionError, allocate, convert
from ..domain.errors import ValidationFailed, found
from ..domain.money import AmountError, check_digits
from ..repositories import rates, totals, transactions
from ..repositories.integrity import category_must_exist, no_such_category
from ..repositories.transactions import FIELDS
from . import alerts, budget_guard
from .changes import hook
from .ledgers import Action, Actor, authorize

# A split transaction has 2 to 50 lines; a transaction at most 20 tags.
MIN_LINES, MAX_LINES = 2, 50
MAX_TAGS = 20


class SplitsMismatch(ValidationFailed):
    code = "splits_mismatch"


class RateUnknown(ValidationFailed):
    code = "rate_unknown"


def create(conn: Connection, actor: Actor, values: dict) -> dict:
    """The new transaction, recorded by the actor, with the alerts it fired."""
    authorize(actor, Action.WRITE)
    new = _whole({**values, "category_id": values.get("category_id")}, actor)
    new = _converted(conn, actor, new)
    # One round trip: the new row's id and names; the budget rule (locks, spending, decision,
    # alerts: budget_guard), whose refusal stops everything after it; the row with its payee,
    # tags and lines; its change-log entry (rendered by the database: the id is not back yet).
    # Nothing is written after it unless the ledger has webhooks (the alerts' events), so the
    # batch ends the work, and the door's COMMIT goes with it when the door allows it
    # (database.Batch); this service never commits.
    allocated = None
    with (
        budget_guard.refusals(actor),
        category_must_exist(),
        _categories_named_first(new, lambda: allocated),
        Batch(conn, ends_work=not actor.has_webhooks) as batch,
    ):
        allocated = transactions.allocate_later(
            batch,
            ledger_id=actor.ledger_id,
            category_id=new["category_id"],
            split_category_ids=[line["category_id"] for line in new["splits"]],
            created_by=actor.user_id,
            payee=new["payee"],
            tags=new["tags"],
        )
        check = budget_guard.check_later(batch, actor, old=None, new=new)
        transactions.insert_later(
            batch, ledger_id=actor.ledger_id, row=new, created_by=actor.user_id
        )
        hook.record_new_transaction_later(batch, actor, new["currency"])
    fresh = allocated.value()
    row = {
        **{field: new[field] for field in FIELDS},
        "id": fresh["id"],
        "category": fresh["category"],
        "created_at": fresh["created_at"],
        "created_by": {"id": actor.user_id, "name": fresh["created_by_name"]},
        # The names as the ledger already has them (a new one keeps the case given).
        "payee": fresh["payee"] or new["payee"],
        "tags": _sorted(fresh["tags"]),
        "splits": [
            {**line, "category": name}
            for line, name in zip(new["splits"], fresh["split_categories"], strict=True)
        ],
        "ledger_amount": new["ledger_amount"],
    }
    return {**row, "alerts": alerts.announce(conn, actor, check.fired())}


@contextlib.contextmanager
def _categories_named_first(new: dict, allocated: Callable[[], Pending | None]) -> Iterator[None]:
    """When a batch holding allocate_later fails (a budget's refusal, a foreign key) and its
    allocation shows a category the ledger lacks, the answer is that 422, naming the field:
    a wrong category is a 422 before any 409."""
    try:
        yield
    except Exception:
        pending = allocated()
        try:
            fresh = None if pending is None else pending.value()
        except Exception:  # the allocation itself did not run: nothing to name
            fresh = None
        if fresh is not None:
            if new["category_id"] is not None and fresh["category"] is None:
                raise no_such_category() from None
            _lines_must_exist(new["splits"], fresh["split_categories"])
        raise


def get(conn: Connection, actor: Actor, transaction_id: int) -> dict:
    authorize(actor, Action.READ)
    row = transactions.get(conn, ledger_id=actor.ledger_id, transaction_id=transaction_id)
    return found(row, "transaction")


def update(conn: Connection, actor: Actor, transaction_id: int, changes: dict) -> dict:
    """The changed transaction with the alerts it fired. `splits` replaces the lines as a
    whole (the category becomes null); `category_id` makes a split transaction a single one."""
    authorize(actor, Action.WRITE)
    old = _locked(conn, actor, transaction_id)
    new = _whole({**old, **_moved(old, changes)}, actor)
    new = _converted(conn, actor, new)
    # Lines are rewritten when given, when the category replaces them, and when their shares
    # of the ledger amount move (a new amount, rate or currency).
    splits_changed = (
        "splits" in changes
        or new["category_id"] != old["category_id"]
        or _line_values(new) != _line_values(old)
    )
    tags_changed = "tags" in changes
    names = _category_names(conn, actor, old, new)
    if new["category_id"] is not None and new["category_id"] not in names:
        raise no_such_category()
    _lines_must_exist(new["splits"], [names.get(line["category_id"]) for line in new["splits"]])
    fired = budget_guard.check(conn, actor, old=old, new=new)
    # Checked above for a clear answer before any 409, and by the foreign keys for a category
    # deleted in between. The change reaches the totals in several statements (the row, then
    # its lines): their rows are locked first, in the one order every writer takes them.
    with category_must_exist(), Batch(conn) as batch:
        totals.lock_later(batch, ledger_id=actor.ledger_id, keys=_totals_keys(old, new))
        written = transactions.update_later(
            batch,
            ledger_id=actor.ledger_id,
            row=new,
            splits_changed=splits_changed,
            tags_changed=tags_changed,
        )
    row = written.value()
    hook.record(
        conn,
        actor,
        "transaction",
        "updated",
        before=hook.render(actor, "transaction", old),
        after=hook.render(actor, "transaction", row),
    )
    # The change first, then the alerts it fired (their webhook events in that order, as create's).
    return {**row, "alerts": alerts.announce(conn, actor, fired)}


def delete(conn: Connection, actor: Actor, transaction_id: int) -> None:
    authorize(actor, Action.WRITE)
    # Deleting only lowers spending: no budget can block it, no alert can fire.
    deleted = _locked(conn, actor, transaction_id)
    with Batch(conn) as batch:
        transactions.delete_later(batch, ledger_id=actor.ledger_id, transaction_id=transaction_id)
        before = hook.render(actor, "transaction", deleted)
        hook.record_later(batch, actor, "transaction", "deleted", before=before)


def _locked(conn: Connection, actor: Actor, transaction_id: int) -> dict:
    """The transaction as get() shows it (the change log's `before`), locked until the end of
    the database transaction; 404 when the ledger has none with that id."""
    with Batch(conn) as batch:
        pending = transactions.lock_and_get_later(
            batch, ledger_id=actor.ledger_id, transaction_id=transaction_id
        )
    return found(pending.value(), "transaction")


def _moved(old: dict, changes: dict) -> dict:
    """The changes, with what they imply: lines given clear the category, a category given
    clears the lines (null lines are no change); a new currency without a rate drops the
    recorded rate (the ledger's of the date is looked up), otherwise the rate stays."""
    changes = dict(changes)
    if "currency" in changes and "rate" not in changes and changes["currency"] != old["currency"]:
        changes["rate"] = None
    if changes.get("splits") is None:
        changes.pop("splits", None)
    if changes.get("splits"):
        changes["category_id"] = None
    elif "category_id" in changes:
        changes["splits"] = []
    return changes


def _whole(values: dict, actor: Actor) -> dict:
    """A transaction's whole new state from validated input: no payee, tags or lines when
    none are given, a repeated tag once (the first spelling), lines that sum exactly to the
    amount (else 422 splits_mismatch) when there are any, amounts with no more digits than
    their currency has, and `currency` None for the ledger's own (a rate only for another)."""
    lines = [
        {
            "category_id": line["category_id"],
            "amount": Decimal(line["amount"]),
            "memo": line.get("memo"),
        }
        for line in values.get("splits") or ()
    ]
    if values.get("category_id") is None and not lines:
        raise ValidationFailed(
            {"categoryId": ["Give a category, or splits for a split transaction."]}
        )
    amount = Decimal(values["amount"])
    currency, rate = values.get("currency"), values.get("rate")
    if currency == actor.currency:
        currency = None
    if currency is None and rate is not None and rate != 1:
        raise ValidationFailed(
            {"rate": [f"A rate is for a currency other than the ledger's ({actor.currency})."]}
        )
    # Each amount's own digits first (a line's digits named on the line), then their sum.
    _digits_must_fit(amount, lines, currency or actor.currency)
    if lines and sum(line["amount"] for line in lines) != amount:
        total = sum(line["amount"] for line in lines)
        raise SplitsMismatch(
            {"splits": [f"The lines sum to {total}; the amount is {amount}."]},
            "The split lines must sum exactly to the transaction's amount.",
        )
    tags: dict[str, str] = {}
    for tag in values.get("tags") or ():
        tags.setdefault(tag.lower(), tag)
    return {
        **values,
        "amount": amount,
        "splits": lines,
        "tags": list(tags.values()),
        "payee": values.get("payee"),
        "currency": currency,
        "rate": rate if currency is not None else None,
    }


def _digits_must_fit(amount: Decimal, lines: list[dict], currency: str) -> None:
    errors = {}
    for field, value in [("amount", amount)] + [
        (f"splits.{index}.amount", line["amount"]) for index, line in enumerate(lines)
    ]:
        try:
            check_digits(value, currency)
        except AmountError as error:
            errors[field] = [str(error)]
    if errors:
        raise ValidationFailed(errors)


def _converted(conn: Connection, actor: Actor, state: dict) -> dict:
    """The state with its ledger amounts: its own in the ledger's currency, else converted at
    its rate (the ledger's rate of its date when it has none: 422 rate_unknown without one),
    its lines given their shares."""
    lines = state["splits"]
    if state["currency"] is None:
        return {
            **state,
            "ledger_amount": state["amount"],
            "splits": [{**line, "ledger_amount": line["amount"]} for line in lines],
        }
    rate = state["rate"]
    if rate is None:
        rate = rates.rate_on(
            conn, ledger_id=actor.ledger_id, currency=state["currency"], day=state["occurred_on"]
        )
        if rate is None:
            raise RateUnknown(
                {
                    "rate": [
                        f"The ledger has no {state['currency']} rate on or before "
                        f"{state['occurred_on']}: give `rate`, or add the ledger's rates "
                        f"(PUT /api/ledgers/{actor.ledger_id}/rates/{state['currency']})."
                    ]
                },
                f"No {state['currency']} rate for {state['occurred_on']}.",
            )
    try:
        ledger_amount = convert(state["amount"], rate, actor.currency)
    except ConversionError as error:
        raise ValidationFailed({"amount": [str(error)]}) from None
    shares = allocate(ledger_amount, [line["amount"] for line in lines], actor.currency)
    zero = [f"splits.{index}.amount" for index, share in enumerate(shares) if share <= 0]
    if zero:
        raise ValidationFailed(
            {field: [f"Converts to zero in {actor.currency}."] for field in zero},
            "Every split line needs a share of the converted amount.",
        )
    return {
        **state,
        "rate": rate,
        "ledger_amount": ledger_amount,
        "splits": [
            {**line, "ledger_amount": share} for line, share in zip(lines, shares, strict=True)
        ],
    }


def _line_values(state: dict) -> list[tuple]:
    return [
        (line["category_id"], Decimal(line["amount"]), Decimal(line["ledger_amount"]), line["memo"])
        for line in state["splits"]
    ]


def _category_names(conn: Connection, actor: Actor, old: dict, new: dict) -> dict[int, str]:
    """{id: name} of the categories the new state names (read only when they changed)."""
    wanted = {line["category_id"] for line in new["splits"]}
    if new["category_id"] is not None:
        wanted.add(new["category_id"])
    known = {line["category_id"]: line["category"] for line in old["splits"]}
    if old["category_id"] is not None:
        known[old["category_id"]] = old["category"]
    if wanted <= known.keys():
        return known
    return transactions.category_names(conn, ledger_id=actor.ledger_id, ids=sorted(wanted))


def _totals_keys(*states: dict) -> list[tuple]:
    """The totals keys (day, category id, type) the states count under: a transaction's
    category, or its lines' categories."""
    return sorted(
        {
            (state["occurred_on"], category_id, state["type"])
            for state in states
            for category_id in (
                [line["category_id"] for line in state["splits"]] or [state["category_id"]]
            )
        }
    )


def _lines_must_exist(lines: list[dict], names: list[str | None]) -> None:
    missing = {
        f"splits.{index}.categoryId": ["No such category."]
        for index, name in enumerate(names)
        if name is None
    }
    if missing:
        raise ValidationFailed(missing)


def _sorted(tags: list[str]) -> list[str]:
    """Tags in the order the REST shape shows them (the view's: by name, ignoring case)."""
    return sorted(tags, key=lambda tag: (tag.lower(), tag))


def resolve_period(conn: Connection, actor: Actor, query: dict) -> periods.Period:
    """The period a validated query asks for, in the actor's ledger's time zone (periods.resolve);
    a `to` alone starts at the ledger's first transaction, read only then."""
    return periods.resolve(
        query,
        actor.timezone,
        first_date=lambda: transactions.first_date(conn, ledger_id=actor.ledger_id),
    )


def list_page(
    conn: Connection, actor: Actor, *, period_filter: dict, limit: int, after=None, **filters
) -> list[dict]:
    """Up to `limit` rows of a period (see resolve_period), newest date first, after a keyset
    position (date, id)."""
    authorize(actor, Action.READ)
    period = resolve_period(conn, actor, period_filter)
    return transactions.list_page(
        conn,
        ledger_id=actor.ledger_id,
        date_from=period.start,
        date_to=period.end,
        limit=limit,
        after=after,
        **filters,
    )


def pages_for_ledgers(
    conn: Connection,
    actors: list[Actor],
    *,
    period_filter: dict,
    limit: int,
    after=None,
    **filters,
) -> dict[int, list[dict]]:
    """list_page for each actor's ledger in one statement ({ledger_id: rows}): each actor
    authorized as list_page authorizes it, the period resolved in each ledger's time zone
    (resolve_periods; a `to` alone starts at each ledger's own first transaction), the same
    order, cursor and filters."""
    for actor in actors:
        authorize(actor, Action.READ)
    spans = {
        ledger_id: (period.start, period.end)
        for ledger_id, period in resolve_periods(conn, actors, period_filter).items()
    }
    return transactions.pages_for_ledgers(conn, periods=spans, limit=limit, after=after, **filters)


def resolve_periods(
    conn: Connection, actors: list[Actor], query: dict
) -> dict[int, periods.Period]:
    """resolve_period for each actor's ledger ({ledger_id: period}), each in its own time zone;
    when a `to` alone needs the ledgers' first transactions, they are read in one statement for
    all of them."""
    firsts: dict = {}  # {ledger_id: its first transaction's date or None}, read once if needed

    def first_date_of(ledger_id: int):
        if not firsts:
            ids = [actor.ledger_id for actor in actors]
            firsts.update(transactions.first_dates(conn, ledger_ids=ids))
        return firsts[ledger_id]

    return {
        actor.ledger_id: periods.resolve(
            query,
            actor.timezone,
            first_date=lambda ledger_id=actor.ledger_id: first_date_of(ledger_id),
        )
        for actor in actors
    }
