"""The imports' REST layer (/api/ledgers/{id}/imports, ../shared/API.md "Import and export"):
upload, rows, commit, discard, undo over HTTP; the form's rules; who may do what; the upload's
own body limit and media type; one webhook event per commit.

The bank-file readers are domain/bankfiles' (other work): these tests read files with a tiny
reader of their own (`tiny_reader`, put where the service imports the readers from), so that
they are about the HTTP layer; the last test goes through the real readers when they exist."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import types

import pytest

from expense_api.domain import bankfiles
from tests.helpers import assert_problem
from tests.imports.tiny_reader import READING, install

IMPORT_KEYS = [
    "id", "status", "format", "account", "fileName", "currency", "counts", "overBudget", "kept",
    "createdAt", "committedAt", "undoneAt",
]  # fmt: skip
ROW_KEYS = [
    "line", "date", "amount", "type", "payee", "description", "bankId", "decision",
    "transactionId", "categoryId", "reason", "skip", "currency", "rate", "ledgerAmount",
]  # fmt: skip


@pytest.fixture
def tiny_reader(monkeypatch) -> list:
    """The options each read was given."""
    return install(monkeypatch)


CSV = b"2026-03-02,-12.50,Corner Market\n2026-03-03,2500,ACME Payroll\n2026-03-04,-4.20,Cafe\n"


def upload(user, ledger_id, content=CSV, name="bank.csv", **fields):
    data = {"file": (io.BytesIO(content), name), **fields}
    return user.post(
        f"/api/ledgers/{ledger_id}/imports", data=data, content_type="multipart/form-data"
    )


def _ok(response, status=200):
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _base(user, ledger_id=None):
    return f"/api/ledgers/{ledger_id or user.ledger_id}/imports"


def _transactions(user):
    body = user.get("/api/transactions?from=2026-01-01&to=2026-12-31&limit=200").get_json()
    return sorted((t["date"], t["amount"], t["payee"]) for t in body["items"])


@pytest.fixture
def shared(alice, bob):
    """A ledger of alice's where bob is a viewer."""
    ledger_id = _ok(alice.post("/api/ledgers", json={"name": "Home"}), 201)["id"]
    body = {"email": bob.data["email"], "role": "viewer"}
    invitation = _ok(alice.post(f"/api/ledgers/{ledger_id}/invitations", json=body), 201)
    _ok(bob.post(f"/api/invitations/{invitation['id']}/accept"))
    return ledger_id


# --- The happy path ---------------------------------------------------------------------------


def test_upload_rows_commit_and_undo_over_http(alice, tiny_reader):
    food = _ok(alice.post("/api/categories", json={"name": "Food"}), 201)["id"]
    preview = _ok(upload(alice, alice.ledger_id, account="checking"), 201)
    assert list(preview) == IMPORT_KEYS
    assert preview["status"] == "preview" and preview["format"] == "csv"
    assert (preview["account"], preview["fileName"], preview["currency"]) == (
        "checking", "bank.csv", "USD",
    )  # fmt: skip
    assert preview["counts"] == {"new": 3, "duplicate": 0, "match": 0, "invalid": 0}
    assert preview["committedAt"] is None and preview["overBudget"] is None
    assert _transactions(alice) == []
    base = f"{_base(alice)}/{preview['id']}"
    assert _ok(alice.get(base)) == preview

    rows = _ok(alice.get(f"{base}/rows"))
    assert rows["nextCursor"] is None
    first = rows["items"][0]
    assert list(first) == ROW_KEYS
    assert first == {
        "line": 1, "date": "2026-03-02", "amount": "12.50", "type": "EXPENSE",
        "payee": "Corner Market", "description": "", "bankId": None, "decision": "new",
        "transactionId": None, "categoryId": None, "reason": None, "skip": False,
        "currency": "USD", "rate": None, "ledgerAmount": "12.50",
    }  # fmt: skip

    overrides = {"rows": {"1": {"categoryId": food}, "3": {"decision": "skip"}}}
    committed = _ok(alice.post(f"{base}/commit", json=overrides))
    assert committed["status"] == "committed" and committed["committedAt"] is not None
    assert committed["overBudget"] == []
    assert _transactions(alice) == [
        ("2026-03-02", "12.50", "Corner Market"),
        ("2026-03-03", "2500.00", "ACME Payroll"),
    ]
    rows = _ok(alice.get(f"{base}/rows"))["items"]
    assert [(r["categoryId"] == food, r["skip"], r["transactionId"] is not None) for r in rows] == [
        (True, False, True), (False, False, True), (False, True, False),
    ]  # fmt: skip

    undone = _ok(alice.post(f"{base}/undo"))
    assert undone["status"] == "undone" and undone["kept"] == [] and undone["undoneAt"]
    assert _transactions(alice) == []
    assert _ok(alice.get(_base(alice)))["items"][0] == undone


def test_the_reader_gets_what_the_form_says(alice, tiny_reader):
    mapping = {"date": "Datum", "amount": 1, "dateFormat": "DD.MM.YYYY", "decimal": ","}
    content = b"Datum;Betrag\n"
    created = upload(
        alice, alice.ledger_id, content, format="csv", currency="EUR", mapping=json.dumps(mapping)
    )
    assert _ok(created, 201)["currency"] == "EUR"
    [options] = tiny_reader
    assert options == bankfiles.Options(
        format="csv", currency="EUR", mapping=mapping, file_name="bank.csv"
    )


def test_a_reimport_is_all_duplicates_and_a_match_can_be_made_new(alice, tiny_reader):
    food = _ok(alice.post("/api/categories", json={"name": "Food"}), 201)["id"]
    hand = {"amount": "4.20", "type": "EXPENSE", "categoryId": food, "date": "2026-03-05"}
    _ok(alice.post("/api/transactions", json=hand), 201)
    first = _ok(upload(alice, alice.ledger_id), 201)
    assert first["counts"] == {"new": 2, "duplicate": 0, "match": 1, "invalid": 0}
    [matched] = _ok(alice.get(f"{_base(alice)}/{first['id']}/rows?decision=match"))["items"]
    assert matched["line"] == 3 and matched["reason"]
    body = {"rows": {"3": {"decision": "new"}}}
    _ok(alice.post(f"{_base(alice)}/{first['id']}/commit", json=body))
    assert len(_transactions(alice)) == 4
    again = _ok(upload(alice, alice.ledger_id), 201)
    assert again["counts"] == {"new": 0, "duplicate": 3, "match": 0, "invalid": 0}


def test_lists_page_newest_first_and_rows_by_line(alice, tiny_reader):
    ids = [_ok(upload(alice, alice.ledger_id), 201)["id"] for _ in range(3)]
    page = _ok(alice.get(f"{_base(alice)}?limit=2"))
    assert [item["id"] for item in page["items"]] == ids[::-1][:2]
    rest = _ok(alice.get(f"{_base(alice)}?limit=2&cursor={page['nextCursor']}"))
    assert [item["id"] for item in rest["items"]] == ids[:1] and rest["nextCursor"] is None
    rows = f"{_base(alice)}/{ids[0]}/rows"
    page = _ok(alice.get(f"{rows}?limit=2"))
    assert [row["line"] for row in page["items"]] == [1, 2]
    rest = _ok(alice.get(f"{rows}?limit=2&cursor={page['nextCursor']}"))
    assert [row["line"] for row in rest["items"]] == [3] and rest["nextCursor"] is None
    assert _ok(alice.get(f"{rows}?decision=duplicate"))["items"] == []
    assert_problem(alice.get(f"{rows}?decision=maybe"), 422, "validation_error")
    assert_problem(alice.get(f"{rows}?cursor=nonsense"), 422, "validation_error")


# --- The form's rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"format": "xls"}, "format"),
        ({"account": ""}, "account"),
        ({"account": "x" * 101}, "account"),
        ({"account": "tab\there"}, "account"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "usd"}, "currency"),
        ({"mapping": "{not json"}, "mapping"),
        ({"mapping": "[1]"}, "mapping"),
        ({"mapping": "[" * 100_000}, "mapping"),  # deeper than the parser recurses
        ({"mapping": '{"date": NaN, "amount": 1}'}, "mapping"),
        ({"mapping": json.dumps({"date": 0, "amount": 1}).replace("1", "1.5")}, "mapping.amount"),
        ({"mapping": json.dumps({"amount": 1})}, "mapping.date"),
        ({"mapping": json.dumps({"date": 0})}, "mapping.amount"),
        ({"mapping": json.dumps({"date": 0, "amount": 1, "debit": 2})}, "mapping.amount"),
        ({"mapping": json.dumps({"date": True, "amount": 1})}, "mapping.date"),
        ({"mapping": json.dumps({"date": -1, "amount": 1})}, "mapping.date"),
        ({"mapping": json.dumps({"date": 0, "amount": 1, "dateFormat": "DD/MM"})},
         "mapping.dateFormat"),
        ({"mapping": json.dumps({"date": 0, "amount": 1, "decimal": ";"})}, "mapping.decimal"),
        ({"mapping": json.dumps({"date": 0, "amount": 1, "delimiter": ";;"})},
         "mapping.delimiter"),
        ({"mapping": json.dumps({"date": 0, "amount": 1, "encoding": "klingon"})},
         "mapping.encoding"),
        ({"mapping": json.dumps({"date": 0, "amount": 1, "header": "yes"})}, "mapping.header"),
        ({"mapping": json.dumps({"date": 0, "amount": 1, "skipRows": -1})}, "mapping.skipRows"),
        ({"mapping": json.dumps({"date": 0, "amount": 1, "sheet": 2})}, "mapping.sheet"),
        ({"format": "qif", "mapping": json.dumps({"dateFormat": "MM/DD/YY", "decimal": ","})},
         "mapping.decimal"),
        ({"format": "ofx", "mapping": json.dumps({"dateFormat": "MM/DD/YY"})}, "mapping"),
        ({"colour": "blue"}, "colour"),
    ],
)  # fmt: skip
def test_each_rule_of_the_form(alice, tiny_reader, fields, named):
    problem = assert_problem(upload(alice, alice.ledger_id, **fields), 422, "validation_error")
    assert named in problem["errors"], problem
    assert tiny_reader == []


def test_the_file_is_required_and_a_field_is_given_once(alice, tiny_reader):
    path = _base(alice)
    form = {"account": "checking"}
    missing = alice.post(path, data=form, content_type="multipart/form-data")
    assert "file" in assert_problem(missing, 422, "validation_error")["errors"]
    twice = {"file": (io.BytesIO(CSV), "a.csv"), "account": ["a", "b"]}
    problem = assert_problem(alice.post(path, data=twice, content_type="multipart/form-data"), 422)
    assert problem["errors"] == {"account": ["Give this parameter once."]}


def test_a_qif_date_format_and_the_defaults(alice, tiny_reader):
    qif = {"format": "qif", "mapping": json.dumps({"dateFormat": "DD/MM/YY"})}
    assert _ok(upload(alice, alice.ledger_id, **qif), 201)["account"] == "default"
    assert tiny_reader[0].mapping == {"dateFormat": "DD/MM/YY"}


# --- Files that cannot be read: 422, never a 500 ---------------------------------------------


def test_an_unknown_format(alice, tiny_reader):
    problem = assert_problem(upload(alice, alice.ledger_id, b"NOPE\n"), 422, "unknown_format")
    assert problem["errors"] == {"format": ["Not a bank file of a known format."]}


def test_columns_detection_cannot_decide_names_mapping_and_the_columns(alice, tiny_reader):
    problem = assert_problem(
        upload(alice, alice.ledger_id, b"Datum;Betrag\n"), 422, "unreadable_file"
    )
    assert list(problem["errors"]) == ["mapping"]
    assert problem["columns"] == ["Datum", "Betrag"]


def test_an_unreadable_file_says_where(alice, tiny_reader):
    content = b"2026-03-02,-1,A\nBROKEN\n"
    problem = assert_problem(upload(alice, alice.ledger_id, content), 422, "unreadable_file")
    assert problem["line"] == 2 and "An unclosed quote." in problem["detail"]


def test_a_readers_bug_is_still_a_422(alice, tiny_reader):
    assert_problem(upload(alice, alice.ledger_id, b"EXPLODE\n"), 422, "unreadable_file")


def test_a_file_name_is_kept_without_folders_or_control_characters(alice, tiny_reader):
    created = _ok(upload(alice, alice.ledger_id, name="../bank/march\x07.csv"), 201)
    assert created["fileName"] == "march.csv"


def test_text_postgresql_cannot_hold_is_dropped_not_a_500(alice, tiny_reader):
    created = _ok(upload(alice, alice.ledger_id, b"2026-03-02,-1,Corner\x00Market,ID\x001\n"), 201)
    [row] = _ok(alice.get(f"{_base(alice)}/{created['id']}/rows"))["items"]
    assert (row["payee"], row["bankId"]) == ("CornerMarket", "ID1")


def test_the_ledgers_rules_categorize_the_rows(alice, tiny_reader, monkeypatch):
    """Through the rules' interface (domain/rules.first_match over services/rules.list_all,
    other work), here a stand-in of each: the first rule's `set` is the row's."""
    food = _ok(alice.post("/api/categories", json={"name": "Food"}), 201)["id"]
    rule = {"id": 1, "position": 1, "match": {"payee": {"contains": "market"}},
            "set": {"categoryId": food, "payee": "Corner Market Ltd", "tags": ["groceries"]}}  # fmt: skip
    asked = []
    matching = types.ModuleType("expense_api.domain.rules")
    matching.first_match = lambda rules, row: (
        asked.append(dict(row)) or (rules[0] if "Market" in (row["payee"] or "") else None)
    )
    service = types.ModuleType("expense_api.services.rules")
    service.list_all = lambda conn, actor: [rule]
    monkeypatch.setitem(sys.modules, "expense_api.domain.rules", matching)
    monkeypatch.setitem(sys.modules, "expense_api.services.rules", service)
    created = _ok(upload(alice, alice.ledger_id), 201)
    rows = _ok(alice.get(f"{_base(alice)}/{created['id']}/rows"))["items"]
    assert [(r["payee"], r["categoryId"]) for r in rows] == [
        ("Corner Market Ltd", food), ("ACME Payroll", None), ("Cafe", None),
    ]  # fmt: skip
    assert {key: asked[0][key] for key in ("payee", "type")} == {
        "payee": "Corner Market", "type": "EXPENSE",
    }  # fmt: skip
    _ok(alice.post(f"{_base(alice)}/{created['id']}/commit"))
    spent = alice.get("/api/transactions?from=2026-03-02&to=2026-03-02").get_json()["items"]
    assert [(t["categoryId"], t["tags"]) for t in spent] == [(food, ["groceries"])]


# --- Who may ----------------------------------------------------------------------------------


def test_no_token_is_401(alice, client, tiny_reader):
    data = {"file": (io.BytesIO(CSV), "bank.csv")}
    path = _base(alice)
    response = client.post(path, data=data, content_type="multipart/form-data")
    assert_problem(response, 401)
    assert_problem(client.get(path), 401)


def test_another_users_ledger_and_import_are_404(alice, bob, tiny_reader):
    mine = _ok(upload(alice, alice.ledger_id), 201)["id"]
    assert_problem(upload(bob, alice.ledger_id), 404, "not_found")
    assert_problem(bob.get(_base(alice)), 404, "not_found")
    for path in (f"{_base(bob)}/{mine}", f"{_base(bob)}/{mine}/rows"):
        assert_problem(bob.get(path), 404, "not_found")
    assert_problem(bob.post(f"{_base(bob)}/{mine}/commit"), 404, "not_found")
    assert_problem(bob.post(f"{_base(bob)}/{mine}/undo"), 404, "not_found")
    assert_problem(bob.delete(f"{_base(bob)}/{mine}"), 404, "not_found")
    assert _ok(alice.get(f"{_base(alice)}/{mine}"))["status"] == "preview"


def test_a_viewer_reads_imports_and_changes_none(alice, bob, shared, tiny_reader):
    assert_problem(upload(bob, shared), 403, "forbidden")
    assert tiny_reader == []  # refused before the file is read
    preview = _ok(upload(alice, shared), 201)
    committed = _ok(upload(alice, shared, b"2026-04-01,-3,X\n"), 201)
    _ok(alice.post(f"{_base(alice, shared)}/{committed['id']}/commit"))
    base = _base(bob, shared)
    assert [item["id"] for item in _ok(bob.get(base))["items"]] == [committed["id"], preview["id"]]
    assert _ok(bob.get(f"{base}/{preview['id']}/rows"))["items"]
    assert_problem(bob.post(f"{base}/{preview['id']}/commit"), 403, "forbidden")
    assert_problem(bob.delete(f"{base}/{preview['id']}"), 403, "forbidden")
    assert_problem(bob.post(f"{base}/{committed['id']}/undo"), 403, "forbidden")


# --- Status: commit once, discard a preview, undo a commit ------------------------------------


def test_a_second_commit_is_409_and_changes_nothing(alice, tiny_reader):
    base = f"{_base(alice)}/{_ok(upload(alice, alice.ledger_id), 201)['id']}"
    _ok(alice.post(f"{base}/commit"))
    assert_problem(alice.post(f"{base}/commit"), 409, "import_not_preview")
    assert len(_transactions(alice)) == 3
    assert_problem(alice.delete(base), 409, "import_not_preview")
    _ok(alice.post(f"{base}/undo"))
    assert_problem(alice.post(f"{base}/undo"), 409, "import_not_committed")


def test_discard_a_preview(alice, tiny_reader):
    base = f"{_base(alice)}/{_ok(upload(alice, alice.ledger_id), 201)['id']}"
    assert_problem(alice.post(f"{base}/undo"), 409, "import_not_committed")
    response = alice.delete(base)
    assert response.status_code == 204 and response.get_data() == b""
    assert _ok(alice.get(base))["status"] == "discarded"
    assert_problem(alice.post(f"{base}/commit"), 409, "import_not_preview")
    assert_problem(alice.delete(base), 409, "import_not_preview")
    assert _transactions(alice) == []


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"rows": {"9": {"decision": "skip"}}}, "rows.9"),
        ({"rows": {"1": {"decision": "duplicate"}}}, "rows.1.value.decision"),
        ({"rows": {"1": {"categoryId": 999999999}}}, "rows.1.categoryId"),
        ({"rows": {"one": {}}}, "rows.one.key"),
        ({"rows": {"1": {"colour": "red"}}}, "rows.1.value.colour"),
        ({"rows": []}, "rows"),
        ({"lines": {}}, "lines"),
    ],
)
def test_a_commits_overrides_are_checked(alice, tiny_reader, body, named):
    base = f"{_base(alice)}/{_ok(upload(alice, alice.ledger_id), 201)['id']}"
    problem = assert_problem(alice.post(f"{base}/commit", json=body), 422, "validation_error")
    assert named in problem["errors"], problem
    assert _ok(alice.get(base))["status"] == "preview"


def test_a_commits_body_is_json(alice, tiny_reader):
    base = f"{_base(alice)}/{_ok(upload(alice, alice.ledger_id), 201)['id']}"
    response = alice.post(f"{base}/commit", data="rows=1", content_type="text/plain")
    assert_problem(response, 415, "unsupported_media_type")
    assert_problem(alice.post(f"{base}/commit", data="{", content_type="application/json"), 400)
    assert _ok(alice.post(f"{base}/commit", json={}))["status"] == "committed"


# --- The body: multipart here only, 20 MB here only ----------------------------------------


def test_the_upload_takes_multipart_only(alice, tiny_reader):
    response = alice.post(_base(alice), json={"file": "2026-03-02,-1,A"})
    assert_problem(response, 415, "unsupported_media_type")
    text = alice.post(_base(alice), data=CSV, content_type="text/csv")
    assert_problem(text, 415, "unsupported_media_type")


def test_every_other_route_still_takes_json_only(alice):
    data = {"name": "Food", "file": (io.BytesIO(b"x"), "x.csv")}
    response = alice.post("/api/categories", data=data, content_type="multipart/form-data")
    assert_problem(response, 415, "unsupported_media_type")
    path = f"/api/ledgers/{alice.ledger_id}/categories"
    response = alice.post(path, data={"name": "Food"}, content_type="multipart/form-data")
    assert_problem(response, 415, "unsupported_media_type")


def test_an_upload_may_be_20_mb_and_no_more(alice, tiny_reader):
    line = b"2026-03-02,-1.00,Corner Market " + b"x" * 60 + b"\n"
    big = line * (2 * 1024 * 1024 // len(line))  # 2 MiB: over the JSON limit of 1 MiB
    assert _ok(upload(alice, alice.ledger_id, big), 201)["counts"]["new"] >= 1
    huge = b"x" * (bankfiles.MAX_BYTES + 1)
    assert_problem(upload(alice, alice.ledger_id, huge), 413, "payload_too_large")
    # JSON bodies keep their own limit.
    payload = {"name": "x" * (2 * 1024 * 1024)}
    assert_problem(alice.post("/api/categories", json=payload), 413, "payload_too_large")


def test_a_retried_upload_with_its_key_is_replayed(alice, tiny_reader):
    headers = {"Idempotency-Key": "upload-1"}
    path = _base(alice)

    def send(boundary_content):
        data = {"file": (io.BytesIO(boundary_content), "bank.csv"), "account": "checking"}
        return alice.post(path, data=data, content_type="multipart/form-data", headers=headers)

    first = _ok(send(CSV), 201)
    again = send(CSV)  # werkzeug's test client picks a new boundary each time
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first
    assert len(_ok(alice.get(path))["items"]) == 1
    assert_problem(send(CSV + b"2026-03-09,-1,B\n"), 422, "idempotency_key_reused")


# --- One webhook event per commit -------------------------------------------------------------


def test_a_commit_sends_one_import_committed_event(alice, conn, tiny_reader):
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["import.committed", "transaction.created"]}
    _ok(alice.post("/api/webhooks", json=hook), 201)
    base = f"{_base(alice)}/{_ok(upload(alice, alice.ledger_id), 201)['id']}"
    committed = _ok(alice.post(f"{base}/commit"))
    events = conn.execute(
        "SELECT type, data FROM webhook_events WHERE ledger_id = %s ORDER BY id",
        (alice.ledger_id,),
    ).fetchall()
    assert [(kind, data) for kind, data in events] == [("import.committed", committed)]


# --- Through the real readers, once they exist ------------------------------------------------


@pytest.mark.skipif(
    importlib.util.find_spec(READING) is None,
    reason="the bank-file readers (domain/bankfiles/reading.py) are not in this build yet",
)
def test_a_csv_through_the_real_readers(alice):
    content = b"Date,Amount,Payee\n2026-03-02,-12.50,Corner Market\n2026-03-03,2500.00,ACME\n"
    created = _ok(upload(alice, alice.ledger_id, content), 201)
    assert created["format"] == "csv"
    assert created["counts"] == {"new": 2, "duplicate": 0, "match": 0, "invalid": 0}
    assert_problem(upload(alice, alice.ledger_id, b"\x00\x01\x02garbage"), 422)
