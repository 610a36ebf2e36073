"""/api/ledgers/{id}/rules: a ledger's ordered rules (positions 1..n without gaps), who may read
and write them, each validation rule, `apply` over existing transactions (its counts, the
Uncategorized default, split transactions, hard budgets) and the rules in delta sync."""

from __future__ import annotations

import time

import pytest

from expense_api.services import rules as rules_service
from tests.factories import category, ledger, member, record, save
from tests.helpers import assert_problem

COFFEE = {"match": {"payee": {"contains": "coffee"}}, "set": {"payee": "Coffee Shop"}}


def base(user) -> str:
    return f"/api/ledgers/{user.ledger_id}/rules"


def create(user, body=None, **fields) -> dict:
    response = user.post(base(user), json={**(body or COFFEE), **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def listed(user) -> list[tuple[int, int]]:
    """(position, id) of the ledger's rules, as the list gives them."""
    response = user.get(base(user))
    assert response.status_code == 200, response.get_json()
    return [(rule["position"], rule["id"]) for rule in response.get_json()["items"]]


def apply(user, rule_id: int, **query):
    return user.post(f"{base(user)}/{rule_id}/apply", query_string=query)


# --- The resource -------------------------------------------------------------------------------


def test_a_rule_is_created_read_changed_and_deleted(alice):
    food = category(alice, "Food")
    body = {
        "match": {
            "payee": {"regex": r"^(amzn|amazon)\b"},
            "description": {"equals": " Order "},
            "amountMin": "1.5",
            "amountMax": 200,
            "type": "EXPENSE",
        },
        "set": {"categoryId": food, "payee": "Amazon", "tags": ["online", "Online", "shop"]},
    }
    rule = create(alice, body)
    assert set(rule) == {"id", "position", "match", "set", "createdAt"}
    assert rule["position"] == 1
    assert rule["match"] == {
        "payee": {"regex": r"^(amzn|amazon)\b"},
        "description": {"equals": "Order"},  # trimmed
        "amountMin": "1.50",  # the currency's digits
        "amountMax": "200.00",
        "type": "EXPENSE",
    }
    assert rule["set"] == {"categoryId": food, "payee": "Amazon", "tags": ["online", "shop"]}
    assert alice.get(f"{base(alice)}/{rule['id']}").get_json() == rule

    changed = alice.patch(
        f"{base(alice)}/{rule['id']}", json={"set": {"tags": ["web"]}, "match": {"type": "INCOME"}}
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["match"] == {"type": "INCOME"}  # replaced whole
    assert changed.get_json()["set"] == {"categoryId": None, "payee": None, "tags": ["web"]}

    assert alice.delete(f"{base(alice)}/{rule['id']}").status_code == 204
    assert_problem(alice.get(f"{base(alice)}/{rule['id']}"), 404, "not_found")
    assert_problem(alice.delete(f"{base(alice)}/{rule['id']}"), 404, "not_found")
    assert listed(alice) == []


def test_positions_stay_one_to_n_through_inserts_moves_and_deletes(alice):
    a, b, c = (create(alice)["id"] for _ in range(3))
    assert listed(alice) == [(1, a), (2, b), (3, c)]
    d = create(alice, position=2)["id"]  # in between: b and c move down
    assert listed(alice) == [(1, a), (2, d), (3, b), (4, c)]
    e = create(alice, position=99)["id"]  # past the end: last
    assert listed(alice) == [(1, a), (2, d), (3, b), (4, c), (5, e)]

    moved = alice.patch(f"{base(alice)}/{c}", json={"position": 1})
    assert moved.status_code == 200 and moved.get_json()["position"] == 1
    assert listed(alice) == [(1, c), (2, a), (3, d), (4, b), (5, e)]
    alice.patch(f"{base(alice)}/{a}", json={"position": 4})
    assert listed(alice) == [(1, c), (2, d), (3, b), (4, a), (5, e)]
    alice.patch(f"{base(alice)}/{d}", json={"position": 50})  # past the end: last
    assert listed(alice) == [(1, c), (2, b), (3, a), (4, e), (5, d)]

    assert alice.delete(f"{base(alice)}/{b}").status_code == 204
    assert listed(alice) == [(1, c), (2, a), (3, e), (4, d)]
    assert alice.delete(f"{base(alice)}/{d}").status_code == 204
    assert listed(alice) == [(1, c), (2, a), (3, e)]


def test_a_ledger_has_at_most_so_many_rules(alice, monkeypatch):
    monkeypatch.setattr(rules_service, "MAX_PER_LEDGER", 2)
    create(alice)
    create(alice)
    assert_problem(alice.post(base(alice), json=COFFEE), 409, "too_many_rules")


def test_a_category_a_rule_sets_is_in_use(alice):
    food = category(alice, "Food")
    create(alice, {"match": {"type": "EXPENSE"}, "set": {"categoryId": food}})
    assert_problem(alice.delete(f"/api/categories/{food}"), 409, "category_in_use")


# --- Validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"set": {"payee": "X"}}, "match"),
        ({"match": {"type": "EXPENSE"}}, "set"),
        ({"match": {}, "set": {"payee": "X"}}, "match"),
        ({"match": {"type": "EXPENSE"}, "set": {}}, "set"),
        ({"match": {"payee": {}}, "set": {"payee": "X"}}, "match.payee"),
        ({"match": {"payee": {"contains": "a", "equals": "a"}}, "set": {"payee": "X"}},
         "match.payee"),
        ({"match": {"payee": {"like": "a"}}, "set": {"payee": "X"}}, "match.payee.like"),
        ({"match": {"payee": {"regex": "(a"}}, "set": {"payee": "X"}}, "match.payee.regex"),
        ({"match": {"payee": {"regex": r"(\w)\1"}}, "set": {"payee": "X"}}, "match.payee.regex"),
        ({"match": {"payee": {"regex": "a" * 201}}, "set": {"payee": "X"}}, "match.payee.regex"),
        ({"match": {"description": {"regex": "(?=x)"}}, "set": {"payee": "X"}},
         "match.description.regex"),
        ({"match": {"description": {"contains": " "}}, "set": {"payee": "X"}},
         "match.description.contains"),
        ({"match": {"amountMin": "5", "amountMax": "4"}, "set": {"payee": "X"}},
         "match.amountMin"),
        ({"match": {"amountMin": "1.234"}, "set": {"payee": "X"}}, "match.amountMin"),
        ({"match": {"amountMax": "0"}, "set": {"payee": "X"}}, "match.amountMax"),
        ({"match": {"amountMax": "-3"}, "set": {"payee": "X"}}, "match.amountMax"),
        ({"match": {"type": "TRANSFER"}, "set": {"payee": "X"}}, "match.type"),
        ({"match": {"colour": "red"}, "set": {"payee": "X"}}, "match.colour"),
        ({"match": {"type": "EXPENSE"}, "set": {"payee": None}}, "set.payee"),
        ({"match": {"type": "EXPENSE"}, "set": {"payee": "x" * 201}}, "set.payee"),
        ({"match": {"type": "EXPENSE"}, "set": {"tags": []}}, "set.tags"),
        ({"match": {"type": "EXPENSE"}, "set": {"tags": [f"t{n}" for n in range(21)]}},
         "set.tags"),
        ({"match": {"type": "EXPENSE"}, "set": {"categoryId": "1"}}, "set.categoryId"),
        ({**COFFEE, "position": 0}, "position"),
    ],
)  # fmt: skip
def test_each_validation_rule_names_its_field(alice, body, field):
    problem = assert_problem(alice.post(base(alice), json=body), 422, "validation_error")
    assert field in problem["errors"], problem["errors"]
    assert listed(alice) == []


def test_a_category_of_another_ledger_is_refused_on_set_category_id(alice, bob):
    theirs = category(bob, "Theirs")
    body = {"match": {"type": "EXPENSE"}, "set": {"categoryId": theirs}}
    problem = assert_problem(alice.post(base(alice), json=body), 422, "validation_error")
    assert problem["errors"] == {"set.categoryId": ["No such category."]}
    rule = create(alice)
    patched = alice.patch(f"{base(alice)}/{rule['id']}", json={"set": {"categoryId": theirs}})
    assert assert_problem(patched, 422)["errors"] == {"set.categoryId": ["No such category."]}


def test_a_change_must_change_something(alice):
    rule = create(alice)
    assert_problem(alice.patch(f"{base(alice)}/{rule['id']}", json={}), 422, "validation_error")
    bad = alice.patch(f"{base(alice)}/{rule['id']}", json={"match": {"payee": {"regex": "["}}})
    assert "match.payee.regex" in assert_problem(bad, 422)["errors"]
    assert alice.get(f"{base(alice)}/{rule['id']}").get_json() == rule


# --- Who may -----------------------------------------------------------------------------------


def test_without_a_token_every_route_is_401(client, alice):
    rule = create(alice)
    prefix = base(alice)
    for method, path in [
        ("GET", prefix),
        ("POST", prefix),
        ("GET", f"{prefix}/{rule['id']}"),
        ("PATCH", f"{prefix}/{rule['id']}"),
        ("DELETE", f"{prefix}/{rule['id']}"),
        ("POST", f"{prefix}/{rule['id']}/apply"),
    ]:
        assert_problem(client.open(path, method=method, json={}), 401)


def test_another_users_ledger_and_rules_do_not_exist_for_them(alice, bob):
    rule = create(alice)
    prefix = f"/api/ledgers/{alice.ledger_id}/rules"
    assert_problem(bob.get(prefix), 404, "not_found")
    assert_problem(bob.post(prefix, json=COFFEE), 404, "not_found")
    assert_problem(bob.get(f"{prefix}/{rule['id']}"), 404)
    assert_problem(bob.patch(f"{prefix}/{rule['id']}", json={"position": 1}), 404)
    assert_problem(bob.delete(f"{prefix}/{rule['id']}"), 404)
    assert_problem(bob.post(f"{prefix}/{rule['id']}/apply"), 404)
    # Nor in their own ledger, by id.
    assert_problem(bob.get(f"{base(bob)}/{rule['id']}"), 404)
    assert_problem(bob.post(f"{base(bob)}/{rule['id']}/apply"), 404)
    assert listed(alice) == [(1, rule["id"])]


def test_a_viewer_reads_the_rules_and_changes_none(alice, bob, conn):
    shared = ledger(conn, alice)
    member(conn, shared, bob, "viewer")
    prefix = f"/api/ledgers/{shared}/rules"
    made = alice.post(prefix, json=COFFEE)
    assert made.status_code == 201, made.get_json()
    rule = made.get_json()
    assert bob.get(prefix).get_json()["items"] == [rule]
    assert bob.get(f"{prefix}/{rule['id']}").get_json() == rule
    assert_problem(bob.post(prefix, json=COFFEE), 403, "forbidden")
    assert_problem(bob.patch(f"{prefix}/{rule['id']}", json={"position": 1}), 403, "forbidden")
    assert_problem(bob.delete(f"{prefix}/{rule['id']}"), 403, "forbidden")
    assert_problem(bob.post(f"{prefix}/{rule['id']}/apply"), 403, "forbidden")
    conn.execute(
        "UPDATE ledger_members SET role = 'editor' WHERE ledger_id = %s AND user_id = %s",
        (shared, bob.id),
    )
    assert bob.post(prefix, json=COFFEE).status_code == 201  # an editor writes


# --- apply ---------------------------------------------------------------------------------------


@pytest.fixture
def groceries(alice):
    """alice's ledger with Food, Uncategorized and Rent, and March's transactions: three
    uncategorized (two at the supermarket), one supermarket one in Rent, one in February."""
    ids = {name: category(alice, name) for name in ("Food", "UNCATEGORIZED", "Rent")}
    loose = ids["UNCATEGORIZED"]
    made = {
        "market": record(alice, loose, "12.00", payee="SuperMarket", date="2026-03-02"),
        "market2": record(alice, loose, "30.00", payee="supermarket", date="2026-03-20"),
        "other": record(alice, loose, "5.00", payee="Kiosk", date="2026-03-03"),
        "filed": record(alice, ids["Rent"], "7.00", payee="SuperMarket", date="2026-03-04"),
        "february": record(alice, loose, "9.00", payee="SuperMarket", date="2026-02-10"),
    }
    return ids, made


def _category_of(user, transaction) -> int | None:
    return user.get(f"/api/transactions/{transaction['id']}").get_json()["categoryId"]


def test_apply_changes_the_uncategorized_matches_of_the_period(alice, groceries):
    ids, made = groceries
    rule = create(
        alice,
        {"match": {"payee": {"equals": "supermarket"}}, "set": {"categoryId": ids["Food"]}},
    )
    response = apply(alice, rule["id"], month=3, year=2026)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"changed": 2, "refused": 0}
    assert _category_of(alice, made["market"]) == ids["Food"]
    assert _category_of(alice, made["market2"]) == ids["Food"]
    assert _category_of(alice, made["other"]) == ids["UNCATEGORIZED"]  # no match
    assert _category_of(alice, made["filed"]) == ids["Rent"]  # not uncategorized
    assert _category_of(alice, made["february"]) == ids["UNCATEGORIZED"]  # another month
    # Run again: nothing left to change.
    assert apply(alice, rule["id"], month=3, year=2026).get_json() == {"changed": 0, "refused": 0}
    # From and to, as the transaction list's.
    assert apply(alice, rule["id"], **{"from": "2026-02-01", "to": "2026-02-28"}).get_json() == {
        "changed": 1,
        "refused": 0,
    }


def test_apply_over_every_transaction_and_its_amount_bounds(alice, groceries):
    ids, made = groceries
    rule = create(
        alice,
        {"match": {"payee": {"contains": "market"}, "amountMax": "12"},
         "set": {"categoryId": ids["Food"], "tags": ["Groceries"]}},
    )  # fmt: skip
    answer = apply(alice, rule["id"], year=2026, onlyUncategorized="false").get_json()
    assert answer == {"changed": 3, "refused": 0}  # 12.00, 7.00 (in Rent) and 9.00
    assert _category_of(alice, made["filed"]) == ids["Food"]
    assert _category_of(alice, made["market2"]) == ids["UNCATEGORIZED"]  # 30.00: above
    shown = alice.get(f"/api/transactions/{made['february']['id']}").get_json()
    assert shown["tags"] == ["Groceries"]


def test_apply_without_an_uncategorized_category_changes_nothing(alice):
    food = category(alice, "Food")
    record(alice, food, payee="SuperMarket")
    rule = create(alice, {"match": {"payee": {"contains": "market"}}, "set": {"payee": "M"}})
    assert apply(alice, rule["id"], month=3, year=2026).get_json() == {"changed": 0, "refused": 0}
    everything = apply(alice, rule["id"], month=3, year=2026, onlyUncategorized="false")
    assert everything.get_json() == {"changed": 1, "refused": 0}


def test_a_split_transaction_keeps_its_lines_and_gets_the_payee_and_tags(alice):
    food, home = category(alice, "Food"), category(alice, "Home")
    body = {
        "amount": "10.00",
        "type": "EXPENSE",
        "date": "2026-03-05",
        "payee": "Mall",
        "splits": [{"categoryId": food, "amount": "4"}, {"categoryId": home, "amount": "6"}],
    }
    split = alice.post("/api/transactions", json=body).get_json()  # fmt: skip
    only_category = create(
        alice, {"match": {"payee": {"equals": "mall"}}, "set": {"categoryId": food}}
    )
    answer = apply(alice, only_category["id"], month=3, year=2026, onlyUncategorized="false")
    assert answer.get_json() == {"changed": 0, "refused": 0}
    everything = create(
        alice,
        {"match": {"payee": {"equals": "mall"}},
         "set": {"categoryId": food, "payee": "City Mall", "tags": ["weekend"]}},
    )  # fmt: skip
    answer = apply(alice, everything["id"], month=3, year=2026, onlyUncategorized="false")
    assert answer.get_json() == {"changed": 1, "refused": 0}
    shown = alice.get(f"/api/transactions/{split['id']}").get_json()
    assert shown["splits"] == split["splits"] and shown["categoryId"] is None
    assert (shown["payee"], shown["tags"]) == ("City Mall", ["weekend"])


def test_a_hard_budget_refuses_some_changes_and_the_rest_are_made(alice, groceries):
    ids, made = groceries
    assert save(alice, categoryId=ids["Food"], amount="20.00", mode="hard").status_code == 201
    rule = create(
        alice, {"match": {"payee": {"contains": "market"}}, "set": {"categoryId": ids["Food"]}}
    )
    answer = apply(alice, rule["id"], month=3, year=2026).get_json()
    # 12.00 fits Food's 20.00; then 30.00 would take it to 42.00: refused, left as it was.
    assert answer == {"changed": 1, "refused": 1}
    assert _category_of(alice, made["market"]) == ids["Food"]
    assert _category_of(alice, made["market2"]) == ids["UNCATEGORIZED"]


def test_apply_takes_the_period_filters_and_nothing_else(alice):
    rule = create(alice)
    for query in ({"month": 13}, {"month": 3, "year": 2026, "from": "2026-03-01"},
                  {"from": "2026-03-02", "to": "2026-03-01"}, {"colour": "red"}):  # fmt: skip
        assert_problem(apply(alice, rule["id"], **query), 422, "validation_error")
    assert_problem(apply(alice, rule["id"] + 1000), 404, "not_found")


@pytest.mark.timeout(30)
def test_a_catastrophic_pattern_does_not_hang_apply(alice):
    loose = category(alice, "Uncategorized")
    for _ in range(20):
        record(alice, loose, description="a" * 50 + "b")
    rule = create(alice, {"match": {"description": {"regex": "(a+)+$"}}, "set": {"payee": "X"}})
    started = time.perf_counter()
    assert apply(alice, rule["id"], month=3, year=2026).get_json() == {"changed": 0, "refused": 0}
    assert time.perf_counter() - started < 5


# --- Sync ----------------------------------------------------------------------------------------


def test_rules_are_in_sync_and_a_moved_rule_is_sent_again(alice):
    path = f"/api/ledgers/{alice.ledger_id}/sync"
    a, b = create(alice), create(alice)
    state = alice.get(path).get_json()
    assert state["rules"] == alice.get(base(alice)).get_json()["items"]
    knowledge = state["knowledge"]

    c = create(alice, position=1)  # a and b move down
    delta = alice.get(path, query_string={"since": knowledge}).get_json()
    assert sorted(rule["id"] for rule in delta["rules"]) == sorted([a["id"], b["id"], c["id"]])
    assert {rule["id"]: rule["position"] for rule in delta["rules"]} == {
        c["id"]: 1,
        a["id"]: 2,
        b["id"]: 3,
    }

    assert alice.delete(f"{base(alice)}/{c['id']}").status_code == 204
    delta = alice.get(path, query_string={"since": delta["knowledge"]}).get_json()
    assert delta["deleted"] == [{"entity": "rule", "id": c["id"]}]
    assert {rule["id"]: rule["position"] for rule in delta["rules"]} == {a["id"]: 1, b["id"]: 2}


# --- At an import's preview ---------------------------------------------------------------------


def test_an_imports_rows_get_what_the_first_matching_rule_sets(alice, monkeypatch):
    """The real rules (REST) through the import service's preview: the first matching rule by
    position wins; a row no rule matches keeps no category (Uncategorized at the commit)."""
    import io

    from tests.imports.tiny_reader import install

    install(monkeypatch)
    food, fun = category(alice, "Food"), category(alice, "Fun")
    create(alice, {"match": {"payee": {"regex": "^corner"}, "amountMax": "100"},
                   "set": {"categoryId": food, "tags": ["groceries"]}})  # fmt: skip
    create(alice, {"match": {"payee": {"contains": "market"}}, "set": {"categoryId": fun}},
           position=1)  # fmt: skip
    create(alice, {"match": {"type": "INCOME"}, "set": {"payee": "Employer"}})
    data = b"2026-03-02,-12.50,Corner Market\n2026-03-03,2500,ACME Payroll\n2026-03-04,-4.20,Cafe\n"
    upload = alice.post(
        f"/api/ledgers/{alice.ledger_id}/imports",
        data={"file": (io.BytesIO(data), "bank.csv")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201, upload.get_json()
    rows = alice.get(
        f"/api/ledgers/{alice.ledger_id}/imports/{upload.get_json()['id']}/rows"
    ).get_json()["items"]
    assert [(row["payee"], row["categoryId"]) for row in rows] == [
        ("Corner Market", fun),  # the rule at position 1, not the corner rule
        ("Employer", None),
        ("Cafe", None),
    ]
