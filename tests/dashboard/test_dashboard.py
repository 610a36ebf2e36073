"""/app: the dashboard's page and files, served under a self-only policy (the browser tests in
test_dashboard_browser.py drive it)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from decimal import Decimal

import pytest

from expense_api.api.dashboard import ASSET_FOLDER, CONTENT_SECURITY_POLICY, SCRIPTS
from tests.helpers import assert_problem


def test_page_is_served_with_a_strict_policy(client):
    response = client.get("/app")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe" not in policy
    # data: URIs for images alone (the two-factor QR code, an SVG that runs no script as <img>)
    assert "img-src 'self' data:" in policy and policy.count("data:") == 1
    page = response.get_data(as_text=True)
    assert '<script type="module" src="/app/main.js"></script>' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "an inline script"
    assert not re.search(r"\sstyle=|\son\w+=", page), "inline style or handler"
    assert "http://" not in page and "https://" not in page  # no third-party origin


def test_assets_have_their_media_types(client):
    script = client.get("/app/main.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert "refreshCookie: true" in script.get_data(as_text=True)
    # Every module main.js imports, and every one they import, is served as JavaScript: a
    # browser refuses a module of another media type (and the page would stay blank).
    seen, waiting = set(), ["main.js"]
    while waiting:
        name = waiting.pop()
        seen.add(name)
        module = client.get(f"/app/{name}")
        assert module.status_code == 200 and module.mimetype == "text/javascript", name
        assert module.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        imported = re.findall(r'from "\./([\w-]+\.js)"', module.get_data(as_text=True))
        waiting += [file for file in imported if file not in seen]
    assert seen == set(SCRIPTS) and len(seen) > 4
    installed = {path.name for path in ASSET_FOLDER.glob("*.js")}
    assert installed == seen, (
        "a script that is not served, or not in setup.cfg's dashboard_assets/*"
    )
    style = client.get("/app/app.css")
    assert style.status_code == 200 and style.mimetype == "text/css"
    assert style.headers["Cache-Control"] == "no-cache"


def test_only_listed_files_are_served(client):
    for path in (
        "/app/index.html",
        "/app/../dashboard.py",
        "/app/",
        "/app/main.js/",
        "/app/app.js",
    ):
        assert_problem(client.get(path), 404)


def test_the_page_needs_no_token(client):
    assert client.get("/app", headers={"Authorization": "Bearer nonsense"}).status_code == 200


def test_the_history_view_is_a_dialog_the_rows_open(client):
    page = client.get("/app").get_data(as_text=True)
    dialog = re.search(
        r'<dialog id="history" aria-labelledby="history-title">(.*?)</dialog>', page, re.S
    )
    assert dialog, "the History view is a modal dialog named by its title"
    for part in ('id="history-close"', 'role="status"', 'role="alert"', 'id="history-more"'):
        assert part in dialog.group(1), part
    views = client.get("/app/views.js").get_data(as_text=True)
    assert '"aria-label": `History of ${describe(t)}`' in views  # the button names its row
    history = client.get("/app/history.js").get_data(as_text=True)
    assert "/changes?entity=transaction&entityId=${transaction.id}" in history
    assert "page.nextCursor" in history


# What changes.js makes of an entry, run under node (installed with npm by bin/_bootstrap): the
# module is plain ES with no page, so it needs no browser.
ENTRY_WORDS = """
import * as words from "./changes.mjs";
// Keys in jsonb's order (shorter first), as the log stores them.
const transaction = {id: 7, date: "2026-03-01", tags: [], type: "EXPENSE", amount: "30.00",
  category: "Groceries", createdBy: {id: 1, name: "Asha"}, categoryId: 3, description: "Market",
  extra: {a: 1}};
const edited = {...transaction, amount: "25.00", tags: ["food", "weekly"]};
const split = {...transaction, categoryId: null, category: null, splits: [
  {categoryId: 3, category: "Groceries", amount: "45.10", memo: "Fruit"},
  {categoryId: 4, category: "Gifts", amount: "25.10", memo: null}]};
const entry = (op, before, after, actor = {id: 1, name: "Asha"}, via = "rest") =>
  ({seq: 1, at: "2026-03-01T10:00:00Z", actor, via, requestId: "r1", entity: "transaction",
    entityId: 7, op, before, after});
const shown = (e) => words.changedFields(e).map((f) =>
  [f.label, "before" in f ? words.valueText(f.before) : null, "after" in f ? words.valueText(f.after) : null]);
console.log(JSON.stringify({
  updated: shown(entry("updated", transaction, edited)),
  unchanged: shown(entry("updated", transaction, {...transaction})),
  split: shown(entry("updated", transaction, split)),
  created: shown(entry("created", null, transaction)),
  deleted: shown(entry("deleted", transaction, null)),
  people: [words.actorName(entry("created", null, transaction)),
           words.actorName(entry("created", null, transaction, null, "cli"))],
  doors: ["rest", "graphql", "worker", "import", "cli", "carrier-pigeon"].map(words.doorName),
  ops: ["created", "updated", "deleted"].map(words.opName),
  kolkata: words.entryTime("2026-03-01T10:00:00Z", "Asia/Kolkata", "en-US"),
  utc: words.entryTime("2026-03-01T10:00:00Z", "UTC", "en-US"),
  unknownZone: words.entryTime("2026-03-01T10:00:00Z", "Mars/Olympus", "en-US"),
}));
"""


def _run_under_node(tmp_path, module: str, script: str) -> dict:
    """Runs `script` beside a copy of the dashboard's `module` (importable as ./NAME.mjs) under
    node and returns what it printed, as JSON."""
    node = shutil.which("node")
    if node is None:
        pytest.skip(
            "node is not installed (bin/_bootstrap needs it for npm; apt-get install nodejs)"
        )
    copy = tmp_path / module.replace(".js", ".mjs")
    copy.write_text((ASSET_FOLDER / module).read_text())
    (tmp_path / "run.mjs").write_text(script)
    ran = subprocess.run(
        [node, "run.mjs"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


def test_an_entry_in_words(tmp_path):
    said = _run_under_node(tmp_path, "changes.js", ENTRY_WORDS)
    # An update shows only what changed, as before -> after, money as the API's exact string.
    assert said["updated"] == [["Amount", "30.00", "25.00"], ["Tags", "none", "food, weekly"]]
    assert said["unchanged"] == []
    # A split: the category gone, the lines in words.
    assert said["split"] == [
        ["Category", "Groceries", "none"],
        ["Category id", "3", "none"],
        ["Splits", "none", "Groceries 45.10 (Fruit), Gifts 25.10"],
    ]
    # A creation shows the whole new entity, a deletion the whole entity as it was.
    # In the order a person reads a transaction (jsonb keeps none); unknown fields last.
    fields = ["Date", "Type", "Amount", "Category", "Category id", "Tags", "Description", "Id"]
    assert [label for label, _, _ in said["created"]] == [*fields, "Created by", "Extra"]
    assert said["created"][2] == ["Amount", None, "30.00"]
    assert said["created"][8:] == [["Created by", None, "Asha"], ["Extra", None, '{"a":1}']]
    assert said["deleted"][6] == ["Description", "Market", None]
    assert said["people"] == ["Asha", "the service"]
    assert said["doors"] == [
        "the REST API",
        "GraphQL",
        "the worker",
        "an import",
        "the command line",
        "carrier-pigeon",
    ]
    assert said["ops"] == ["Created", "Updated", "Deleted"]
    # The ledger's clock, not the browser's, and the zone is named.
    assert said["kolkata"] == "Mar 1, 2026, 03:30:00 PM GMT+5:30"
    assert said["utc"] == "Mar 1, 2026, 10:00:00 AM UTC"
    assert said["unknownZone"] == said["utc"]


# The split lines' sums in the form (format.js), under node: amounts are read as the API reads
# them, into whole minor units, and summed as BigInt, never as binary floats.
EXACT_AMOUNTS = """
import { fractionDigits, fromMinor, toMinor } from "./format.mjs";
const sum = (texts, digits) =>
  fromMinor(texts.map((t) => toMinor(t, digits)).reduce((a, b) => a + b, 0n), digits);
console.log(JSON.stringify({
  read: ["12.5", "12.50", "12.500", "12.505", "0.1", "7", " 7 ", "1e3", "-1", ".5", "1.", "1,5", ""]
    .map((t) => String(toMinor(t, 2))),
  yen: ["1200", "1200.0", "1200.5"].map((t) => String(toMinor(t, 0))),
  dinar: String(toMinor("1.234", 3)),
  sums: [sum(["45.10", "30.10", "25.10"], 2), sum(["0.1", "0.2"], 2),
         sum(["999999999999.99", "0.01"], 2), sum(["1.234", "0.001"], 3)],
  remaining: [fromMinor(toMinor("100.30", 2) - toMinor("100.40", 2), 2), fromMinor(-5n, 3),
              fromMinor(0n, 0), fromMinor(0n, 2)],
  digits: ["0.00", "0", "0.000"].map(fractionDigits),
}));
"""


def test_split_amounts_are_summed_exactly(tmp_path):
    said = _run_under_node(tmp_path, "format.js", EXACT_AMOUNTS)
    # What the API takes (extra fraction digits only as zeros), in minor units; nothing else.
    assert said["read"] == ["1250", "1250", "1250", "null", "10", "700", "700"] + ["null"] * 6
    assert said["yen"] == ["1200", "1200", "null"]
    assert said["dinar"] == "1234"
    # 45.10 + 30.10 + 25.10 is 100.30000000000001 in binary floats.
    assert said["sums"] == ["100.30", "0.30", "1000000000000.00", "1.235"]
    assert said["remaining"] == ["-0.10", "-0.005", "0", "0.00"]
    assert said["digits"] == [2, 0, 3]


# The transaction form's currencies (currencies.js), under node: the API's digits table, rates
# read as the API reads them, and conversions equal to the API's own (domain/currencies.convert).
CONVERSIONS = [
    ("12.34", "EUR", "1.0842", "USD"),  # 13.379028 -> 13.38
    ("12.34", "EUR", "1.1", "USD"),  # 13.574 -> 13.57
    ("0.05", "USD", "0.1", "USD"),  # 0.005 -> 0.01: half up
    ("1000", "JPY", "0.00205", "KWD"),  # 2.05
    ("1", "JPY", "0.006705", "USD"),  # 0.006705 -> 0.01
    ("999999.999", "KWD", "3.25", "JPY"),  # 3249999.99675 -> 3250000
    ("123.4567", "CLF", "987654321.123", "EUR"),
    ("0.01", "EUR", "0.000000000001", "USD"),  # 0: the API refuses it
    ("7.125", "BHD", "0.5", "BHD"),  # 3.5625 -> 3.563
]
RATES = ["1.0842", "0001.50", "150", "999999999.999", "1000000000", "0", "0.000",
         "1.2345678901234", "123456789012", "0.000000000001", "1e3", "-1", " 1.5", "1.", ".5"]  # fmt: skip

CURRENCY_SCRIPT = """
import { CURRENCIES, convertMinor, digitsOf, isCurrency, readRate } from "./currencies.mjs";
const cases = JSON.parse(process.argv[2]);
const minor = (text, digits) => {
  const [whole, fraction = ""] = text.split(".");
  return BigInt(whole + fraction.padEnd(digits, "0"));
};
const text = (value, digits) => {
  const padded = value.toString().padStart(digits + 1, "0");
  return digits ? `${padded.slice(0, -digits)}.${padded.slice(-digits)}` : padded;
};
console.log(JSON.stringify({
  digits: Object.fromEntries(CURRENCIES.map((code) => [code, digitsOf(code)])),
  known: ["EUR", "eur", "XXX", "EURO", ""].map(isCurrency),
  rates: cases.rates.map((r) => { const rate = readRate(r); return rate && [String(rate.units), rate.scale]; }),
  converted: cases.conversions.map(([amount, from, rate, to]) =>
    text(convertMinor(minor(amount, digitsOf(from)), digitsOf(from), readRate(rate), digitsOf(to)),
         digitsOf(to))),
}));
"""


def test_the_forms_conversions_are_the_apis(tmp_path):
    from expense_api.domain.currencies import ConversionError, RateError, convert, parse_rate
    from expense_api.domain.money import digits_table, minor_units

    cases = json.dumps({"rates": RATES, "conversions": CONVERSIONS})
    script = CURRENCY_SCRIPT.replace("process.argv[2]", json.dumps(cases))
    said = _run_under_node(tmp_path, "currencies.js", script)
    assert said["digits"] == digits_table()
    assert said["known"] == [True, False, False, False, False]
    for text, read in zip(RATES, said["rates"], strict=True):
        try:
            rate = parse_rate(text)
        except RateError:
            assert read is None, text
        else:
            assert read is not None and Decimal(int(read[0])).scaleb(-read[1]) == rate, text
    for (amount, source, rate, ledger), got in zip(CONVERSIONS, said["converted"], strict=True):
        try:
            expected = convert(Decimal(amount), parse_rate(rate), ledger)
        except ConversionError:
            expected = Decimal(0).quantize(Decimal(1).scaleb(-minor_units(ledger)))
        assert got == str(expected), (amount, source, rate, ledger)


def test_the_import_page_refuses_what_the_service_would_before_uploading_it():
    """The page says a file is too big without sending it: its limit is the service's."""
    from expense_api.domain.bankfiles import MAX_BYTES

    script = (ASSET_FOLDER / "imports.js").read_text()
    [limit] = re.findall(r"const MAX_UPLOAD_BYTES = ([0-9 *]+);", script)
    assert eval(limit, {"__builtins__": {}}) == MAX_BYTES
    assert "file.size > MAX_UPLOAD_BYTES" in script
