"""Rules: a ledger's ordered list of "when a row looks like this, set its category, payee and
tags" (../shared/API.md, "Import and export"). The import preview asks `domain.rules.first_match`
of the list; `apply` runs one rule over existing transactions.

Positions run 1..n without gaps, in the order the rules are tried. Creating a rule at a position
(default: last) moves the rules from there on down by one; moving one (PATCH `position`) shifts
those in between; deleting one closes its gap. A position past the end is the end. Every rule
whose position changes that way changed its REST shape, so it is logged `updated` too. The
ledger's row is locked for each write of its rules, so two writes at once cannot both take the
same position.

`apply` changes each matching transaction through `transactions.update`, the one path of every
change to a transaction (budget enforcement, the change log, webhooks): a hard budget's refusal
leaves that transaction as it was and is counted in `refused`. A split transaction's lines are
left alone: a rule's category is not given to it (its payee and tags are). A rule's tags are
added to those a transaction carries: a rule never takes a tag away.
"""

from __future__ import annotations

from psycopg import Connection

from ..domain import rules as matching
from ..domain.errors import Conflict, NotFound, found
from ..repositories import rules
from . import budget_guard, transactions
from .changes import hook
from .ledgers import Action, Actor, authorize

MAX_PER_LEDGER = 500


class TooManyRules(Conflict):
    code = "too_many_rules"


def list_all(conn: Connection, actor: Actor) -> list[dict]:
    """The ledger's rules in the order they are tried (position 1 first)."""
    authorize(actor, Action.READ)
    return rules.list_for_ledger(conn, ledger_id=actor.ledger_id)


def get(conn: Connection, actor: Actor, rule_id: int) -> dict:
    authorize(actor, Action.READ)
    return found(rules.get(conn, ledger_id=actor.ledger_id, rule_id=rule_id), "rule")


def create(conn: Connection, actor: Actor, values: dict) -> dict:
    """values: {"match", "set", "position"?} as the schema loads them (match and set in their
    REST shape: camelCase keys, amounts as Decimals)."""
    authorize(actor, Action.WRITE)
    _lock(conn, actor)
    count = rules.count_for_ledger(conn, ledger_id=actor.ledger_id)
    if count >= MAX_PER_LEDGER:
        raise TooManyRules(f"A ledger has at most {MAX_PER_LEDGER} rules.")
    position = min(values.get("position") or count + 1, count + 1)
    moved = rules.shift(conn, ledger_id=actor.ledger_id, first=position, last=count, step=1)
    row = rules.insert(
        conn,
        ledger_id=actor.ledger_id,
        position=position,
        match=values["match"],
        set_=values["set"],
    )
    _record_moved(conn, actor, moved, step=1)
    hook.record(conn, actor, "rule", "created", after=hook.render(actor, "rule", row))
    return row


def update(conn: Connection, actor: Actor, rule_id: int, changes: dict) -> dict:
    """changes: any of "position", "match", "set"; match and set each replace the old one."""
    authorize(actor, Action.WRITE)
    _lock(conn, actor)
    old = get(conn, actor, rule_id)
    count = rules.count_for_ledger(conn, ledger_id=actor.ledger_id)
    position = min(changes.get("position") or old["position"], count)
    moved: list[dict] = []
    step = 0
    if position < old["position"]:
        step = 1
        moved = rules.shift(
            conn,
            ledger_id=actor.ledger_id,
            first=position,
            last=old["position"] - 1,
            step=step,
            except_id=rule_id,
        )
    elif position > old["position"]:
        step = -1
        moved = rules.shift(
            conn,
            ledger_id=actor.ledger_id,
            first=old["position"] + 1,
            last=position,
            step=step,
            except_id=rule_id,
        )
    row = rules.update(
        conn,
        ledger_id=actor.ledger_id,
        rule_id=rule_id,
        position=position,
        match=changes.get("match", old["match"]),
        set_=changes.get("set", old["set"]),
    )
    _record_moved(conn, actor, moved, step=step)
    hook.record(
        conn,
        actor,
        "rule",
        "updated",
        before=hook.render(actor, "rule", old),
        after=hook.render(actor, "rule", row),
    )
    return row


def delete(conn: Connection, actor: Actor, rule_id: int) -> None:
    authorize(actor, Action.WRITE)
    _lock(conn, actor)
    deleted = found(rules.delete(conn, ledger_id=actor.ledger_id, rule_id=rule_id), "rule")
    moved = rules.shift(
        conn,
        ledger_id=actor.ledger_id,
        first=deleted["position"] + 1,
        last=2**31 - 1,
        step=-1,
    )
    hook.record(conn, actor, "rule", "deleted", before=hook.render(actor, "rule", deleted))
    _record_moved(conn, actor, moved, step=-1)


def apply(
    conn: Connection,
    actor: Actor,
    rule_id: int,
    *,
    period_filter: dict,
    only_uncategorized: bool = True,
) -> dict:
    """Runs the rule over the ledger's transactions of a period (the transaction list's
    filters: transactions.resolve_period): {"changed": n, "refused": n}. only_uncategorized:
    only those whose category is the ledger's category named Uncategorized (none such: 0)."""
    authorize(actor, Action.WRITE)
    rule = get(conn, actor, rule_id)
    only_category = None
    if only_uncategorized:
        only_category = rules.uncategorized_id(conn, ledger_id=actor.ledger_id)
        if only_category is None:
            return {"changed": 0, "refused": 0}
    period = transactions.resolve_period(conn, actor, period_filter)
    candidates = rules.transactions_to_apply(
        conn,
        ledger_id=actor.ledger_id,
        date_from=period.start,
        date_to=period.end,
        only_category=only_category,
    )
    changed = refused = 0
    for candidate in candidates:
        if not matching.matches(rule["match"], candidate):
            continue
        changes = _changes(rule["set"], candidate)
        if not changes:
            continue
        try:
            with conn.transaction():  # a savepoint: a refused change leaves nothing behind
                transactions.update(conn, actor, candidate["id"], changes)
        except budget_guard.BudgetExceeded:
            refused += 1
        except NotFound:  # deleted since it was listed
            continue
        else:
            changed += 1
    return {"changed": changed, "refused": refused}


def _changes(set_: dict, transaction: dict) -> dict:
    """What the rule's `set` changes in the transaction (empty: nothing): its category (not a
    split one's), its payee, the tags it lacks (compared case-insensitively)."""
    changes: dict = {}
    category_id = set_.get("categoryId")
    split = transaction["category_id"] is None
    if category_id is not None and not split and category_id != transaction["category_id"]:
        changes["category_id"] = category_id
    payee = set_.get("payee")
    if payee is not None and (transaction["payee"] or "").casefold() != payee.casefold():
        changes["payee"] = payee
    tags = list(transaction["tags"] or [])
    known = {tag.casefold() for tag in tags}
    added = [tag for tag in set_.get("tags") or () if tag.casefold() not in known]
    if added and len(tags) + len(added) <= transactions.MAX_TAGS:
        changes["tags"] = tags + added
    return changes


def _lock(conn: Connection, actor: Actor) -> None:
    if not rules.lock_ledger(conn, ledger_id=actor.ledger_id):
        raise NotFound("No such ledger.")


def _record_moved(conn: Connection, actor: Actor, moved: list[dict], *, step: int) -> None:
    """An `updated` entry for each rule a write moved by `step` (its REST shape's position)."""
    for row in moved:
        before = {**row, "position": row["position"] - step}
        hook.record(
            conn,
            actor,
            "rule",
            "updated",
            before=hook.render(actor, "rule", before),
            after=hook.render(actor, "rule", row),
        )
