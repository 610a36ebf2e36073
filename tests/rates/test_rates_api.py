"""/api/ledgers/{id}/rates: list (filters, keyset pages), PUT one currency's rates, import an ECB
file; roles, tokens, other users' ledgers, the change log and sync."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.factories import ledger, member
from tests.helpers import assert_problem

SAMPLE = (Path(__file__).parent / "files" / "eurofxref-hist-sample.csv").read_bytes()


def base(user, ledger_id=None) -> str:
    return f"/api/ledgers/{ledger_id or user.ledger_id}/rates"


def put(user, currency, items, ledger_id=None):
    return user.request("PUT", f"{base(user, ledger_id)}/{currency}", json={"items": items})


def upload(user, data: bytes, ledger_id=None, name="eurofxref-hist.csv"):
    return user.post(
        f"{base(user, ledger_id)}/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def listed(user, ledger_id=None, **query) -> dict:
    response = user.get(base(user, ledger_id), query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def changes(user, ledger_id=None) -> list[dict]:
    path = f"/api/ledgers/{ledger_id or user.ledger_id}/changes?entity=rate&limit=500"
    response = user.get(path)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


@pytest.fixture
def eur(conn, alice) -> int:
    return ledger(conn, alice, name="Euro", currency="EUR")


def test_put_writes_a_currencys_rates_and_the_list_shows_them(alice):
    response = put(alice, "EUR", [{"date": "2026-03-03", "rate": "1.0850"},
                                  {"date": "2026-03-02", "rate": 1.08}])  # fmt: skip
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "items": [
            {"currency": "EUR", "date": "2026-03-02", "rate": "1.08"},
            {"currency": "EUR", "date": "2026-03-03", "rate": "1.085"},  # no trailing zero
        ]
    }
    assert put(alice, "JPY", [{"date": "2026-03-01", "rate": "0.0066"}]).status_code == 200
    body = listed(alice)
    assert body == {
        "items": [
            {"currency": "EUR", "date": "2026-03-02", "rate": "1.08"},
            {"currency": "EUR", "date": "2026-03-03", "rate": "1.085"},
            {"currency": "JPY", "date": "2026-03-01", "rate": "0.0066"},
        ],
        "nextCursor": None,
    }
    assert listed(alice, currency="JPY")["items"] == body["items"][2:]
    assert listed(alice, **{"from": "2026-03-02", "to": "2026-03-02"})["items"] == body["items"][:1]


def test_put_replaces_a_days_rate_and_keeps_the_others(alice):
    put(
        alice,
        "EUR",
        [{"date": "2026-03-02", "rate": "1.08"}, {"date": "2026-03-03", "rate": "1.09"}],
    )
    response = put(alice, "EUR", [{"date": "2026-03-03", "rate": "1.1"}])
    assert response.get_json()["items"] == [
        {"currency": "EUR", "date": "2026-03-03", "rate": "1.1"}
    ]
    assert [item["rate"] for item in listed(alice)["items"]] == ["1.08", "1.1"]


def test_a_file_imported_again_leaves_its_unchanged_rows_untouched(alice, conn):
    """Nothing changed, nothing written: not even a row lock (ON CONFLICT takes one on every row
    it finds, which rewrites each tuple: a whole history's, for nothing)."""
    assert upload(alice, SAMPLE).status_code == 200
    stored = "SELECT count(*) FROM ledger_rates WHERE ledger_id = %s AND xmax = '0'::xid"
    before = conn.execute(stored, (alice.ledger_id,)).fetchone()[0]
    again = upload(alice, SAMPLE)
    assert again.status_code == 200 and again.get_json()["rates"] == 0, again.get_json()
    assert conn.execute(stored, (alice.ledger_id,)).fetchone()[0] == before > 0


def test_pages_follow_the_cursor_in_currency_then_date_order(alice):
    put(alice, "GBP", [{"date": f"2026-03-{day:02d}", "rate": f"1.2{day}"} for day in range(1, 6)])
    put(alice, "EUR", [{"date": f"2026-03-{day:02d}", "rate": f"1.0{day}"} for day in range(1, 4)])
    seen, cursor = [], None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = listed(alice, **query)
        seen += [(item["currency"], item["date"]) for item in body["items"]]
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == 8
    assert_problem(alice.get(base(alice) + "?cursor=bm90LWEtY3Vyc29y"), 422, "validation_error")


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([{"date": "2026-03-02", "rate": "0"}], "items.0.rate"),
        ([{"date": "2026-03-02", "rate": "-1.2"}], "items.0.rate"),
        ([{"date": "2026-03-02", "rate": "1e3"}], "items.0.rate"),
        ([{"date": "2026-03-02", "rate": "1.23456789012345"}], "items.0.rate"),
        ([{"date": "2026-03-02", "rate": "abc"}], "items.0.rate"),
        ([{"date": "2026-03-02", "rate": True}], "items.0.rate"),
        (
            [{"date": "2026-03-02", "rate": "1"}, {"date": "2026-03-03", "rate": "0"}],
            "items.1.rate",
        ),
        (
            [{"date": "2026-03-02", "rate": "1"}, {"date": "2026-03-02", "rate": "2"}],
            "items.1.date",
        ),
        ([{"date": "2026-02-30", "rate": "1"}], "items.0.date"),
        ([{"rate": "1"}], "items.0.date"),
        ([], "items"),
        ([{"date": "2026-03-02", "rate": "1"}] * 5001, "items"),
    ],
)
def test_put_refuses_each_bad_item_naming_it(alice, items, field):
    body = assert_problem(put(alice, "EUR", items), 422, "validation_error")
    assert field in body["errors"], body["errors"]
    assert listed(alice)["items"] == []


def test_put_refuses_an_exponent_number_and_another_currency_rule(alice):
    raw = b'{"items": [{"date": "2026-03-02", "rate": 1e2}]}'
    response = alice.request("PUT", f"{base(alice)}/EUR", data=raw, content_type="application/json")
    assert "items.0.rate" in assert_problem(response, 422)["errors"]
    own = assert_problem(put(alice, "USD", [{"date": "2026-03-02", "rate": "1"}]), 422)
    assert "own currency" in own["errors"]["currency"][0]
    unknown = assert_problem(put(alice, "XYZ", [{"date": "2026-03-02", "rate": "1"}]), 422)
    assert "currency" in unknown["errors"]
    assert_problem(put(alice, "usd", [{"date": "2026-03-02", "rate": "1"}]), 404)
    assert_problem(alice.get(base(alice) + "?currency=XYZ"), 422)
    assert_problem(alice.get(base(alice) + "?from=2026-03-02&to=2026-03-01"), 422)


def test_import_into_an_eur_ledger_inverts_each_value(alice, eur):
    response = upload(alice, SAMPLE, eur)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "currencies": ["CHF", "GBP", "INR", "JPY", "USD"],
        "from": "2003-01-02",
        "to": "2026-03-04",
        "rates": 17,
        "skipped": ["CYP"],
    }
    usd = listed(alice, eur, currency="USD")["items"]
    assert usd[-1] == {"currency": "USD", "date": "2026-03-04", "rate": "0.922339051835"}
    again = upload(alice, SAMPLE, eur)  # nothing changed: nothing written, nothing logged
    assert again.get_json()["rates"] == 0
    assert len(changes(alice, eur)) == 17


def test_import_into_a_usd_ledger_converts_through_eur(alice):
    response = upload(alice, SAMPLE)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["currencies"] == ["CHF", "EUR", "GBP", "INR", "JPY"]
    got = {(i["currency"], i["date"]): i["rate"] for i in listed(alice, limit=500)["items"]}
    assert got[("EUR", "2026-03-04")] == "1.0842"
    assert got[("GBP", "2026-03-04")] == "1.28292509762"
    assert ("USD", "2026-03-04") not in got


def test_import_refusals(alice, conn):
    kwd = ledger(conn, alice, name="Kuwait", currency="KWD")
    missing = assert_problem(upload(alice, SAMPLE, kwd), 422, "validation_error")
    assert missing["errors"] == {"file": [
        "The file has no KWD column. Rates are converted to the ledger's currency through EUR."
    ]}  # fmt: skip
    broken = assert_problem(upload(alice, b"Date,USD\n2026-03-02,1e3\n"), 422, "unreadable_file")
    assert broken["line"] == 2 and "exponent" in broken["errors"]["file"][0]
    assert_problem(upload(alice, b"\x00\x01binary"), 422, "unreadable_file")
    response = alice.post(f"{base(alice)}/import", json={"file": "Date,USD"})
    assert_problem(response, 415)
    big = b"Date,USD\n" + b"2026-03-02,1.1\n" * (6 * 1024 * 1024 // 15)
    assert_problem(upload(alice, big), 413)
    empty = alice.post(f"{base(alice)}/import", data={}, content_type="multipart/form-data")
    assert "file" in assert_problem(empty, 422)["errors"]
    assert listed(alice)["items"] == []


def test_tokens_roles_and_other_users_ledgers(client, alice, bob, conn):
    path = f"{base(alice)}/EUR"
    items = {"items": [{"date": "2026-03-02", "rate": "1.1"}]}
    for method, url, kwargs in (
        ("GET", base(alice), dict),
        ("PUT", path, lambda: {"json": items}),
        ("POST", f"{base(alice)}/import", lambda: {
            "data": {"file": (io.BytesIO(SAMPLE), "f.csv")},
            "content_type": "multipart/form-data"}),
    ):  # fmt: skip
        assert_problem(client.open(url, method=method, **kwargs()), 401)
        bad = {"Authorization": "Bearer not-a-token"}
        assert_problem(client.open(url, method=method, headers=bad, **kwargs()), 401)
    assert_problem(bob.get(base(alice)), 404, "not_found")
    assert_problem(bob.request("PUT", path, json=items), 404, "not_found")
    assert_problem(upload(bob, SAMPLE, alice.ledger_id), 404, "not_found")
    member(conn, alice.ledger_id, bob, "viewer")
    assert_problem(bob.request("PUT", path, json=items), 403, "forbidden")
    assert_problem(upload(bob, SAMPLE, alice.ledger_id), 403, "forbidden")
    assert bob.get(base(alice)).status_code == 200
    conn.execute(
        "UPDATE ledger_members SET role = 'editor' WHERE ledger_id = %s AND user_id = %s",
        (alice.ledger_id, bob.id),
    )
    assert bob.request("PUT", path, json=items).status_code == 200
    assert upload(bob, SAMPLE, alice.ledger_id).status_code == 200


def test_each_rate_created_or_changed_is_one_change_log_entry(alice):
    put(
        alice,
        "EUR",
        [{"date": "2026-03-02", "rate": "1.08"}, {"date": "2026-03-03", "rate": "1.09"}],
    )
    put(
        alice,
        "EUR",
        [{"date": "2026-03-02", "rate": "1.080"}, {"date": "2026-03-03", "rate": "1.1"}],
    )
    entries = changes(alice)  # newest first
    assert [(e["op"], e["via"], e["before"], e["after"]) for e in entries] == [
        (
            "updated",
            "rest",
            {"currency": "EUR", "date": "2026-03-03", "rate": "1.09"},
            {"currency": "EUR", "date": "2026-03-03", "rate": "1.1"},
        ),
        ("created", "rest", None, {"currency": "EUR", "date": "2026-03-03", "rate": "1.09"}),
        ("created", "rest", None, {"currency": "EUR", "date": "2026-03-02", "rate": "1.08"}),
    ]  # fmt: skip (1.080 is 1.08: unchanged, not logged)
    assert all(e["entity"] == "rate" and e["actor"]["id"] == alice.id for e in entries)
    assert entries[0]["entityId"] == entries[1]["entityId"] != entries[2]["entityId"]
    upload(alice, b"Date,USD,GBP\n2026-03-02,1.08,0.84\n")
    imported = changes(alice)[0]
    assert imported["via"] == "import" and imported["after"]["currency"] == "GBP"


def test_sync_lists_rates_in_their_rest_shape(alice):
    first = alice.get(f"/api/ledgers/{alice.ledger_id}/sync").get_json()
    assert first["rates"] == []
    put(alice, "EUR", [{"date": "2026-03-02", "rate": "1.08"}])
    delta = alice.get(f"/api/ledgers/{alice.ledger_id}/sync?since={first['knowledge']}")
    body = delta.get_json()
    assert body["rates"] == [{"currency": "EUR", "date": "2026-03-02", "rate": "1.08"}]
    put(alice, "EUR", [{"date": "2026-03-02", "rate": "1.09"}])
    again = alice.get(f"/api/ledgers/{alice.ledger_id}/sync?since={body['knowledge']}")
    assert again.get_json()["rates"] == [{"currency": "EUR", "date": "2026-03-02", "rate": "1.09"}]
    state = alice.get(f"/api/ledgers/{alice.ledger_id}/sync").get_json()
    assert state["rates"] == [{"currency": "EUR", "date": "2026-03-02", "rate": "1.09"}]
