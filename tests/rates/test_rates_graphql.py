"""GraphQL's Ledger.rates and putRates: the same values, pages and refusals as REST's."""

from __future__ import annotations

from tests.factories import graphql, graphql_codes, member

RATES = """query($id: Int!, $currency: String, $from: Date, $to: Date, $limit: Int, $cursor: String) {
  ledger(id: $id) { rates(currency: $currency, from: $from, to: $to, limit: $limit,
                          cursor: $cursor) { items { currency date rate } nextCursor } } }"""
PUT = """mutation($id: Int, $currency: String!, $items: [RateInput!]!) {
  putRates(ledgerId: $id, currency: $currency, items: $items) { items { currency date rate } } }"""


def test_pages_and_filters_equal_rests(alice):
    base = f"/api/ledgers/{alice.ledger_id}/rates"
    for currency, rates in (("EUR", ["1.08", "1.0850", "1.1"]), ("JPY", ["0.0066", "0.00661"])):
        items = [{"date": f"2026-03-0{day}", "rate": rate} for day, rate in enumerate(rates, 1)]
        body = graphql(alice, PUT, {"id": alice.ledger_id, "currency": currency, "items": items})
        rest_put = alice.request("PUT", f"{base}/{currency}", json={"items": items}).get_json()
        assert body["data"]["putRates"] == rest_put
    for query in ({"limit": 2}, {"currency": "EUR"}, {"from": "2026-03-02", "to": "2026-03-02"}):
        cursor = None
        while True:
            variables = {"id": alice.ledger_id, **query, "cursor": cursor}
            got = graphql(alice, RATES, variables)["data"]["ledger"]["rates"]
            rest = alice.get(base, query_string={**query, **({"cursor": cursor} if cursor else {})})
            assert got == rest.get_json()
            cursor = got["nextCursor"]
            if cursor is None:
                break


def test_refusals_have_rests_codes(alice, bob, conn):
    one = [{"date": "2026-03-02", "rate": "1.1"}]
    cases = [
        ({"currency": "USD", "items": one}, "validation_error"),  # the ledger's own
        ({"currency": "XYZ", "items": one}, "validation_error"),
        ({"currency": "EUR", "items": [{"date": "2026-03-02", "rate": "0"}]}, "validation_error"),
        ({"currency": "EUR", "items": one * 2}, "validation_error"),
    ]
    for variables, code in cases:
        body = graphql(alice, PUT, {"id": alice.ledger_id, **variables})
        assert graphql_codes(body) == [code], body
    body = graphql(alice, PUT, {"id": alice.ledger_id, "currency": "EUR",
                                "items": [{"date": "2026-03-02", "rate": "-1"}]})  # fmt: skip
    assert "items.0.rate" in body["errors"][0]["extensions"]["errors"], body
    stranger = graphql(bob, PUT, {"id": alice.ledger_id, "currency": "EUR", "items": one})
    assert graphql_codes(stranger) == ["not_found"]
    member(conn, alice.ledger_id, bob, "viewer")
    viewer = graphql(bob, PUT, {"id": alice.ledger_id, "currency": "EUR", "items": one})
    assert graphql_codes(viewer) == ["forbidden"]
    read = graphql(bob, RATES, {"id": alice.ledger_id})
    assert read["data"]["ledger"]["rates"] == {"items": [], "nextCursor": None}
