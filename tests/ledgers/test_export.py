"""GET /api/ledgers/{id}/export?format=csv|ofx|json: who may export, the three files, the period,
one snapshot for the whole stream, the connection given back however the stream ends, and
memory that does not grow with the ledger."""

from __future__ import annotations

import csv
import io
import json
import queue
import threading
import tracemalloc
import xml.etree.ElementTree as ET

import pytest

from expense_api.domain import exportfiles
from expense_api.repositories import exports as export_rows
from tests.factories import ledger, member, recurring
from tests.helpers import assert_problem

HEADER = (
    "date,type,amount,currency,rate,category,payee,tags,description,account,bankId,importId,splitOf"
)


def _path(ledger_id: int, query: str = "format=csv") -> str:
    return f"/api/ledgers/{ledger_id}/export?{query}"


def _category(user, ledger_id: int, name: str) -> int:
    response = user.post(f"/api/ledgers/{ledger_id}/categories", json={"name": name})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _record(user, ledger_id: int, **body) -> dict:
    body = {"type": "EXPENSE", "date": "2026-03-15", **body}
    response = user.post(f"/api/ledgers/{ledger_id}/transactions", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def books(alice):
    """Alice's default ledger: a plain expense, a split one with a payee and tags, income."""
    ledger_id = alice.ledger_id
    food, home = _category(alice, ledger_id, "Food"), _category(alice, ledger_id, "=Home")
    plain = _record(alice, ledger_id, amount="4.50", categoryId=food, description="Lunch",
                    date="2026-02-01")  # fmt: skip
    lines = [{"categoryId": food, "amount": "7.00", "memo": "food"},
             {"categoryId": home, "amount": "5.00"}]  # fmt: skip
    split = _record(alice, ledger_id, amount="12.00", splits=lines, payee="-Market",
                    tags=["weekly", "b;c"], description="Groceries, \"big\" shop")  # fmt: skip
    income = _record(alice, ledger_id, amount="100", type="INCOME", categoryId=food,
                     date="2025-12-31", description="@refund <&>")  # fmt: skip
    return {"ledger": ledger_id, "food": food, "home": home, "plain": plain, "split": split,
            "income": income}  # fmt: skip


# --- Who may export ---------------------------------------------------------------------------


def test_an_anonymous_caller_is_401(client, alice):
    assert_problem(client.get(_path(alice.ledger_id)), 401)


def test_another_users_ledger_is_404(alice, bob):
    assert_problem(bob.get(_path(alice.ledger_id)), 404, "not_found")


@pytest.mark.parametrize(
    ("format", "content_type"),
    [("csv", "text/csv; charset=utf-8"), ("ofx", "application/x-ofx"),
     ("json", "application/json")],
)  # fmt: skip
def test_a_viewer_may_export_each_format(conn, alice, bob, format, content_type):
    ledger_id = ledger(conn, alice)
    member(conn, ledger_id, bob, "viewer")
    _record(alice, ledger_id, amount="3.00", categoryId=_category(alice, ledger_id, "Food"))
    response = bob.get(_path(ledger_id, f"format={format}"))
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="ledger-{ledger_id}.{format}"'
    )
    assert response.get_data()


@pytest.mark.parametrize("query", ["format=xls", "format=", "", "format=csv&format=json"])
def test_the_format_must_be_one_of_the_three(alice, query):
    body = assert_problem(alice.get(_path(alice.ledger_id, query)), 422)
    assert "format" in body["errors"], body


def test_the_period_filters_are_the_transaction_lists(alice, books):
    ledger_id = books["ledger"]
    assert_problem(alice.get(_path(ledger_id, "format=csv&month=3&from=2026-01-01")), 422)
    assert_problem(alice.get(_path(ledger_id, "format=csv&from=2026-03-01&to=2026-01-01")), 422)


# --- The files --------------------------------------------------------------------------------


def test_csv_has_the_header_and_a_row_per_split_line(alice, books):
    response = alice.get(_path(books["ledger"]))
    text = response.get_data(as_text=True)
    assert text.splitlines()[0] == HEADER
    assert "\r\n" in text  # RFC 4180 line ends
    rows = _rows(response)
    assert [row["date"] for row in rows] == ["2025-12-31", "2026-02-01", "2026-03-15", "2026-03-15"]
    income, plain, first, second = rows
    assert income == {
        "date": "2025-12-31", "type": "INCOME", "amount": "100.00", "currency": "USD",
        "rate": "", "category": "Food", "payee": "", "tags": "",
        "description": "'@refund <&>", "account": "", "bankId": "", "importId": "",
        "splitOf": "",
    }  # fmt: skip
    assert plain["amount"] == "4.50" and plain["description"] == "Lunch"
    split_id = str(books["split"]["id"])
    assert (first["category"], first["amount"], first["splitOf"]) == ("Food", "7.00", split_id)
    assert (second["category"], second["amount"], second["splitOf"]) == ("'=Home", "5.00", split_id)
    for line in (first, second):  # the transaction's payee, tags and description on each line
        assert line["payee"] == "'-Market"
        assert line["tags"] == "b;c;weekly"
        assert line["description"] == 'Groceries, "big" shop'
        assert line["type"] == "EXPENSE"


def test_csv_amounts_have_the_currencys_digits_and_no_sign(conn, alice):
    ledger_id = ledger(conn, alice, currency="JPY")
    _record(alice, ledger_id, amount="1500", categoryId=_category(alice, ledger_id, "Food"))
    [row] = _rows(alice.get(_path(ledger_id)))
    assert (row["amount"], row["currency"], row["type"]) == ("1500", "JPY", "EXPENSE")


def test_where_a_transaction_came_from_is_exported(conn, alice, books):
    conn.execute(
        "UPDATE transactions SET account = 'checking', bank_id = '=B1', import_key = 'k-1'"
        " WHERE ledger_id = %s AND id = %s",
        (books["ledger"], books["plain"]["id"]),
    )
    plain = _rows(alice.get(_path(books["ledger"])))[1]
    assert (plain["account"], plain["bankId"], plain["importId"]) == ("checking", "'=B1", "k-1")
    ofx = ET.fromstring(alice.get(_path(books["ledger"], "format=ofx")).get_data())
    fitids = [item.findtext("FITID") for item in ofx.iter("STMTTRN")]
    ids = [books[name]["id"] for name in ("income", "plain", "split")]
    assert fitids == [f"EXP-{books['ledger']}-{ids[0]}", "=B1", f"EXP-{books['ledger']}-{ids[2]}"]


@pytest.mark.parametrize(
    ("text", "guarded"),
    [("=SUM(A1)", "'=SUM(A1)"), ("+1", "'+1"), ("-2", "'-2"), ("@x", "'@x"),
     ("\tx", "'\tx"), ("'quoted", "''quoted"), ("plain", "plain"), ("", ""), ("a=b", "a=b")],
)  # fmt: skip
def test_a_csv_cell_a_spreadsheet_would_run_is_guarded_and_reads_back(text, guarded):
    assert exportfiles.guard(text) == guarded
    assert exportfiles.unguard(guarded) == text


def test_ofx_is_a_bank_statement_with_a_signed_amount_per_transaction(alice, books):
    response = alice.get(_path(books["ledger"], "format=ofx"))
    text = response.get_data(as_text=True)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"')
    assert '<?OFX OFXHEADER="200" VERSION="220"' in text
    root = ET.fromstring(response.get_data())  # well-formed XML, entities escaped
    statement = root.find("BANKMSGSRSV1/STMTTRNRS/STMTRS")
    assert statement.findtext("CURDEF") == "USD"
    listing = statement.find("BANKTRANLIST")
    assert (listing.findtext("DTSTART"), listing.findtext("DTEND")) == ("20251231", "20260315")
    items = [{child.tag: child.text for child in item} for item in listing.findall("STMTTRN")]
    assert [(i["TRNTYPE"], i["DTPOSTED"], i["TRNAMT"]) for i in items] == [
        ("CREDIT", "20251231", "100.00"),
        ("DEBIT", "20260201", "-4.50"),
        ("DEBIT", "20260315", "-12.00"),  # a split transaction: one STMTTRN, its whole amount
    ]
    assert items[0]["MEMO"] == "@refund <&>" and "NAME" not in items[0]
    assert (items[2]["NAME"], items[2]["MEMO"]) == ("-Market", 'Groceries, "big" shop')
    assert statement.findtext("LEDGERBAL/BALAMT") == "83.50"


def test_an_ofx_name_is_cut_at_32_characters(alice, books):
    long = "P" * 40
    _record(alice, books["ledger"], amount="1", categoryId=books["food"], payee=long)
    root = ET.fromstring(alice.get(_path(books["ledger"], "format=ofx")).get_data())
    assert [item.findtext("NAME") for item in root.iter("STMTTRN")][-1] == "P" * 32


def test_without_a_period_everything_is_exported_and_with_one_only_that(alice, books):
    ledger_id = books["ledger"]
    assert len(_rows(alice.get(_path(ledger_id)))) == 4
    march = alice.get(_path(ledger_id, "format=csv&month=3&year=2026"))
    assert response_name(march) == f"ledger-{ledger_id}-2026-03-01-2026-03-31.csv"
    assert {row["date"] for row in _rows(march)} == {"2026-03-15"}
    until = _rows(alice.get(_path(ledger_id, "format=csv&to=2026-02-28")))
    assert [row["date"] for row in until] == ["2025-12-31", "2026-02-01"]
    document = alice.get(_path(ledger_id, "format=json&year=2025")).get_json()
    assert [item["date"] for item in document["transactions"]] == ["2025-12-31"]


def response_name(response) -> str:
    return response.headers["Content-Disposition"].split('filename="')[1].rstrip('"')


def test_json_is_the_whole_ledger_in_its_rest_shapes(conn, alice, books):
    ledger_id = books["ledger"]
    base = f"/api/ledgers/{ledger_id}"
    assert alice.post(f"{base}/budgets", json={"amount": "50", "month": 3, "year": 2026,
                                               "categoryId": books["food"]}).status_code == 201  # fmt: skip
    rule = recurring(alice, books["food"], path=f"{base}/recurring", startDate="2026-01-31",
                     count=3)  # fmt: skip
    conn.execute(
        "INSERT INTO rules (ledger_id, position, match, set_category_id, set_tags)"
        ' VALUES (%s, 1, \'{"payee": {"contains": "Market"}}\', %s, \'{weekly}\')',
        (ledger_id, books["food"]),
    )
    document = alice.get(_path(ledger_id, "format=json")).get_json()
    assert list(document) == ["version", "ledger", "categories", "payees", "tags", "budgets",
                              "transactions", "rules", "recurring", "rates"]  # fmt: skip
    assert document["version"] == 1
    assert document["ledger"] == {"name": "Personal", "currency": "USD", "timezone": "UTC"}
    for name in ("categories", "budgets"):  # in id order
        listed = alice.get(f"{base}/{name}").get_json()["items"]
        assert document[name] == sorted(listed, key=lambda item: item["id"])
    assert [item["name"] for item in document["payees"]] == ["-Market"]
    assert sorted(item["name"] for item in document["tags"]) == ["b;c", "weekly"]
    listed = alice.get(f"{base}/transactions?from=2000-01-01&to=2999-12-31").get_json()["items"]
    assert document["transactions"] == [
        {**item, "account": None, "bankId": None, "importId": None} for item in reversed(listed)
    ]
    [shown] = document["recurring"]
    assert shown == {**rule, "currency": "USD", "lastDate": None, "occurrenceCount": 0}
    assert document["rates"] == []
    [exported_rule] = document["rules"]
    assert exported_rule == {
        "id": exported_rule["id"], "position": 1, "match": {"payee": {"contains": "Market"}},
        "set": {"categoryId": books["food"], "tags": ["weekly"]},
    }  # fmt: skip


# --- One snapshot, the connection, memory ----------------------------------------------------


class Stream:
    """A streamed answer read a chunk at a time on a thread of its own, as a server's thread
    reads it: the request's contexts live on that thread while the test makes other requests."""

    def __init__(self, user, path: str):
        self.commands: queue.Queue = queue.Queue()
        self.answers: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._run, args=(user, path), daemon=True)
        self.thread.start()

    def _run(self, user, path: str) -> None:
        response = user.client.get(path, headers=user.headers, buffered=False)
        assert response.status_code == 200
        chunks = iter(response.response)
        while (command := self.commands.get()) != "close":
            self.answers.put(next(chunks, None) if command == "next" else b"".join(chunks))
        response.close()  # what a WSGI server does when the client goes away, or at the end
        self.answers.put(None)

    def _ask(self, command: str):
        self.commands.put(command)
        return self.answers.get(timeout=60)

    def next(self) -> bytes:
        return self._ask("next")

    def rest(self) -> bytes:
        return self._ask("rest")

    def close(self) -> None:
        self._ask("close")
        self.thread.join(timeout=60)


def test_the_whole_stream_reads_one_snapshot(monkeypatch, conn, alice, books):
    """Pages of one transaction each: a transaction recorded and one deleted after the first
    page was sent change nothing of the file."""
    monkeypatch.setattr(export_rows, "PAGE_SIZE", 1)
    stream = Stream(alice, _path(books["ledger"]))
    first = [stream.next(), stream.next()]  # the header, the first page
    _record(alice, books["ledger"], amount="99.00", categoryId=books["food"], date="2026-12-01")
    conn.execute(
        "DELETE FROM transactions WHERE ledger_id = %s AND id = %s",
        (books["ledger"], books["split"]["id"]),
    )
    text = b"".join([*first, stream.rest()]).decode()
    stream.close()
    amounts = [row["amount"] for row in csv.DictReader(io.StringIO(text))]
    assert amounts == ["100.00", "4.50", "7.00", "5.00"]


def _idle_in_transaction(conn) -> int:
    return conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND state LIKE 'idle in transaction%%' AND pid <> pg_backend_pid()"
    ).fetchone()[0]


def test_the_connection_is_held_while_streaming_and_given_back_when_the_client_goes(
    monkeypatch, app, conn, alice, books
):
    monkeypatch.setattr(export_rows, "PAGE_SIZE", 1)
    pool = app.extensions["database"].pool
    stream = Stream(alice, _path(books["ledger"], "format=json"))
    stream.next()
    stream.next()  # inside the snapshot now, between two pages
    assert _idle_in_transaction(conn) == 1
    in_use = pool.get_stats()["pool_size"] - pool.get_stats()["pool_available"]
    assert in_use >= 1
    stream.close()  # the client went away mid-stream
    assert _idle_in_transaction(conn) == 0
    stats = pool.get_stats()
    assert stats["pool_size"] - stats["pool_available"] == in_use - 1


def test_the_connection_is_given_back_when_the_stream_ends(app, conn, alice, books):
    pool = app.extensions["database"].pool
    alice.get("/api/auth/me")
    before = pool.get_stats()["pool_available"]
    response = alice.get(_path(books["ledger"], "format=ofx"))
    assert response.get_data()
    assert pool.get_stats()["pool_available"] == before
    assert _idle_in_transaction(conn) == 0


def _peak_while_streaming(user, path: str) -> int:
    stream = Stream(user, path)
    stream.next()  # the request's work before the file
    tracemalloc.start()
    try:
        while stream.next() is not None:
            pass  # each chunk dropped, as a server sends it on
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        stream.close()


def _fill(conn, ledger_id: int, category_id: int, count: int) -> None:
    conn.execute(
        "INSERT INTO transactions (ledger_id, category_id, type, amount, description, occurred_on)"
        " SELECT %s, %s, 'EXPENSE', 1 + n %% 50, 'bulk row ' || n,"
        " date '2020-01-01' + n %% 1500 FROM generate_series(1, %s) AS n",
        (ledger_id, category_id, count),
    )


def test_memory_does_not_grow_with_the_ledger(monkeypatch, conn, alice):
    """Ten times the transactions, not ten times the memory: a page at a time (100 here)."""
    monkeypatch.setattr(export_rows, "PAGE_SIZE", 100)
    small, big = ledger(conn, alice, name="Small"), ledger(conn, alice, name="Big")
    _fill(conn, small, _category(alice, small, "Food"), 400)
    _fill(conn, big, _category(alice, big, "Food"), 4000)
    for format in ("json", "csv"):
        peaks = [_peak_while_streaming(alice, _path(ledger_id, f"format={format}"))
                 for ledger_id in (small, big)]  # fmt: skip
        assert peaks[1] < 2 * peaks[0], (format, peaks)
    document = json.loads(alice.get(_path(big, "format=json")).get_data())
    assert len(document["transactions"]) == 4000
