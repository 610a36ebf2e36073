"""The dashboard's Import page in a real headless Chromium (docs/DASHBOARD.md "The Import page").

A household's bank files: an OFX 2.x statement and a German bank's CSV (`;`, decimal commas),
written here, uploaded through the page; their previews show each row's decision (a match of a
purchase entered by hand through the API, an invalid zero-amount row), a category is changed and
a row skipped before the commit, the REST API then holds what the page committed, and undoing an
import from its own page (reached from the list of past imports) takes its transactions away
again, keeping the one edited since. Refusals of a file (unknown format, a truncated file with its
line, over 20 MB) are said in plain words.
"""

from __future__ import annotations

from devtools.servers import call
from tests.dashboard.browsing import Person, _wait_text

STATEMENT_OFX = b"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<OFX>
<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>
<DTSERVER>20260310120000</DTSERVER><LANGUAGE>ENG</LANGUAGE></SONRS></SIGNONMSGSRSV1>
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>
<STMTRS><CURDEF>EUR</CURDEF>
<BANKACCTFROM><BANKID>50010517</BANKID><ACCTID>0648489890</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>
<BANKTRANLIST><DTSTART>20260301</DTSTART><DTEND>20260310</DTEND>
<STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20260302120000[+1:CET]</DTPOSTED><TRNAMT>-42.17</TRNAMT>
<FITID>202603020001</FITID><NAME>CORNER MARKET</NAME><MEMO>Card 1234 groceries</MEMO></STMTTRN>
<STMTTRN><TRNTYPE>CREDIT</TRNTYPE><DTPOSTED>20260303</DTPOSTED><TRNAMT>2500.00</TRNAMT>
<FITID>202603030002</FITID><NAME>ACME PAYROLL</NAME><MEMO>Salary March</MEMO></STMTTRN>
<STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20260305</DTPOSTED><TRNAMT>-18.90</TRNAMT>
<FITID>202603050003</FITID><NAME>CITY CAFE</NAME><MEMO>Lunch</MEMO></STMTTRN>
<STMTTRN><TRNTYPE>POS</TRNTYPE><DTPOSTED>20260308</DTPOSTED><TRNAMT>-63.05</TRNAMT>
<FITID>202603080004</FITID><NAME>HARDWARE BARN</NAME><MEMO>Paint</MEMO></STMTTRN>
</BANKTRANLIST>
<LEDGERBAL><BALAMT>1375.88</BALAMT><DTASOF>20260310</DTASOF></LEDGERBAL>
</STMTRS></STMTTRNRS></BANKMSGSRSV1>
</OFX>
"""

UMSAETZE_CSV = (
    "Buchungstag;Empfänger;Verwendungszweck;Betrag\n"
    "02.03.2026;Bäckerei Müller;Brötchen;-4,80\n"
    "04.03.2026;Stadtwerke;Abschlag März;-1.234,56\n"
    "06.03.2026;Kiosk;Storno;0,00\n"
    "09.03.2026;Erstattung GmbH;Rückzahlung;120,00\n"
).encode()

MARCH = "from=2026-03-01&to=2026-03-31&limit=100"
MINUS = "\N{MINUS SIGN}"  # an expense is written as the transactions list does (U+2212)


class Api:
    """The person's ledger through the REST API, as the test's own second client."""

    def __init__(self, person: Person):
        self.base, self.token = person.base, person.token()
        ledgers = call(self.base, "GET", "/api/ledgers", token=self.token)[1]["items"]
        self.ledger = ledgers[0]["id"]

    def __call__(self, method: str, path: str, body=None, expect: int = 200):
        status, answer, _ = call(
            self.base, method, f"/api/ledgers/{self.ledger}{path}", body, token=self.token
        )
        assert status == expect, answer
        return answer

    def category(self, name: str) -> int:
        existing = {c["name"]: c["id"] for c in self("GET", "/categories")["items"]}
        if name in existing:
            return existing[name]
        return self("POST", "/categories", {"name": name}, expect=201)["id"]

    def transactions(self) -> list[dict]:
        return self("GET", f"/transactions?{MARCH}")["items"]


def _choose(person: Person, name: str, data: bytes, account: str = "", *, folder=None):
    """Picks a file of `data` in the form and uploads it. With `folder`, the file is written
    there and picked by its path: a browser on this machine reads it itself (a buffer of
    megabytes crosses the driver's protocol, which a loaded machine made take over 10 s)."""
    form = person.page.locator("#import-form")
    if folder is not None:
        path = folder / name
        path.write_bytes(data)
        form.get_by_label("Bank file").set_input_files(path)
    else:
        form.get_by_label("Bank file").set_input_files(
            files=[{"name": name, "mimeType": "application/octet-stream", "buffer": data}]
        )
    form.get_by_label("Account").fill(account)
    form.get_by_role("button", name="Upload and preview").click()


def _row(person: Person, line: int):
    return person.page.locator(f'#import-rows tr[data-line="{line}"]')


def _cells(person: Person, line: int) -> list[str]:
    return [c.strip() for c in _row(person, line).locator("th, td").all_inner_texts()]


def test_import_a_bank_statement_and_undo_it(browser, live_server, tmp_path):
    person = Person(browser, live_server.base, "Greta")
    try:
        _bank_files(person, tmp_path)
    finally:
        person.context.close()
    strangers = [u for u in person.requested if not u.startswith(live_server.base + "/")]
    assert strangers == [], "the page contacted another origin"


def _bank_files(person: Person, tmp_path):
    page = person.page
    person.open()
    page.locator("#register").get_by_label("Currency").fill("EUR")
    person.register()
    api = Api(person)
    groceries, utilities = api.category("Groceries"), api.category("Utilities")
    # A coffee entered by hand a day before its bank line: the import matches it.
    cafe = api(
        "POST",
        "/transactions",
        {"amount": "18.90", "type": "EXPENSE", "categoryId": groceries, "date": "2026-03-04",
         "description": "Cafe with Jo"},
        expect=201,
    )  # fmt: skip
    api(
        "POST",
        "/budgets",
        {"amount": "1000", "mode": "hard", "categoryId": utilities, "year": 2026, "month": 3},
        expect=201,
    )

    page.locator("#month").fill("2026-03")
    _wait_text(person, "#expense", "€18.90")

    # The Import page has its own address; the overview is hidden meanwhile.
    page.get_by_role("link", name="Import").click()
    page.locator("#import-form").wait_for()
    assert page.url.endswith("#imports")
    assert page.locator("#overview-page").is_hidden()
    assert page.get_by_role("link", name="Import").get_attribute("aria-current") == "page"
    _wait_text(person, "#imports-list", "No imports yet.")

    # Files the service refuses, each said in plain words in the form's alert.
    _choose(person, "letter.txt", b"Dear bank,\nplease send my statement.\n")
    _wait_text(person, "#import-error", "Not uploaded: this is not a bank file the service reads")
    truncated = STATEMENT_OFX[
        : STATEMENT_OFX.index(b"<STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20260305")
    ]
    _choose(person, "cut.ofx", truncated)
    _wait_text(person, "#import-error", "Not uploaded: the file cannot be read at line")
    assert "truncated" in person.text("#import-error")
    huge = b"Date,Amount\n" + b"2026-03-01,1.00\n" * 1_400_000
    _choose(person, "huge.csv", huge, folder=tmp_path)
    _wait_text(person, "#import-error", "larger than 20 MB")

    # The OFX statement: three new rows and the coffee, matched.
    _choose(person, "statement.ofx", STATEMENT_OFX, account="Girokonto")
    page.locator("#import-view-title").filter(has_text="statement.ofx").wait_for()
    assert page.url.split("#")[1].startswith("imports/")
    ofx_page = page.url
    _row(person, 4).wait_for()
    assert 'OFX, account "Girokonto"' in person.text("#import-meta")
    assert "Status: Preview." in person.text("#import-meta")
    assert person.text("#import-counts").split() == ["New", "3", "Duplicate", "0", "Match", "1",
                                                      "Invalid", "0"]  # fmt: skip
    assert _cells(person, 1)[:6] == ["1", "2026-03-02", "CORNER MARKET", "Card 1234 groceries",
                                     f"{MINUS}€42.17", "New"]  # fmt: skip
    assert _cells(person, 2)[4] == "+€2,500.00"
    match = _cells(person, 3)
    assert match[5] == "Match" and match[6], "a match says why"
    action = _row(person, 3).get_by_label("Action for line 3")
    assert action.locator("option:checked").inner_text() == f"Link to transaction {cafe['id']}"
    assert _row(person, 3).get_by_label("Category of line 3").is_disabled()
    _wait_text(person, "#import-plan", "Committing creates 3 transactions, links 1")
    assert person.accessibility_violations() == []
    person.screenshot("20-import-preview-ofx")

    # The groceries go to Groceries, the paint is skipped; then the commit.
    _row(person, 1).get_by_label("Category of line 1").select_option(label="Groceries")
    _row(person, 4).get_by_label("Action for line 4").select_option(label="Skip")
    assert _row(person, 4).get_by_label("Category of line 4").is_disabled()
    _wait_text(
        person,
        "#import-plan",
        "Committing creates 2 transactions, links 1 to one entered by hand and skips 1.",
    )
    page.get_by_role("button", name="Commit import").click()
    _wait_text(person, "#import-state", "Committed: 2 transactions created, 1 linked, 1 skipped.")
    assert "Status: Committed." in person.text("#import-meta")
    _wait_text(person, "#import-rows", "Skipped")
    assert _cells(person, 3)[8] == f"Linked to transaction {cafe['id']}"
    assert _cells(person, 1)[7] == "Groceries"
    assert page.get_by_role("button", name="Undo import").is_visible()
    assert page.get_by_role("button", name="Commit import").is_hidden()

    by_payee = {t["payee"]: t for t in api.transactions()}
    assert set(by_payee) == {None, "CORNER MARKET", "ACME PAYROLL"}
    assert (by_payee["CORNER MARKET"]["amount"], by_payee["CORNER MARKET"]["type"]) == (
        "42.17",
        "EXPENSE",
    )
    assert by_payee["CORNER MARKET"]["categoryId"] == groceries
    assert (by_payee["ACME PAYROLL"]["amount"], by_payee["ACME PAYROLL"]["type"]) == (
        "2500.00",
        "INCOME",
    )
    assert by_payee[None]["id"] == cafe["id"], "the coffee matched, not duplicated"

    # The overview, drawn anew after the commit, has the month's new figures.
    page.get_by_role("link", name="Overview").click()
    _wait_text(person, "#expense", "€61.07")  # the coffee and the market run
    _wait_text(person, "#income", "€2,500.00")

    # The German CSV: decimal commas, a thousands point, `;`, and a zero row that is invalid.
    page.get_by_role("link", name="Import").click()
    page.locator("#import-view").wait_for(state="hidden")
    _choose(person, "umsaetze.csv", UMSAETZE_CSV, account="Girokonto")
    page.locator("#import-view-title").filter(has_text="umsaetze.csv").wait_for()
    _row(person, 5).wait_for()
    assert _cells(person, 2)[:6] == [
        "2",
        "2026-03-02",
        "Bäckerei Müller",
        "Brötchen",
        f"{MINUS}€4.80",
        "New",
    ]
    assert _cells(person, 3)[4] == f"{MINUS}€1,234.56"
    assert _cells(person, 5)[4] == "+€120.00"
    invalid = _cells(person, 4)
    assert invalid[4:6] == ["€0.00", "Invalid"] and "zero amount" in invalid[6]
    assert invalid[8] == "Not imported"
    _row(person, 3).get_by_label("Category of line 3").select_option(label="Utilities")
    person.screenshot("21-import-preview-csv")
    page.get_by_role("button", name="Commit import").click()
    _wait_text(person, "#import-state", "Committed: 3 transactions created")
    # Imports are facts: the hard budget took them, and the page says it ended over.
    _wait_text(
        person,
        "#import-result",
        "Utilities, March 2026 (hard): €1,234.56 spent of €1,000.00, over by €234.56",
    )
    person.screenshot("22-import-committed-over-budget")
    payees = {t["payee"]: t for t in api.transactions()}
    assert payees["Stadtwerke"]["amount"] == "1234.56"
    assert payees["Stadtwerke"]["categoryId"] == utilities
    assert payees["Erstattung GmbH"]["type"] == "INCOME"
    assert "Kiosk" not in payees

    # The same statement again: what was imported or linked is a duplicate; discarded.
    page.get_by_role("link", name="Import").click()
    page.locator("#import-view").wait_for(state="hidden")
    _choose(person, "statement.ofx", STATEMENT_OFX, account="Girokonto")
    page.locator("#import-view-title").filter(has_text="statement.ofx").wait_for()
    _row(person, 4).wait_for()
    assert [_cells(person, n)[5] for n in (1, 2, 3, 4)] == [
        "Duplicate",
        "Duplicate",
        "Duplicate",
        "New",
    ]
    page.get_by_role("button", name="Discard preview").click()
    _wait_text(person, "#import-meta", "Status: Discarded.")
    assert page.get_by_role("button", name="Commit import").is_hidden()

    # The payroll is edited since (it was the March salary); then the first import is undone
    # from its page, reached from the list of past imports.
    api("PATCH", f"/transactions/{by_payee['ACME PAYROLL']['id']}", {"description": "March salary"})
    rows = page.locator("#imports-list tr")
    _wait_text(person, "#imports-list tr:first-child", "Discarded")
    assert [r.split("\t")[3] for r in rows.all_inner_texts()] == [
        "Discarded",
        "Committed",
        "Committed",
    ]
    rows.nth(2).get_by_role("link", name="statement.ofx").click()
    page.wait_for_url(ofx_page)
    _wait_text(person, "#import-meta", "Status: Committed.")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Undo import").click()
    _wait_text(person, "#import-meta", "Status: Undone.")
    _wait_text(
        person,
        "#import-result",
        "Kept 1 transaction edited since the commit: ACME PAYROLL 2026-03-03",
    )
    payroll = by_payee["ACME PAYROLL"]["id"]
    assert [_cells(person, n)[8] for n in (1, 2, 3, 4)] == [
        "Deleted by the undo", f"Kept: transaction {payroll} (edited since)",
        f"Unlinked from transaction {cafe['id']}", "Skipped",
    ]  # fmt: skip
    assert person.accessibility_violations() == []
    person.screenshot("23-import-undone")
    payees = {t["payee"] for t in api.transactions()}
    assert "CORNER MARKET" not in payees
    assert {"ACME PAYROLL", None, "Stadtwerke"} <= payees  # kept, the coffee, the CSV's

    # A phone's width: the tables scroll inside their cards, the page does not.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    person.screenshot("24-import-phone")
    assert page.get_by_role("columnheader", name="Description").is_visible()

    # A reload comes back to the import's own page; another ledger shows its own imports.
    status, holiday, _ = call(
        api.base, "POST", "/api/ledgers", {"name": "Holiday", "currency": "EUR"}, token=api.token
    )
    assert status == 201, holiday
    page.reload()
    _wait_text(person, "#import-meta", "Status: Undone.")
    assert page.locator("#overview-page").is_hidden()
    page.locator("#ledger").select_option(label="Holiday (EUR, owner)")
    page.wait_for_url("**#imports")
    _wait_text(person, "#imports-list", "No imports yet.")
    assert page.locator("#import-view").is_hidden()

    # Back to the overview: the month's figures are there again.
    page.get_by_role("link", name="Overview").click()
    page.locator("#overview-page").wait_for()
    assert page.locator("#imports-page").is_hidden()


def test_a_long_preview_a_refused_choice_and_a_viewer(browser, live_server):
    """Sixty rows come a page of fifty at a time; a choice the API refuses at the commit (a
    category deleted meanwhile) is named by its line; a viewer reads the import but is offered
    nothing that writes."""
    owner = Person(browser, live_server.base, "Olga")
    viewer = Person(browser, live_server.base, "Vera")
    try:
        _long_preview(owner, viewer)
    finally:
        owner.context.close()
        viewer.context.close()


def _long_preview(owner: Person, viewer: Person):
    page = owner.page
    owner.open()
    owner.register()
    api = Api(owner)
    temporary = api.category("Temporary")
    lines = [f"2026-04-{1 + n % 28:02d},-{n + 1}.25,Shop {n + 1}" for n in range(60)]
    rows = ("Date,Amount,Payee\n" + "\n".join(lines) + "\n").encode()
    page.get_by_role("link", name="Import").click()
    _choose(owner, "april.csv", rows)
    page.locator("#import-view-title").filter(has_text="april.csv").wait_for()
    _row(owner, 51).wait_for()
    assert page.locator("#import-rows tr").count() == 50
    page.get_by_role("button", name="Load more rows").click()
    _row(owner, 61).wait_for()
    assert page.locator("#import-rows tr").count() == 60
    assert page.get_by_role("button", name="Load more rows").is_hidden()
    assert page.evaluate("document.activeElement.textContent") == "52"  # the first row it brought
    _row(owner, 58).get_by_label("Category of line 58").select_option(label="Temporary")
    _row(owner, 2).get_by_label("Action for line 2").select_option(label="Skip")
    _wait_text(owner, "#import-plan", "Committing creates 59 transactions")
    api("DELETE", f"/categories/{temporary}", expect=204)
    page.get_by_role("button", name="Commit import").click()
    _wait_text(owner, "#import-problem", "Not done: Line 58: No such category.")
    assert "Status: Preview." in owner.text("#import-meta")
    assert api("GET", "/transactions?from=2026-04-01&to=2026-04-30")["items"] == []
    address = page.url.split("#")[1]

    # Vera, a viewer of Olga's ledger, reads the import; nothing that writes is offered.
    viewer.open()
    viewer.register()
    invitation = api("POST", "/invitations", {"email": viewer.email, "role": "viewer"}, expect=201)
    status, joined, _ = call(
        viewer.base, "POST", f"/api/invitations/{invitation['id']}/accept", token=viewer.token()
    )
    assert status == 200, joined
    viewer.page.goto(f"{viewer.base}/app#imports")
    viewer.page.reload()
    viewer.page.locator("#ledger").select_option(label="Personal (USD, viewer)")
    viewer.page.get_by_role("link", name="april.csv").click()
    viewer.page.wait_for_url(f"**#{address}")
    _row(viewer, 51).wait_for()
    assert viewer.page.locator("#import-form").is_hidden()
    for name in ("Commit import", "Discard preview", "Undo import"):
        assert viewer.page.get_by_role("button", name=name).is_hidden()
    assert viewer.page.locator("#import-rows select").count() == 0
    assert viewer.accessibility_violations() == []
