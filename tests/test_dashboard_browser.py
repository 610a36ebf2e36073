"""The dashboard at /app in a real headless Chromium (Debian's), driven by Playwright.

A household's week: register through the page, add a category, a budget and expenses, watch the
cards and charts change, be refused an over-budget expense in plain words, page through the
transactions, edit and delete one, invite a second user who accepts in a second browser context,
and both see the same ledger. Screenshots of each screen go to test-artefacts/dashboard/
(gitignored). axe-core (installed by bin/_bootstrap from npm, injected here) checks each screen.

The browser talks to nothing but the service under test: its background services are switched
off by flags, and every request the page makes is recorded and must be to the service's origin.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from expense_api.devtools import PROJECT_ROOT, call

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
AXE = PROJECT_ROOT / "tests" / "browser_assets" / "node_modules" / "axe-core" / "axe.min.js"
ARTEFACTS = PROJECT_ROOT / "test-artefacts" / "dashboard"
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-default-apps",
    "--no-sandbox",  # CI runs as root
]
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (bin/test installs it)"
    )
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed: `apt-get install chromium` (.ci/run does)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Person:
    """One person at one browser context, recording every request their page makes."""

    def __init__(self, browser, base: str, name: str):
        self.base, self.name = base, name
        self.email = f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.com"
        self.context = browser.new_context(
            locale="en-US", timezone_id="UTC", viewport={"width": 1280, "height": 900}
        )
        if AXE.exists():  # before the page's own scripts, through the DevTools protocol: the
            # page's policy (no inline script) stays in force for everything else
            self.context.add_init_script(path=str(AXE))
        self.page = self.context.new_page()
        self.requested: list[str] = []
        self.page.on("request", lambda request: self.requested.append(request.url))
        self.page.set_default_timeout(10_000)

    def open(self):
        self.page.goto(self.base + "/app")

    def register(self):
        form = self.page.locator("#register")
        form.get_by_label("Name").fill(self.name)
        form.get_by_label("Email").fill(self.email)
        form.get_by_label("Password").fill(PASSWORD)
        form.get_by_role("button", name="Register").click()
        self.page.locator("#who").filter(has_text=self.name).wait_for()

    def screenshot(self, name: str):
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)

    def accessibility_violations(self) -> list[dict]:
        if not AXE.exists():
            return []  # test_accessibility says it is skipped and why
        result = self.page.evaluate("() => axe.run(document)")
        return [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    def add_transaction(self, amount: str, kind: str = "Expense", description: str = ""):
        form = self.page.locator("#tx-form")
        form.get_by_label("Type").select_option(label=kind)
        form.get_by_label("Amount").fill(amount)
        form.get_by_label("Description").fill(description)
        form.get_by_role("button", name="Add").click()

    def text(self, selector: str) -> str:
        return self.page.locator(selector).inner_text()


def _wait_text(person: Person, selector: str, text: str):
    person.page.locator(selector).filter(has_text=text).first.wait_for()


def test_a_household_week(browser, live_server):
    asha = Person(browser, live_server.base, "Asha")
    ben = Person(browser, live_server.base, "Ben")
    try:
        _household_week(asha, ben, live_server.base)
    finally:
        asha.context.close()
        ben.context.close()
    for person in (asha, ben):
        strangers = [u for u in person.requested if not u.startswith(live_server.base + "/")]
        assert strangers == [], "the page contacted another origin"


def _household_week(asha: Person, ben: Person, base: str):
    page = asha.page
    asha.open()
    page.locator("#signin").wait_for()
    asha.screenshot("01-sign-in")
    assert asha.accessibility_violations() == []

    asha.register()
    ben.open()
    ben.register()
    _wait_text(asha, "#expense", "$0.00")
    asha.screenshot("02-empty-ledger")

    # A category, a budget of 100 with its alert at 80%, then expenses.
    category = page.locator("#category-form")
    category.get_by_label("Name").fill("Groceries")
    category.get_by_role("button", name="Add category").click()
    page.locator("#tx-form select[name=categoryId] option", has_text="Groceries").wait_for(
        state="attached"
    )
    budget = page.locator("#budget-form")
    budget.get_by_label("Category").select_option(label="Groceries")
    budget.get_by_label("Amount").fill("100")
    budget.get_by_role("button", name="Save budget").click()
    _wait_text(asha, "#budgets li", "Groceries (hard): $0.00 of $100.00")

    asha.add_transaction("30", description="Market")
    _wait_text(asha, "#expense", "$30.00")
    assert "Groceries" in asha.text("#breakdown")
    assert page.locator("#budgets .bar-fill").count() == 1
    asha.add_transaction("55.50", description="Weekly shop")
    _wait_text(asha, "#expense", "$85.50")
    _wait_text(asha, "#alerts-list", "Groceries budget passed its alert threshold: 85.50% used")
    assert page.locator("#budgets .bar-warn").count() == 1  # past the dashed threshold mark
    asha.add_transaction("2500", kind="Income", description="Salary")
    _wait_text(asha, "#savings", "$2,414.50")
    assert "Income" in page.locator("#trend svg").get_attribute("aria-label")
    asha.screenshot("03-spending")
    assert asha.accessibility_violations() == []

    # Over the hard budget: refused, in plain words, and nothing changes.
    asha.add_transaction("20", description="Too much")
    _wait_text(
        asha,
        "#tx-error",
        "Not saved: this expense would put the Groceries budget over by $5.50. "
        "The budget is $100.00, $85.50 is already spent and $14.50 remains.",
    )
    assert asha.text("#expense") == "$85.50"
    asha.screenshot("04-refused-over-budget")
    page.locator("#alerts-list").get_by_role("button", name="Mark read").click()
    _wait_text(asha, "#alerts-list", "No unread alerts.")

    # A validation error is shown next to its field.
    asha.add_transaction("12.345")
    _wait_text(asha, '#tx-form .error[data-for="amount"]', "USD allows at most 2 fraction digits.")
    assert page.locator("#tx-form input[name=amount]").get_attribute("aria-invalid") == "true"

    # Ten more rows through the API, then a reload: the page signs in again by its cookie.
    _seed_income(base, asha.email, count=10)
    page.reload()
    _wait_text(asha, "#who", "Asha")
    page.locator("#tx-list tr").nth(9).wait_for()
    assert page.locator("#tx-list tr").count() == 10
    page.get_by_role("button", name="Load more").click()
    page.locator("#tx-list tr").nth(12).wait_for()
    assert page.locator("#tx-list tr").count() == 13
    assert page.get_by_role("button", name="Load more").is_hidden()

    # Edit: the market run was 25, not 30; then delete it.
    page.get_by_role("button", name="Edit Market").click()
    page.locator("#tx-form").get_by_label("Amount").fill("25")
    page.locator("#tx-form").get_by_role("button", name="Save").click()
    _wait_text(asha, "#expense", "$80.50")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete Market").click()
    _wait_text(asha, "#expense", "$55.50")

    # The keyboard alone reaches and moves the month picker; another month is empty.
    page.locator("#month").focus()
    page.keyboard.press("ArrowDown")
    _wait_text(asha, "#expense", "$0.00")
    page.keyboard.press("ArrowUp")
    _wait_text(asha, "#expense", "$55.50")

    # Asha invites Ben, who accepts in his own browser context; both see the same ledger.
    invite = page.locator("#invite-form")
    invite.get_by_label("Email").fill(ben.email)
    invite.get_by_role("button", name="Invite").click()
    _wait_text(asha, "#invitations", f"{ben.email} as editor")
    asha.screenshot("05-household")
    ben.page.reload()
    ben.page.get_by_role("button", name="Accept Personal").click()
    _wait_text(ben, "#status", "You joined Personal.")
    assert "(USD, editor)" in ben.page.locator("#ledger option:checked").inner_text()
    _wait_text(ben, "#expense", "$55.50")
    _wait_text(ben, "#members", "Asha")
    assert "Weekly shop" in ben.text("#tx-list")
    ben.screenshot("06-second-member")
    assert ben.accessibility_violations() == []
    page.reload()
    _wait_text(asha, "#members", "Ben")

    # A phone-width screen: one column, still usable.
    page.set_viewport_size({"width": 390, "height": 844})
    asha.screenshot("07-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert asha.accessibility_violations() == []

    # Signing out forgets the cookie: a reload shows the sign-in form.
    page.get_by_role("button", name="Sign out").click()
    page.locator("#signin").wait_for()
    page.reload()
    page.locator("#signin").wait_for()
    assert page.locator("#signed-in").is_hidden()


def _seed_income(base: str, email: str, count: int):
    status, tokens, _ = call(
        base, "POST", "/api/auth/login", {"email": email, "password": PASSWORD}
    )
    assert status == 200
    categories = call(base, "GET", "/api/categories", token=tokens["accessToken"])[1]["items"]
    period = call(base, "GET", "/api/summary", token=tokens["accessToken"])[1]
    for n in range(count):
        status, body, _ = call(
            base,
            "POST",
            "/api/transactions",
            {
                "amount": "1",
                "type": "INCOME",
                "categoryId": categories[0]["id"],
                "date": period["from"],
                "description": f"Refund {n}",
            },
            token=tokens["accessToken"],
        )
        assert status == 201, body


def test_accessibility_engine_is_installed(browser):
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed at {AXE} (bin/_bootstrap installs it with npm)")


def test_page_refuses_inline_script(browser, live_server):
    """The policy is enforced by the browser: an injected inline script does not run."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(live_server.base + "/app")
        page.evaluate(
            """() => { const s = document.createElement('script');
                       s.textContent = 'window.injected = true'; document.head.append(s); }"""
        )
        assert page.evaluate("window.injected === undefined")
    finally:
        context.close()
