"""Reports: summary, category breakdown, budget usage and trends, computed exactly from the
repository's GROUP BY rows over a period (periods.py resolves what a client asked for).

Each report is read for one ledger (REST, GraphQL's `ledger(id)`) or for many at once
(`..._for_ledgers`: GraphQL's `ledgers { summary }`), each ledger with its own period (a default
month is the current month in that ledger's time zone) and its own currency: one statement for
all of them, the same figures as the one-ledger read of each.

With an analytics cache (passed by the door; None: none), each ledger's report is looked up
under that ledger's generation, read first, and what is missing is computed (in one statement)
and stored; see `_through_cache`."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from psycopg import Connection

from ..db.analytics_cache import AnalyticsCache, key
from ..domain import periods
from ..domain.money import percent
from ..ops import metrics
from ..repositories import budgets, reports
from .ledgers import Action, Actor, authorize_each
from .transactions import resolve_periods

ZERO = Decimal(0)
Compute = Callable[[list[Actor]], dict[int, dict]]


def _through_cache(
    conn: Connection,
    actors: list[Actor],
    cache: AnalyticsCache | None,
    report: str,
    params: dict[int, tuple],
    compute: Compute,
) -> dict[int, dict]:
    """Each ledger's report {ledger_id: report}: from the cache when it holds it for the
    ledger's current generation, else computed (all the misses at once) and stored. The
    generations are read BEFORE the reports, on the same connection (one statement for all the
    ledgers), so whatever is stored under one is at least as new as it (docs/ARCHITECTURE.md).
    Bypassed when this transaction has written (its uncommitted rows would be stored under a
    generation that does not include them), on a replica (fill and read from the primary only),
    for a ledger with no generation yet, and while Redis is failing."""

    def bypassed(missing: list[Actor]) -> dict[int, dict]:
        metrics.CACHE_LOOKUPS.labels(report=report, result="bypass").inc(len(missing))
        return compute(missing)

    if cache is None:
        return compute(actors)
    if not cache.usable():
        return bypassed(actors)
    states = reports.cache_states(conn, ledger_ids=[actor.ledger_id for actor in actors])
    answers: dict[int, dict] = {}
    uncached: list[Actor] = []  # computed, not stored
    missed: dict[int, str] = {}  # computed and stored under this name
    for actor in actors:
        state = states[actor.ledger_id]
        if state["generation"] is None or state["wrote"] or state["replica"]:
            uncached.append(actor)
            continue
        name = key(actor.ledger_id, state["generation"], report, params[actor.ledger_id])
        found = cache.get(name, report)
        if found is not None:
            metrics.CACHE_LOOKUPS.labels(report=report, result="hit").inc()
            answers[actor.ledger_id] = found
        elif not cache.usable():  # the lookup itself failed
            uncached.append(actor)
        else:
            missed[actor.ledger_id] = name
    misses = [actor for actor in actors if actor.ledger_id not in answers]
    if not misses:
        return answers
    if uncached:
        metrics.CACHE_LOOKUPS.labels(report=report, result="bypass").inc(len(uncached))
    computed = compute(misses)
    for ledger_id, name in missed.items():
        cache.set(name, computed[ledger_id])
        metrics.CACHE_LOOKUPS.labels(report=report, result="miss").inc()
    answers.update(computed)
    return {actor.ledger_id: answers[actor.ledger_id] for actor in actors}


def _rows(
    missing: list[Actor],
    one: Callable[[Actor], list[dict]],
    many: Callable[[list[Actor]], dict[int, list[dict]]],
) -> dict[int, list[dict]]:
    """The GROUP BY rows of each missing ledger: the one-ledger query for one, else the
    many-ledger query (one statement either way)."""
    if len(missing) == 1:
        return {missing[0].ledger_id: one(missing[0])}
    return many(missing)


def summary(
    conn: Connection, actor: Actor, query: dict, *, cache: AnalyticsCache | None = None
) -> dict:
    """`query`: a period, or a part of one, or nothing (the current month in the ledger's zone):
    see periods.resolve."""
    return summary_for_ledgers(conn, [actor], query, cache=cache)[actor.ledger_id]


def summary_for_ledgers(
    conn: Connection, actors: list[Actor], query: dict, *, cache: AnalyticsCache | None = None
) -> dict[int, dict]:
    authorize_each(actors, Action.READ)
    spans = resolve_periods(conn, actors, query)

    def compute(missing: list[Actor]) -> dict[int, dict]:
        rows = _rows(
            missing,
            lambda actor: reports.summary(
                conn, ledger_id=actor.ledger_id, period=spans[actor.ledger_id]
            ),
            lambda many: reports.summary_for_ledgers(conn, periods=_of(spans, many)),
        )
        return {a.ledger_id: _summary(rows[a.ledger_id], a, spans[a.ledger_id]) for a in missing}

    return _through_cache(conn, actors, cache, "summary", _params(spans), compute)


def _summary(rows: list[dict], actor: Actor, period: periods.Period) -> dict:
    by_type = {row["type"]: row["amount"] for row in rows}
    income, expense = by_type.get("INCOME", ZERO), by_type.get("EXPENSE", ZERO)
    return {
        "from_": period.start, "to": period.end, "currency": actor.currency,
        "total_income": income, "total_expense": expense, "savings": income - expense,
        "savings_rate": percent(income - expense, income),
    }  # fmt: skip


def category_breakdown(
    conn: Connection, actor: Actor, query: dict, *, cache: AnalyticsCache | None = None
) -> dict:
    return category_breakdown_for_ledgers(conn, [actor], query, cache=cache)[actor.ledger_id]


def category_breakdown_for_ledgers(
    conn: Connection, actors: list[Actor], query: dict, *, cache: AnalyticsCache | None = None
) -> dict[int, dict]:
    authorize_each(actors, Action.READ)
    spans = resolve_periods(conn, actors, query)

    def compute(missing: list[Actor]) -> dict[int, dict]:
        rows = _rows(
            missing,
            lambda actor: reports.category_breakdown(
                conn, ledger_id=actor.ledger_id, period=spans[actor.ledger_id]
            ),
            lambda many: reports.category_breakdown_for_ledgers(conn, periods=_of(spans, many)),
        )
        return {a.ledger_id: _category_breakdown(rows[a.ledger_id], spans[a.ledger_id])
                for a in missing}  # fmt: skip

    return _through_cache(conn, actors, cache, "category-breakdown", _params(spans), compute)


def _category_breakdown(rows: list[dict], period: periods.Period) -> dict:
    total = sum((row["amount"] for row in rows), ZERO)
    items = [{**row, "share": percent(row["amount"], total)} for row in rows]
    return {"from_": period.start, "to": period.end, "total": total, "items": items}


def budget_usage(
    conn: Connection, actor: Actor, query: dict, *, cache: AnalyticsCache | None = None
) -> dict:
    """`query`: month + year, month alone (of the current year), or nothing (the current
    month), "current" in the ledger's time zone."""
    return budget_usage_for_ledgers(conn, [actor], query, cache=cache)[actor.ledger_id]


def budget_usage_for_ledgers(
    conn: Connection, actors: list[Actor], query: dict, *, cache: AnalyticsCache | None = None
) -> dict[int, dict]:
    authorize_each(actors, Action.READ)
    months = {actor.ledger_id: _month(query, actor) for actor in actors}

    def compute(missing: list[Actor]) -> dict[int, dict]:
        rows = _rows(
            missing,
            lambda actor: reports.budget_usage(
                conn,
                ledger_id=actor.ledger_id,
                year=months[actor.ledger_id][0],
                month=months[actor.ledger_id][1],
            ),
            lambda many: reports.budget_usage_for_ledgers(conn, months=_of(months, many)),
        )
        carried = _carried(conn, [row for ledger_rows in rows.values() for row in ledger_rows])
        return {a.ledger_id: _budget_usage(rows[a.ledger_id], carried, *months[a.ledger_id])
                for a in missing}  # fmt: skip

    return _through_cache(conn, actors, cache, "budget-usage", months, compute)


def _month(query: dict, actor: Actor) -> tuple[int, int]:
    current = periods.current_month(actor.timezone).start
    return query.get("year", current.year), query.get("month", current.month)


def _carried(conn: Connection, rows: list[dict]) -> dict[int, Decimal]:
    """{budget id: what it carried} for the usage rows whose budget carries from the month
    before (rollover not `none`): their chains read in one statement (repositories/budgets)."""
    rolling = [row for row in rows if row["rollover"] != "none"]
    if not rolling:
        return {}
    scopes = [(row["ledger_id"], row["year"], row["month"], row["category_id"]) for row in rolling]
    # Each chain ends at the row's own month (read backwards only): its last month's carry.
    carried = {}
    for month in budgets.chains_for_ledgers(conn, scopes=scopes):
        carried[rolling[month["scope_no"] - 1]["budget_id"]] = month["carried"]
    return carried


def _budget_usage(rows: list[dict], carried: dict[int, Decimal], year: int, month: int) -> dict:
    items = []
    for row in rows:
        brought = carried.get(row["budget_id"], Decimal(0))
        available = row["budget"] + brought
        items.append(
            {
                **row,
                "carried": brought,
                "available": available,
                "remaining": available - row["spent"],
                # Against what is available; none when nothing is (a deficit carried in).
                "percent_used": percent(row["spent"], available) if available > 0 else None,
            }
        )
    return {"month": month, "year": year, "items": items}


def trends(
    conn: Connection, actor: Actor, query: dict, *, cache: AnalyticsCache | None = None
) -> dict:
    """`query`: from_ + to, from_ alone (to today), to alone (from the ledger's first
    transaction), or `months` (default 12) up to the current month."""
    return trends_for_ledgers(conn, [actor], query, cache=cache)[actor.ledger_id]


def trends_for_ledgers(
    conn: Connection, actors: list[Actor], query: dict, *, cache: AnalyticsCache | None = None
) -> dict[int, dict]:
    authorize_each(actors, Action.READ)
    if "from_" in query or "to" in query:
        spans = resolve_periods(conn, actors, query)
    else:
        spans = {a.ledger_id: periods.last_months(query.get("months", 12), a.timezone)
                 for a in actors}  # fmt: skip

    def compute(missing: list[Actor]) -> dict[int, dict]:
        rows = _rows(
            missing,
            lambda actor: reports.trends(
                conn, ledger_id=actor.ledger_id, period=spans[actor.ledger_id]
            ),
            lambda many: reports.trends_for_ledgers(conn, periods=_of(spans, many)),
        )
        return {a.ledger_id: _trends(rows[a.ledger_id]) for a in missing}

    return _through_cache(conn, actors, cache, "trends", _params(spans), compute)


def _trends(rows: list[dict]) -> dict:
    return {"items": [{**row, "savings": row["income"] - row["expense"]} for row in rows]}


def _params(spans: dict[int, periods.Period]) -> dict[int, tuple]:
    """Each ledger's period as its cache key's parameters."""
    return {ledger_id: (period.start, period.end) for ledger_id, period in spans.items()}


def _of(values: dict, actors: list[Actor]) -> dict:
    return {actor.ledger_id: values[actor.ledger_id] for actor in actors}
