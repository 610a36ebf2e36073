"""Realistic demo data, fast: users with categories, years of seasonal income and expenses
loaded with COPY (most expenses with a payee, some grocery receipts split with household goods,
some rows tagged), and budgets. Used by `expense-api seed` and the benchmarks.

Totals upkeep is deferred while loading and rebuilt exactly for the loaded users in the same
transaction (repositories/totals.py rebuild_for_ledgers), so the data is consistent the moment it
commits. So is the change log: the ledger and its owner are logged as registration logs them,
and what the load wrote behind the hook's back (categories, the COPY's transactions, budgets)
gets its `created` entries in bulk before the commit (services/changes/hook.py,
record_created_in_bulk), by the demo user, through the CLI's door.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from psycopg import Connection
from tqdm import tqdm

from .db.sqlfiles import queries
from .repositories import totals
from .services import ledgers
from .services.auth.passwords import PasswordHasher
from .services.changes import door, hook

DEMO_PASSWORD = "demo-password"

# name: (share of expense transactions, typical amount, spread, descriptions)
EXPENSES = {
    "Groceries": (0.30, 45, 0.6, ["Weekly groceries", "Supermarket", "Farmers market", "Bakery"]),
    "Dining": (0.16, 28, 0.7, ["Lunch", "Dinner out", "Coffee", "Takeaway"]),
    "Transport": (0.14, 18, 0.8, ["Metro card", "Fuel", "Taxi", "Parking"]),
    "Shopping": (0.10, 60, 1.0, ["Clothes", "Electronics", "Home goods", "Books"]),
    "Entertainment": (0.08, 35, 0.8, ["Cinema", "Concert", "Streaming", "Games"]),
    "Utilities": (0.06, 90, 0.3, ["Electricity", "Water", "Internet", "Phone"]),
    "Health": (0.05, 55, 0.9, ["Pharmacy", "Doctor", "Gym", "Dentist"]),
    "Travel": (0.04, 240, 1.0, ["Flights", "Hotel", "Train tickets", "Car rental"]),
    "Education": (0.03, 80, 0.7, ["Course", "Textbooks", "Workshop", "Tuition"]),
    "Rent": (0.04, 1400, 0.05, ["Monthly rent"]),
}
# Who is paid, by category (most expenses name one).
PAYEES = {
    "Groceries": ["FreshMart", "Corner Market", "City Bakery", "Green Grocer"],
    "Dining": ["Luigi's", "Noodle Bar", "Bean There Cafe", "Burger Hub"],
    "Transport": ["Metro", "QuickFuel", "City Cabs", "ParkRight"],
    "Shopping": ["Mega Store", "Book Nook", "TechWorld"],
    "Entertainment": ["Cineplex", "StreamFlix", "Arena Tickets"],
    "Utilities": ["PowerCo", "AquaWorks", "NetLink", "CallMore"],
    "Health": ["Pharma Plus", "Dr. Reyes", "FitGym"],
    "Travel": ["SkyAir", "Harbor Hotel", "RailWays"],
    "Education": ["Learnly", "Campus Books"],
    "Rent": ["Oak Street Lettings"],
}
PAYEE_SHARE = 0.7
# Tags by category, each on one in `every` of the category's transactions.
TAGS = {"Travel": ("vacation", 2), "Dining": ("with friends", 5), "Health": ("reimbursable", 3)}
SPLIT_EVERY = 9  # about one in 9 large grocery receipts includes household goods
INCOME = {
    "Salary": ["Monthly salary"],
    "Freelance": ["Client invoice", "Consulting", "Side project"],
}
# The categories every seeded ledger gets, in this order (so in id order in a fresh database).
CATEGORIES = (*EXPENSES, *INCOME, "Household")
# Spending by month of the year: December gifts, summer travel, a quiet February.
SEASON = [1.0, 0.85, 0.95, 1.0, 1.0, 1.1, 1.25, 1.2, 1.0, 1.0, 1.05, 1.4]
INCOME_SHARE = 0.06


@dataclass(frozen=True)
class SeededUser:
    id: int
    email: str
    transactions: int
    ledger_id: int  # their default ledger, which holds the data


def _months_back(end: date, years: int) -> date:
    return date(end.year - years, end.month, 1)


def _amount(rng: random.Random, typical: float, spread: float, month: int) -> Decimal:
    value = typical * SEASON[month - 1] * rng.lognormvariate(0, spread) if spread else typical
    return max(Decimal("0.01"), Decimal(str(round(value, 2))))


def _rows(rng, names_rng, ledger_id, user_id, categories, count, first, last, payees):
    """`count` transactions between first and last: steady income, seasonal expenses, most
    expenses with a payee (drawn from `names_rng`, a generator of its own, so the amounts and
    dates of a seed stay what they were before payees existed)."""
    span = (last - first).days + 1
    names = list(EXPENSES)
    weights = [EXPENSES[name][0] for name in names]
    for _ in range(count):
        day = first + timedelta(days=rng.randrange(span))
        if rng.random() < INCOME_SHARE:
            name = "Salary" if rng.random() < 0.6 else "Freelance"
            typical = 4200 if name == "Salary" else 650
            amount = _amount(rng, typical, 0.1 if name == "Salary" else 0.6, 1)
            description = rng.choice(INCOME[name])
            yield (ledger_id, categories[name], "INCOME", amount, description, day, user_id, None)
            continue
        name = rng.choices(names, weights)[0]
        _, typical, spread, descriptions = EXPENSES[name]
        amount = _amount(rng, typical, spread, day.month)
        description = rng.choice(descriptions)
        payee = None
        if names_rng.random() < PAYEE_SHARE:
            payee = payees[names_rng.choice(PAYEES[name])]
        yield (ledger_id, categories[name], "EXPENSE", amount, description, day, user_id, payee)


def _create_user(conn: Connection, password_hash: str, label: str) -> tuple[dict, int, dict]:
    """A demo user with their default ledger and its categories: (user, ledger id, categories)."""
    email = f"demo-{label}-{uuid.uuid4().hex[:8]}@example.com"
    user = queries.users.insert(
        conn, name=f"Demo {label}", email=email, password_hash=password_hash, currency="USD",
        timezone="UTC",
    )  # fmt: skip
    ledger_id = ledgers.create_default(conn, user)["id"]
    categories = {
        name: queries.categories.insert(conn, ledger_id=ledger_id, name=name)["id"]
        for name in CATEGORIES
    }
    return user, ledger_id, categories


def _payees(conn: Connection, ledger_id: int) -> dict[str, int]:
    names = [name for names in PAYEES.values() for name in names]
    rows = queries.demo.insert_payees(conn, ledger_id=ledger_id, names=names)
    return {row["name"]: row["id"] for row in rows}


def _splits_and_tags(conn: Connection, ledger_id: int, categories: dict) -> None:
    """Some grocery receipts split with household goods; tags on some categories' rows."""
    queries.demo.split_receipts(
        conn, ledger_id=ledger_id, first=categories["Groceries"],
        second=categories["Household"], every=SPLIT_EVERY,
    )  # fmt: skip
    for name, (tag, every) in TAGS.items():
        queries.demo.tag_by_category(
            conn, ledger_id=ledger_id, category_id=categories[name], tag=tag, every=every
        )


def _budgets(conn: Connection, rng: random.Random, ledger_id: int, categories: dict, end: date,
             monthly_spend: float) -> None:  # fmt: skip
    month = date(end.year, end.month, 1)
    for _ in range(12):
        overall = Decimal(str(round(monthly_spend * 1.15, 2)))
        queries.budgets.upsert(
            conn, ledger_id=ledger_id, category_id=None, year=month.year, month=month.month,
            amount=overall, mode="soft", alert_threshold=80, rollover=None,
        )  # fmt: skip
        for name in ("Groceries", "Dining", "Entertainment"):
            share = EXPENSES[name][0]
            amount = Decimal(str(round(monthly_spend * share * 1.2, 2)))
            queries.budgets.upsert(
                conn, ledger_id=ledger_id, category_id=categories[name], year=month.year,
                month=month.month, amount=amount, mode=rng.choice(["hard", "soft"]),
                alert_threshold=rng.choice([75, 80, 90]),
                # Groceries carries what a month leaves over into the next.
                rollover="surplus" if name == "Groceries" else None,
            )  # fmt: skip
        month = (month - timedelta(days=1)).replace(day=1)


def seed(
    conn: Connection,
    per_user: list[int],
    *,
    years: int = 3,
    end: date | None = None,
    rng_seed: int = 42,
    label: str = "user",
    progress: bool = True,
    bcrypt_rounds: int = 10,
    budgets: bool = True,
) -> list[SeededUser]:
    """Creates one user per entry of `per_user` with that many transactions (and a year of
    budgets unless `budgets` is False). The caller owns the connection; each user is committed
    on its own, so a long seed can be interrupted safely. Whoever runs it (`expense-api seed`,
    a benchmark), it is the CLI's write."""
    rng = random.Random(rng_seed)  # noqa: S311 - demo data, repeatable by seed; not security
    names_rng = random.Random(-rng_seed - 1)  # noqa: S311 - the same, for payees
    end = end or datetime.now(UTC).date()
    first = _months_back(end, years)
    password_hash = PasswordHasher(bcrypt_rounds).hash(DEMO_PASSWORD)
    seeded = []
    bar = tqdm(total=sum(per_user), unit="tx", disable=not progress, desc="seeding")
    for index, count in enumerate(per_user):
        with door.through("cli"), conn.transaction():
            queries.totals.defer_for_transaction(conn)
            user, ledger_id, categories = _create_user(conn, password_hash, f"{label}{index}")
            payees = _payees(conn, ledger_id)
            columns = (
                "ledger_id, category_id, type, amount, description, occurred_on, created_by,"
                " payee_id"
            )
            with conn.cursor().copy(f"COPY transactions ({columns}) FROM STDIN") as copy:
                for written, row in enumerate(
                    _rows(
                        rng, names_rng, ledger_id, user["id"], categories, count, first, end, payees
                    ),
                    1,
                ):
                    copy.write_row(row)
                    if written % 10_000 == 0:
                        bar.update(10_000)
                bar.update(count % 10_000)
            _splits_and_tags(conn, ledger_id, categories)
            totals.rebuild_for_ledgers(conn, [ledger_id])
            if budgets:
                months = max(1, years * 12)
                monthly_spend = count * (1 - INCOME_SHARE) * 60 / months  # about 60 per expense
                _budgets(conn, rng, ledger_id, categories, end, monthly_spend)
            log_bulk_load(conn, user["id"], ledger_id)
        seeded.append(SeededUser(user["id"], user["email"], count, ledger_id))
    bar.close()
    return seeded


def log_bulk_load(conn: Connection, user_id: int, ledger_id: int) -> None:
    """The change log's `created` entries for what a load wrote into the ledger without the
    hook (its categories, transactions, budgets and recurring rules), by the user, in the
    caller's transaction: the seeders' last step before their commit."""
    actor = ledgers.actor_in(conn, user_id=user_id, ledger_id=ledger_id)
    for entity in ("category", "transaction", "budget", "recurring"):
        hook.record_created_in_bulk(conn, actor, entity)
