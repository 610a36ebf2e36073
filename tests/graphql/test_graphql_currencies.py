"""Parity for several currencies (../shared/API.md "Several currencies"): createTransaction and
updateTransaction with `currency` and `rate` give the transaction REST gives for the same
body, and each refusal (rate_unknown, a bad rate, a rate for the ledger's own currency, digits
the currency lacks, an unknown currency, a conversion to zero, a line without a share) is the
same code, status and `errors` both ways, with nothing written."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.factories import category, graphql, graphql_codes

TX_FIELDS = (
    "id amount type categoryId category description date createdAt createdBy { id name }"
    " payee tags splits { categoryId category amount memo ledgerAmount } currency rate ledgerAmount"
)
CREATE = (
    "mutation($i: TransactionInput!) { createTransaction(input: $i) {"
    f" transaction {{ {TX_FIELDS} }} }} }}"
)
UPDATE = (
    "mutation($id: Int!, $i: TransactionPatch!) { updateTransaction(id: $id, input: $i) {"
    f" transaction {{ {TX_FIELDS} }} }} }}"
)
# What differs between two transactions made the same way.
OWN = ("id", "createdAt", "alerts")


def _same(rest: dict, graphql_node: dict) -> None:
    strip = lambda body: {k: v for k, v in body.items() if k not in OWN}  # noqa: E731
    assert strip(graphql_node) == strip(rest)


def _add_rate(conn, user, currency: str, day: str, rate: str) -> None:
    conn.execute(
        "INSERT INTO ledger_rates (ledger_id, currency, day, rate) VALUES (%s, %s, %s, %s)",
        (user.ledger_id, currency, day, Decimal(rate)),
    )


def _count(conn, user) -> int:
    return conn.execute(
        "SELECT count(*) FROM transactions WHERE ledger_id = %s", (user.ledger_id,)
    ).fetchone()[0]


def _create_both(user, body: dict) -> tuple[dict, dict]:
    rest = user.post("/api/transactions", json=body)
    assert rest.status_code == 201, rest.get_json()
    answer = graphql(user, CREATE, {"i": body})
    assert "errors" not in answer, answer
    return rest.get_json(), answer["data"]["createTransaction"]["transaction"]


def test_create_in_another_currency_as_rest(alice, conn):
    food, home = category(alice, "Food"), category(alice, "Home")
    _add_rate(conn, alice, "JPY", "2026-03-01", "0.0067")
    given = {"amount": "12.34", "currency": "EUR", "rate": "1.08420", "type": "EXPENSE",
             "categoryId": food, "date": "2026-03-10"}  # fmt: skip
    rest, node = _create_both(alice, given)
    _same(rest, node)
    assert (node["amount"], node["currency"], node["rate"], node["ledgerAmount"]) == (
        "12.34",
        "EUR",
        "1.0842",
        "13.38",
    )
    # The ledger's rate of the date, on a split whose lines share the ledger amount: 1501 JPY
    # at 0.0067 is 10.0567, 10.06 USD; shares of 1000 and 501 JPY: 6.702..., 3.357...: 6.70
    # and 3.36 (the cent left goes to the larger remainder).
    split = {"amount": "1501", "currency": "JPY", "type": "EXPENSE", "date": "2026-03-10",
             "splits": [{"categoryId": food, "amount": "1000"},
                        {"categoryId": home, "amount": "501", "memo": "m"}]}  # fmt: skip
    rest, node = _create_both(alice, split)
    _same(rest, node)
    assert (node["rate"], node["ledgerAmount"]) == ("0.0067", "10.06")
    assert [line["ledgerAmount"] for line in node["splits"]] == ["6.70", "3.36"]
    # Each made the other way reads back the same through the other door.
    read = alice.get(f"/api/transactions/{node['id']}").get_json()
    assert read == node
    # A rate given as a number literal is the same as the string.
    literal = graphql(
        alice,
        f'mutation {{ createTransaction(input: {{amount: 10, currency: "EUR", rate: 1.0842,'
        f' type: EXPENSE, categoryId: {food}, date: "2026-03-10"}}) {{ transaction {{ rate'
        " ledgerAmount } } }",
    )
    assert literal["data"]["createTransaction"]["transaction"] == {
        "rate": "1.0842",
        "ledgerAmount": "10.84",
    }


def test_update_of_rate_and_currency_as_rest(alice, conn):
    food = category(alice, "Food")
    _add_rate(conn, alice, "GBP", "2026-03-01", "1.3")
    body = {"amount": "10", "currency": "EUR", "rate": "1.2", "type": "EXPENSE",
            "categoryId": food, "date": "2026-03-10"}  # fmt: skip
    by_rest, by_graphql = _create_both(alice, body)
    for patch, expected in [
        ({"amount": "20", "date": "2026-03-20"}, ("EUR", "1.2", "24.00")),  # the rate stays
        ({"rate": "1.5"}, ("EUR", "1.5", "30.00")),
        ({"currency": "GBP"}, ("GBP", "1.3", "26.00")),  # the ledger's rate of the date
        ({"currency": "EUR", "rate": "0.125", "amount": "0.04"}, ("EUR", "0.125", "0.01")),
        ({"currency": "USD"}, ("USD", None, "0.04")),  # back to the ledger's: no rate
        ({"currency": "JPY", "rate": "0.0067", "amount": "1500"}, ("JPY", "0.0067", "10.05")),
    ]:
        rest = alice.patch(f"/api/transactions/{by_rest['id']}", json=patch)
        assert rest.status_code == 200, (patch, rest.get_json())
        answer = graphql(alice, UPDATE, {"id": by_graphql["id"], "i": patch})
        assert "errors" not in answer, (patch, answer)
        node = answer["data"]["updateTransaction"]["transaction"]
        _same(rest.get_json(), node)
        assert (node["currency"], node["rate"], node["ledgerAmount"]) == expected, patch


def _refusals(alice, food: int, made: int) -> list:
    """(what, REST method, path, body, GraphQL document, variables, code)."""
    base = {"amount": "10", "type": "EXPENSE", "categoryId": food, "date": "2026-03-10"}
    creates = [
        ("no rate of the date", {"currency": "CHF"}, "rate_unknown"),
        ("rate zero", {"currency": "EUR", "rate": "0"}, "validation_error"),
        ("rate negative", {"currency": "EUR", "rate": "-1.2"}, "validation_error"),
        ("rate exponent", {"currency": "EUR", "rate": "1e3"}, "validation_error"),
        ("rate 13 digits", {"currency": "EUR", "rate": "1.234567890123"}, "validation_error"),
        ("rate too large", {"currency": "EUR", "rate": "1000000000"}, "validation_error"),
        ("rate for the ledger's", {"rate": "1.1"}, "validation_error"),
        ("rate for USD named", {"currency": "USD", "rate": "1.1"}, "validation_error"),
        ("yen digits", {"currency": "JPY", "amount": "1500.5", "rate": "1"}, "validation_error"),
        ("dinar digits", {"currency": "KWD", "amount": "1.0001", "rate": "3"}, "validation_error"),
        ("unknown currency", {"currency": "XYZ", "rate": "1.1"}, "validation_error"),
        ("lower case", {"currency": "eur", "rate": "1.1"}, "validation_error"),
        ("to zero", {"currency": "JPY", "amount": "1", "rate": "0.001"}, "validation_error"),
        ("too large", {"currency": "JPY", "amount": "999999999999", "rate": "100000000"},
         "validation_error"),
        ("a line without a share",
         {"currency": "JPY", "amount": "1000", "rate": "0.001", "categoryId": None,
          "splits": [{"categoryId": food, "amount": "997"}, {"categoryId": food, "amount": "3"}]},
         "validation_error"),
    ]  # fmt: skip
    patches = [
        ("patch to a currency without a rate", {"currency": "CHF"}, "rate_unknown"),
        ("patch rate zero", {"rate": "0"}, "validation_error"),
        ("patch to the ledger's with a rate", {"currency": "USD", "rate": "2"},
         "validation_error"),
        ("patch to yen keeping cents", {"currency": "JPY", "rate": "0.0067"},
         "validation_error"),
        ("patch to zero", {"rate": "0.0001", "amount": "0.01"}, "validation_error"),
    ]  # fmt: skip
    twins = []
    for what, changes, code in creates:
        body = {k: v for k, v in {**base, **changes}.items() if v is not None}
        twins.append((what, "POST", "/api/transactions", body, CREATE, {"i": body}, code))
    for what, changes, code in patches:
        twins.append((what, "PATCH", f"/api/transactions/{made}", changes, UPDATE,
                      {"id": made, "i": changes}, code))  # fmt: skip
    return twins


def test_each_refusal_is_the_same_both_ways_and_writes_nothing(alice, conn):
    food = category(alice, "Food")
    made = alice.post(
        "/api/transactions",
        json={"amount": "10.50", "currency": "EUR", "rate": "1.2", "type": "EXPENSE",
              "categoryId": food, "date": "2026-03-10"},
    ).get_json()  # fmt: skip
    stored = alice.get(f"/api/transactions/{made['id']}").get_json()
    before = _count(conn, alice)
    for what, method, path, body, document, variables, code in _refusals(alice, food, made["id"]):
        rest = alice.request(method, path, json=body)
        assert rest.status_code == 422, (what, rest.get_json())
        assert rest.get_json()["code"] == code, (what, rest.get_json())
        answer = graphql(alice, document, variables)
        assert graphql_codes(answer) == [code], (what, answer)
        error = answer["errors"][0]
        assert error["extensions"]["status"] == 422, what
        assert error["extensions"]["errors"] == rest.get_json()["errors"], what
        assert list(rest.get_json()["errors"]) != [], what
    assert _count(conn, alice) == before
    assert alice.get(f"/api/transactions/{made['id']}").get_json() == stored


@pytest.mark.parametrize(
    "raw",
    ["0", "-1.2", "1e3", "1.5E-2", "1.234567890123", '"1,2"', '" 1.2"', '""',
     "true", "{}", "[]"],
)  # fmt: skip
def test_a_bad_rate_in_variables_is_the_rest_refusal(alice, raw):
    """Variables are JSON read by the same reader as REST bodies: the same refusal, word for
    word."""
    food = category(alice, "Food")
    body = (
        '{"amount": "10", "type": "EXPENSE", "categoryId": %d, "date": "2026-03-10", '
        '"currency": "EUR", "rate": %s}' % (food, raw)
    )
    rest = alice.client.post(
        "/api/transactions",
        data=body,
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert rest.status_code == 422 and list(rest.get_json()["errors"]) == ["rate"], rest.get_json()
    answer = alice.client.post(
        "/api/graphql",
        data='{"query": %s, "variables": {"i": %s}}' % (json.dumps(CREATE), body),
        headers={**alice.headers, "Content-Type": "application/json"},
    ).get_json()
    assert graphql_codes(answer) == ["validation_error"], answer
    assert answer["errors"][0]["extensions"]["errors"] == rest.get_json()["errors"]


@pytest.mark.parametrize("literal", ["0", "-1.2", "1e3", '"1,2"', "true", "{}", "{a: 1}", "[1]"])
def test_a_bad_rate_literal_is_the_rest_refusal_of_its_text(alice, literal):
    """A number literal reaches the rate's field as the text written (never a float): the
    refusal REST gives that text as a string."""
    food = category(alice, "Food")
    text = json.loads(literal) if literal.startswith('"') else literal
    rest = alice.post(
        "/api/transactions",
        json={"amount": "10", "type": "EXPENSE", "categoryId": food, "date": "2026-03-10",
              "currency": "EUR", "rate": text},
    )  # fmt: skip
    assert rest.status_code == 422 and list(rest.get_json()["errors"]) == ["rate"], rest.get_json()
    answer = graphql(
        alice,
        f'mutation {{ createTransaction(input: {{amount: "10", currency: "EUR", rate: {literal},'
        f' type: EXPENSE, categoryId: {food}, date: "2026-03-10"}}) {{ transaction {{ id }} }} }}',
    )
    assert graphql_codes(answer) == ["validation_error"], answer
    assert answer["errors"][0]["extensions"]["errors"] == rest.get_json()["errors"]
