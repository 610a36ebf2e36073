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

import contextlib
import json
import time

import psycopg
import pytest

from devtools.servers import call
from expense_api.demo import DEMO_PASSWORD, seed
from tests.dashboard.browsing import (
    AXE,
    PASSWORD,
    Person,
    _wait_text,
)

pytestmark = pytest.mark.browser


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


def _settle(page, requests, done: set, until=lambda: True, timeout: float = 10.0):
    """Waits until `until()` holds, every request `requests()` lists has finished or failed, and
    no new one has started for 300 ms, so the page has drawn whatever their answers bring. The
    quiet alone proves little under load (the page's next request can come later than that), so
    a test that knows the request a load sends last says so by `until`."""
    deadline = time.monotonic() + timeout
    while True:
        listed = list(requests())
        if until() and all(request in done for request in listed):
            page.wait_for_timeout(300)
            if len(list(requests())) == len(listed) and all(r in done for r in requests()):
                return
        still_open = [r.url for r in requests() if r not in done]
        assert time.monotonic() < deadline, f"requests still open: {still_open}"
        page.wait_for_timeout(20)


def test_a_fast_ledger_switch_shows_the_ledger_picked_last(browser, live_server):
    """The first ledger's answers come late, after the second ledger was picked and drawn: they
    are dropped (the load was cancelled), not drawn over the second ledger's figures."""
    person = Person(browser, live_server.base, "Switcher")
    page = person.page
    try:
        person.open()
        person.register()
        token = person.token()
        first = call(person.base, "GET", "/api/ledgers", token=token)[1]["items"][0]["id"]
        _expense(person.base, token, first, "7")
        status, second, _ = call(
            person.base, "POST", "/api/ledgers", {"name": "Holiday", "currency": "EUR"}, token=token
        )
        assert status == 201, second
        _expense(person.base, token, second["id"], "42", description="Ferry")
        page.reload()
        _wait_text(person, "#expense", "$7.00")
        select = page.locator("#ledger")
        select.select_option(str(second["id"]))
        _wait_text(person, "#expense", "€42.00")

        held, done = [], set()
        page.on("requestfinished", lambda request: done.add(request))
        page.on("requestfailed", lambda request: done.add(request))

        def hold_first(route):
            if f"/api/ledgers/{first}/" in route.request.url:
                held.append(route)
            else:
                route.continue_()

        page.route("**/api/ledgers/**", hold_first)
        select.select_option(str(first))
        while len(held) < 7:  # the first ledger's requests are out, and held
            page.wait_for_timeout(20)
        select.select_option(str(second["id"]))
        _wait_text(person, "#tx-list", "Ferry")
        for route in held:
            # A request the page cancelled while it was held has nothing to continue.
            with contextlib.suppress(Exception):
                route.continue_()
        _settle(page, lambda: [route.request for route in held], done)
        assert person.text("#expense") == "€42.00"
        assert "Ferry" in person.text("#tx-list")
        assert "€" in page.locator("#trend svg").get_attribute("aria-label")
        assert select.input_value() == str(second["id"])
    finally:
        person.context.close()


def test_parallel_401s_wait_for_one_refresh(browser, live_server):
    """The access token expires: the month's seven parallel requests are all refused with 401,
    and all of them wait for one refresh by the cookie, then each is retried once."""
    person = Person(browser, live_server.base, "Expired")
    page = person.page
    try:
        person.open()
        person.register()
        token = person.token()
        ledger = call(person.base, "GET", "/api/ledgers", token=token)[1]["items"][0]["id"]
        _expense(person.base, token, ledger, "5")
        page.reload()
        _wait_text(person, "#expense", "$5.00")

        sent = {"token": None}
        expired: set[str] = set()
        refreshes, requests, done, answered = [], [], set(), set()

        def watch(request):
            if request.url.endswith("/api/auth/refresh"):
                refreshes.append(request)
            if "/api/ledgers/" in request.url:
                requests.append(request)
                sent["token"] = request.headers.get("authorization")

        def answer(response):
            done.add(response.request)
            answered.add(response.request)

        page.on("request", watch)
        # Answered is done here: a refused refresh's body may never be read, so never "finished".
        page.on("response", answer)
        page.on("requestfailed", lambda request: done.add(request))

        def month_loaded():
            """The shown month's view has loaded to its end. The load draws the figures
            ($0.00 is shown while its transactions and household are still on their way),
            then asks for the month's transactions and the members, and for an owner the
            invitations once the members are in: that is its last request."""
            month = int(page.locator("#month").input_value().split("-")[1])
            urls = [r.url for r in requests]
            month_tx = [i for i, url in enumerate(urls) if "/transactions?" in url
                        and f"&month={month}&" in url]  # fmt: skip
            return bool(month_tx) and any(
                url.endswith("/invitations") and requests[i] in answered
                and requests[i].headers.get("authorization") not in expired
                for i, url in enumerate(urls[month_tx[-1]:], start=month_tx[-1])
            )  # fmt: skip

        def refuse_expired(route):
            if route.request.headers.get("authorization") in expired:
                route.fulfill(
                    status=401,
                    content_type="application/problem+json",
                    body=json.dumps(
                        {
                            "type": "about:blank",
                            "title": "Unauthorized",
                            "status": 401,
                            "detail": "The token has expired.",
                            "code": "token_expired",
                        }
                    ),
                )
            else:
                route.continue_()

        # One more look at the ledger records the token the page holds; then it has expired. Not
        # before that look's load is over: a request of it still on its way would be refused
        # too, and the refresh it brings could be over before the month below is picked, whose
        # requests would then carry the new token.
        requests.clear()
        page.locator("#month").focus()
        page.keyboard.press("ArrowDown")
        _wait_text(person, "#expense", "$0.00")
        _settle(page, lambda: requests, done, until=month_loaded)
        assert sent["token"]
        expired.add(sent["token"])
        page.route("**/api/**", refuse_expired)
        refreshes.clear()
        requests.clear()
        page.keyboard.press("ArrowUp")
        _wait_text(person, "#expense", "$5.00")
        _settle(page, lambda: [*requests, *refreshes], done, until=month_loaded)
        refused = [r for r in requests if r.headers.get("authorization") in expired]
        view = ["categories", "summary", "category-breakdown", "budget-usage", "budgets", "trends",
                "notifications"]  # fmt: skip
        assert sorted(_resource(r.url) for r in refused) == sorted(view), (
            "the month's requests went out in parallel with the old token, each refused once"
        )
        assert len(refreshes) == 1, f"{len(refreshes)} refreshes for {len(refused)} refusals"
        retried = [r for r in requests if r.headers.get("authorization") not in expired]
        assert sorted(_resource(r.url) for r in retried) == sorted(
            [*view, "transactions", "members", "invitations"]
        ), "each refused one retried once with the new token, then the transactions etc."
    finally:
        person.context.close()


def _resource(url: str) -> str:
    """`/api/ledgers/1/summary?year=2026&month=12` -> `summary`."""
    return url.split("?")[0].rsplit("/", 1)[1]


def _expense(base: str, token: str, ledger: int, amount: str, description: str = "Shop"):
    status, category, _ = call(
        base, "POST", f"/api/ledgers/{ledger}/categories", {"name": "Spending"}, token=token
    )
    assert status == 201, category
    day = call(base, "GET", f"/api/ledgers/{ledger}/summary", token=token)[1]["from"]
    body = {"amount": amount, "type": "EXPENSE", "categoryId": category["id"], "date": day,
            "description": description}  # fmt: skip
    status, saved, _ = call(base, "POST", f"/api/ledgers/{ledger}/transactions", body, token=token)
    assert status == 201, saved


CHART_GEOMETRY = """() => {
  const box = (node) => node.getBoundingClientRect();
  const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  // The size text is drawn at: its font size times the picture's scale on the page.
  const drawnSize = (text) => {
    const chart = text.ownerSVGElement;
    const scale = box(chart).width / chart.viewBox.baseVal.width;
    return parseFloat(getComputedStyle(text).fontSize) * scale;
  };
  const texts = [...document.querySelectorAll("#trend text, #breakdown text")];
  const rows = [...document.querySelectorAll("#breakdown rect")].map((bar, n) => {
    const [label, amount] = [document.querySelectorAll("#breakdown .label")[n],
                             document.querySelectorAll("#breakdown .amount")[n]];
    return overlaps(box(bar), box(label)) || overlaps(box(bar), box(amount));
  });
  const budgets = [...document.querySelectorAll("#budgets li")].map((li) => {
    const bar = box(li.querySelector("svg")), row = box(li);
    return [bar.left - row.left, Math.round(bar.width), Math.round(row.right - box(li.children[1]).right)];
  });
  return {
    pageText: parseFloat(getComputedStyle(document.querySelector("#tx-list td")).fontSize),
    drawnSizes: texts.map(drawnSize),
    ticks: [...document.querySelectorAll("#trend .tick")].map((t) => t.textContent),
    months: [...document.querySelectorAll("#trend .month")].map((t) => t.textContent),
    legend: [...document.querySelectorAll("#trend .legend")].map((t) => t.textContent),
    breakdownRows: rows.length,
    barsOverlappingText: rows.filter(Boolean).length,
    budgets,
  };
}"""


REDRAWN = """() => [...document.querySelectorAll("#breakdown > svg, #trend > svg")].every(
  (chart) => Number(chart.getAttribute("width")) === Math.floor(chart.parentElement.clientWidth))"""


def _assert_readable(geometry: dict, months: int):
    assert len(geometry["ticks"]) >= 3 and geometry["ticks"][0] == "$0", geometry["ticks"]
    assert all(tick.startswith("$") for tick in geometry["ticks"])
    assert len(geometry["months"]) >= months, geometry["months"]
    assert geometry["legend"] == ["Income", "Expenses"]
    page_text = geometry["pageText"]
    assert all(abs(size - page_text) < 0.5 for size in geometry["drawnSizes"]), (
        page_text,
        sorted(set(geometry["drawnSizes"])),
    )
    assert geometry["breakdownRows"] >= 8
    assert geometry["barsOverlappingText"] == 0
    assert len(geometry["budgets"]) == 4
    assert len({tuple(row) for row in geometry["budgets"]}) == 1, geometry["budgets"]


def test_a_year_of_demo_data_reads_at_1280(browser, live_server, database_url):
    """A year of the demo's data at 1280 px: the 12-month chart has values on its axis, a month
    under each point and a legend, all at the page's text size; no category's amount runs into
    its bar; every budget row is laid out alike."""
    with psycopg.connect(database_url) as conn:
        (user,) = seed(conn, [1500], years=1, progress=False, bcrypt_rounds=4, label="chart")
    person = Person(browser, live_server.base, "Demo")
    page = person.page
    try:
        person.open()
        person.sign_in(user.email, DEMO_PASSWORD)
        page.locator("#trend .tick").first.wait_for()
        page.locator("#budgets li").nth(3).wait_for()
        person.screenshot("08-demo-year-1280")
        _assert_readable(page.evaluate(CHART_GEOMETRY), months=12)
        # Narrower (still two columns): the charts are drawn again at their boxes' new width.
        page.set_viewport_size({"width": 760, "height": 900})
        page.wait_for_function(REDRAWN)
        person.screenshot("09-demo-year-760")
        _assert_readable(page.evaluate(CHART_GEOMETRY), months=4)
        assert page.evaluate("document.documentElement.scrollWidth") <= 760
        assert person.accessibility_violations() == []
    finally:
        person.context.close()


# A value's parts as the screen shows them, and as a screen reader reads them.
SEEN = """dd => [...dd.children].filter((n) => !n.classList.contains("visually-hidden"))
  .map((n) => n.textContent.trim()).join(" ")"""
SPOKEN = """dd => [...dd.children].filter((n) => n.getAttribute("aria-hidden") !== "true")
  .map((n) => n.textContent.trim()).join(" ")"""
FOCUS_IN_DIALOG = "() => document.activeElement?.closest('dialog#history') !== null"


def test_a_transaction_history(browser, live_server):
    """A transaction is added and edited through the page, then edited through GraphQL and the
    REST API: its History, opened from its row by the keyboard, lists the entries newest first,
    with who, the door, the time on the ledger's clock and each changed field before -> after
    (the whole transaction for its creation); Load more pages; Escape gives the focus back. Its
    empty and error states are shown as such."""
    person = Person(browser, live_server.base, "Historian")
    page = person.page
    try:
        person.open()
        person.register()
        token = person.token()
        # The ledger's clock is Kolkata's, the browser's UTC: the times shown are the ledger's.
        body = {"name": "Kolkata", "currency": "USD", "timezone": "Asia/Kolkata"}
        status, ledger, _ = call(person.base, "POST", "/api/ledgers", body, token=token)
        assert status == 201, ledger
        path = f"/api/ledgers/{ledger['id']}"
        body = {"name": "Food"}
        assert call(person.base, "POST", f"{path}/categories", body, token=token)[0] == 201
        page.reload()
        page.locator(f"#ledger option[value='{ledger['id']}']").wait_for(state="attached")
        page.locator("#ledger").select_option(str(ledger["id"]))
        page.locator("#tx-form select[name=categoryId] option", has_text="Food").wait_for(
            state="attached"
        )
        person.add_transaction("30", description="Market")
        _wait_text(person, "#expense", "$30.00")
        page.get_by_role("button", name="Edit Market").click()
        page.locator("#tx-form").get_by_label("Amount").fill("25")
        page.locator("#tx-form").get_by_role("button", name="Save").click()
        _wait_text(person, "#expense", "$25.00")
        # The list is redrawn by a request of its own, after the cards': a redraw while the
        # dialog is open rightly sends the focus to the heading, not the (replaced) button.
        page.locator("#tx-list tr", has_text="Market").filter(has_text="25.00").wait_for()

        # From the keyboard: the row's History button opens the view, the focus goes into it.
        opener = page.get_by_role("button", name="History of Market")
        opener.focus()
        page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog", name="History of Market")
        entries = dialog.locator("li.change")
        entries.nth(1).wait_for()
        assert entries.count() == 2
        assert page.evaluate(FOCUS_IN_DIALOG)
        edited, created = entries.nth(0), entries.nth(1)
        assert (
            edited.locator(".change-head").inner_text() == "Updated by Historian via the REST API"
        )
        # Only the field that changed, before -> after, as the API gives the money.
        assert edited.locator("[data-field]").evaluate_all(
            "ns => ns.map(n => n.dataset.field)"
        ) == ["amount"]
        assert edited.locator("[data-field=amount] .before").inner_text() == "30.00"
        assert edited.locator("[data-field=amount] .after").inner_text() == "25.00"
        amount = edited.locator("[data-field=amount] dd")
        assert amount.evaluate(SEEN) == "30.00 → 25.00"
        assert amount.evaluate(SPOKEN) == "30.00 changed to 25.00"
        at = edited.locator("time")
        assert at.get_attribute("datetime").endswith("Z")
        assert at.inner_text().endswith("GMT+5:30"), at.inner_text()
        assert (
            created.locator(".change-head").inner_text() == "Created by Historian via the REST API"
        )
        for field, value in (("amount", "30.00"), ("description", "Market"), ("category", "Food")):
            assert created.locator(f"[data-field={field}] .after").inner_text() == value
        assert created.locator(".before").count() == 0
        shown = created.locator("[data-field]").evaluate_all("ns => ns.map(n => n.dataset.field)")
        assert shown[:4] == ["date", "type", "amount", "category"], shown  # as a person reads it
        assert created.locator("[data-field=createdBy] .after").inner_text() == "Historian"
        assert "2 changes shown" in dialog.get_by_role("status").inner_text()
        assert dialog.get_by_role("button", name="Load more").is_hidden()
        person.screenshot("10-history")
        assert person.accessibility_violations() == []

        # Escape closes it and the focus is back on the row's History button.
        page.keyboard.press("Escape")
        dialog.wait_for(state="hidden")
        assert page.evaluate("document.activeElement.textContent") == "History"
        assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith(
            "History of Market"
        )

        # Another door, then enough REST edits for a second page.
        transaction = call(person.base, "GET", f"{path}/transactions", token=token)[1]["items"][0]
        mutation = (
            "mutation($ledger: Int, $id: Int!) { updateTransaction(ledgerId: $ledger, id: $id,"
            ' input: {amount: "26"}) { transaction { amount } } }'
        )
        status, answer, _ = call(
            person.base,
            "POST",
            "/api/graphql",
            {"query": mutation, "variables": {"ledger": ledger["id"], "id": transaction["id"]}},
            token=token,
            headers={"X-Request-ID": "history-by-graphql"},
        )
        assert status == 200 and "errors" not in answer, answer
        for n in range(20):
            body = {"description": f"Market {n + 1}"}
            tx_path = f"{path}/transactions/{transaction['id']}"
            assert call(person.base, "PATCH", tx_path, body, token=token)[0] == 200
        page.reload()
        page.locator(f"#ledger option[value='{ledger['id']}']").wait_for(state="attached")
        page.locator("#ledger").select_option(str(ledger["id"]))
        opener = page.get_by_role("button", name="History of Market 20")
        opener.click()
        dialog = page.get_by_role("dialog", name="History of Market 20")
        entries = dialog.locator("li.change")
        entries.nth(19).wait_for()
        assert entries.count() == 20  # a page
        newest = entries.nth(0)
        assert newest.locator("[data-field=description] .before").inner_text() == "Market 19"
        assert newest.locator("[data-field=description] .after").inner_text() == "Market 20"
        more = dialog.get_by_role("button", name="Load more")
        more.focus()
        page.keyboard.press("Enter")
        entries.nth(22).wait_for()
        assert entries.count() == 23
        assert more.is_hidden()
        assert page.evaluate(FOCUS_IN_DIALOG)  # on the first entry the page brought
        assert entries.nth(20).evaluate("n => n === document.activeElement")
        by_graphql = entries.nth(20)
        assert by_graphql.locator(".change-head").inner_text() == "Updated by Historian via GraphQL"
        assert "history-by-graphql" in by_graphql.inner_text()
        assert by_graphql.locator("[data-field=amount] .before").inner_text() == "25.00"
        assert by_graphql.locator("[data-field=amount] .after").inner_text() == "26.00"
        assert entries.nth(22).locator(".op").inner_text() == "Created"
        page.set_viewport_size({"width": 390, "height": 844})
        person.screenshot("11-history-phone")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert dialog.evaluate("d => d.scrollWidth <= d.clientWidth")
        dialog.get_by_role("button", name="Close").click()
        dialog.wait_for(state="hidden")
        page.set_viewport_size({"width": 1280, "height": 900})

        # Nothing recorded, then the service refusing: each said in the view.
        answers = [
            (200, {"items": [], "nextCursor": None}),
            (503, {"type": "about:blank", "title": "Service Unavailable", "status": 503,
                   "detail": "The change log is resting."}),
        ]  # fmt: skip

        def answer_next(route):
            status, body = answers.pop(0)
            content_type = "application/json" if status == 200 else "application/problem+json"
            route.fulfill(status=status, content_type=content_type, body=json.dumps(body))

        page.route("**/changes?**", answer_next)
        opener.click()
        _wait_text(person, "#history-state", "No changes are recorded for this transaction.")
        assert entries.count() == 0
        page.keyboard.press("Escape")
        opener.click()
        _wait_text(
            person, "#history-error", "The history could not be loaded: The change log is resting."
        )
        assert dialog.get_by_role("alert").inner_text().endswith("The change log is resting.")
        assert entries.count() == 0 and dialog.get_by_role("status").inner_text() == ""
        person.screenshot("12-history-error")
        page.keyboard.press("Escape")
        dialog.wait_for(state="hidden")
    finally:
        person.context.close()
    strangers = [u for u in person.requested if not u.startswith(live_server.base + "/")]
    assert strangers == [], "the page contacted another origin"


def test_a_split_receipt_with_a_payee_and_tags(browser, live_server):
    """One receipt of 100.30 at a payee the ledger knows (suggested as it is typed, the answer
    to a superseded request never drawn), split into three lines through the form: the amount
    still to split follows each keystroke exactly (45.10 + 30.10 + 25.10 is 100.30, which binary
    floats make 100.30000000000001); a line in too many digits is the API's field error, a sum
    that differs is refused before anything is sent. Two tags as chips (a repeat counts once, one
    removed with its x). The API then holds the lines, the payee and the tags; the list shows
    "Split (3)" with the lines on expanding it. Edited, the form shows the lines again, stops at
    20 tags, and the transaction goes back to one category."""
    person = Person(browser, live_server.base, "Splitter")
    page = person.page
    base = live_server.base
    try:
        person.open()
        person.register()
        token = person.token()
        ledger = call(base, "GET", "/api/ledgers", token=token)[1]["items"][0]["id"]
        path = f"/api/ledgers/{ledger}"
        ids = {}
        for name in ("Groceries", "Household", "Gifts"):
            status, category, _ = call(
                base, "POST", f"{path}/categories", {"name": name}, token=token
            )
            assert status == 201, category
            ids[name] = category["id"]
        day = call(base, "GET", f"{path}/summary", token=token)[1]["from"]
        body = {"amount": "3", "type": "EXPENSE", "categoryId": ids["Groceries"], "date": day,
                "description": "Milk", "payee": "Corner Market"}  # fmt: skip
        status, known, _ = call(base, "POST", f"{path}/transactions", body, token=token)
        assert status == 201, known
        page.reload()
        form = page.locator("#tx-form")
        form.locator("select[name=categoryId] option", has_text="Gifts").wait_for(state="attached")
        posts, payee_queries = [], []

        def watch(request):
            if request.method == "POST" and request.url.endswith("/transactions"):
                posts.append(request)
            if "/payees?" in request.url:
                payee_queries.append(request.url.split("?", 1)[1])

        page.on("request", watch)

        # The payee: one request once typing pauses; the one a later keystroke cancels is
        # never drawn, even when its answer comes.
        held = []
        page.route("**/payees?**", lambda route: held.append(route))
        payee = form.get_by_label("Payee")
        payee.press_sequentially("Cor")
        while not held:
            page.wait_for_timeout(20)
        page.unroute("**/payees?**")
        payee.press_sequentially("n")
        page.locator('#tx-payees option[value="Corner Market"]').wait_for(state="attached")
        stale = {"items": [{"id": 99, "name": "Stale Shop", "count": 1, "lastUsedOn": day}]}
        with contextlib.suppress(Exception):  # the page cancelled it: nothing to answer
            held[0].fulfill(status=200, content_type="application/json", body=json.dumps(stale))
        page.wait_for_timeout(300)
        assert page.locator('#tx-payees option[value="Stale Shop"]').count() == 0
        assert payee_queries == ["q=Cor", "q=Corn"], payee_queries
        payee.fill("Corner Market")

        # Split: the single category gives way to two lines, the first in its category.
        form.locator("input[name=amount]").fill("100.30")
        form.get_by_label("Type").select_option(label="Expense")
        form.get_by_label("Category").select_option(label="Groceries")
        form.get_by_role("button", name="Split into lines").click()
        assert form.locator("select[name=categoryId]").is_hidden()
        assert form.locator("#tx-lines li").count() == 2
        assert page.evaluate("document.activeElement.name") == "splits.0.categoryId"
        assert form.get_by_label("Line 1 Category").input_value() == str(ids["Groceries"])
        assert form.get_by_role("button", name="Remove line 1").is_disabled()  # two at least
        _wait_text(person, "#tx-remaining", "Remaining: $100.30 still to split.")
        form.get_by_label("Line 1 Amount").press_sequentially("45.10")
        _wait_text(person, "#tx-remaining", "Remaining: $55.20 still to split.")
        form.get_by_label("Line 1 Memo").fill("Fruit and bread")
        form.get_by_role("button", name="Add line").click()
        assert page.evaluate("document.activeElement.name") == "splits.2.categoryId"
        form.get_by_label("Line 2 Category").select_option(label="Household")
        form.get_by_label("Line 2 Amount").fill("30.10")
        form.get_by_label("Line 3 Category").select_option(label="Gifts")
        form.get_by_label("Line 3 Amount").fill("25.20")
        _wait_text(
            person, "#tx-remaining", "Remaining: -$0.10. The lines are over the amount by $0.10."
        )
        # A fourth line comes and goes; the numbers follow.
        form.get_by_role("button", name="Add line").click()
        assert form.locator("#tx-lines li").count() == 4
        form.get_by_role("button", name="Remove line 4").click()
        assert form.locator("#tx-lines li").count() == 3
        assert page.evaluate("document.activeElement.name") == "splits.2.categoryId"

        # Tags: Enter or a comma makes a chip, a repeat counts once, x removes one.
        tag = form.get_by_label("Tags", exact=True)
        tag.fill("weekly")
        tag.press("Enter")
        tag.press_sequentially("Food,food,oops,")
        chips = form.locator("#tx-tags li > span")
        assert chips.all_inner_texts() == ["weekly", "Food", "oops"]
        form.get_by_role("button", name="Remove tag oops").click()
        assert chips.count() == 2
        assert page.evaluate("document.activeElement.id") == "tx-tag"
        person.screenshot("13-split-form")
        assert person.accessibility_violations() == []

        # A line's amount in too many digits: the API names the field.
        form.get_by_label("Line 2 Amount").fill("30.105")
        _wait_text(person, "#tx-remaining", "Line 2: not an amount in USD (at most 2 decimals).")
        form.get_by_role("button", name="Add", exact=True).click()
        line_error = form.locator('.error[data-for="splits.1.amount"]')
        line_error.filter(has_text="USD allows at most 2 fraction digits.").wait_for()
        assert form.get_by_label("Line 2 Amount").get_attribute("aria-invalid") == "true"
        assert len(posts) == 1
        # Lines that do not add up: refused in the page, nothing sent.
        form.get_by_label("Line 2 Amount").fill("30.10")
        form.get_by_label("Line 3 Amount").fill("25.00")
        _wait_text(person, "#tx-remaining", "Remaining: $0.10 still to split.")
        form.get_by_role("button", name="Add", exact=True).click()
        _wait_text(
            person,
            "#tx-error",
            "Not saved: the lines must add up to the amount exactly. The lines add up to "
            "$100.20, not $100.30: $0.10 is not split yet.",
        )
        assert "$0.10 is not split yet." in form.locator('.error[data-for="splits"]').inner_text()
        assert len(posts) == 1
        person.screenshot("14-split-refused")
        form.get_by_label("Line 3 Amount").fill("25.10")
        _wait_text(person, "#tx-remaining", "Remaining: $0.00. The lines add up.")
        # The API's own refusal of a sum (the request altered on its way) is shown the same way.

        def short_by_a_dime(route):
            sent = json.loads(route.request.post_data)
            sent["splits"][2]["amount"] = "25.00"
            route.continue_(post_data=json.dumps(sent))

        page.route("**/transactions", short_by_a_dime)
        form.get_by_role("button", name="Add", exact=True).click()
        _wait_text(
            person, "#tx-error", "The split lines must sum exactly to the transaction's amount."
        )
        splits_error = form.locator('.error[data-for="splits"]')
        assert splits_error.inner_text() == "The lines sum to 100.20; the amount is 100.30."
        page.unroute("**/transactions")
        assert len(posts) == 2
        form.get_by_role("button", name="Add", exact=True).click()
        _wait_text(person, "#status", "Added $100.30 split into 3 lines.")
        assert len(posts) == 3
        assert form.locator("select[name=categoryId]").is_visible()  # the form starts afresh
        assert chips.count() == 0 and form.locator("#tx-lines li").count() == 0

        # The API holds it as given.
        items = call(base, "GET", f"{path}/transactions", token=token)[1]["items"]
        saved = next(t for t in items if t["amount"] == "100.30")
        assert (saved["categoryId"], saved["category"]) == (None, None)
        assert saved["payee"] == "Corner Market"
        assert saved["tags"] == ["Food", "weekly"]
        line = lambda name, amount, memo=None: {  # noqa: E731
            "categoryId": ids[name], "category": name, "amount": amount, "memo": memo,
            "ledgerAmount": amount}  # fmt: skip
        assert saved["splits"] == [
            line("Groceries", "45.10", "Fruit and bread"),
            line("Household", "30.10"),
            line("Gifts", "25.10"),
        ]

        # The list: "Split (3)", its lines' categories on hover and on expanding it.
        row = page.locator(f'#tx-list tr[data-id="{saved["id"]}"]')
        row.wait_for()
        cells = row.locator("td")
        assert cells.nth(1).locator("summary").inner_text() == "Split (3)"
        summary = cells.nth(1).locator("summary")
        assert summary.get_attribute("title") == "Groceries, Household, Gifts"
        assert cells.nth(1).locator("li").first.is_hidden()
        summary.click()
        lines = [" ".join(t.split()) for t in cells.nth(1).locator("li").all_inner_texts()]
        assert lines == ["Groceries (Fruit and bread) $45.10", "Household $30.10", "Gifts $25.10"]
        assert cells.nth(2).inner_text() == "Corner Market"
        assert cells.nth(3).locator(".chip").all_inner_texts() == ["Food", "weekly"]
        person.screenshot("15-split-in-list")
        assert person.accessibility_violations() == []

        # Edited: the lines, payee and tags are in the form again; at most 20 tags.
        page.get_by_role("button", name=f"Edit Corner Market {saved['date']}").click()
        assert form.locator("#tx-lines li").count() == 3
        assert form.get_by_label("Line 2 Amount").input_value() == "30.10"
        assert form.get_by_label("Line 1 Memo").input_value() == "Fruit and bread"
        assert form.get_by_label("Line 3 Category").input_value() == str(ids["Gifts"])
        assert payee.input_value() == "Corner Market"
        assert chips.all_inner_texts() == ["Food", "weekly"]
        _wait_text(person, "#tx-remaining", "Remaining: $0.00. The lines add up.")
        tag.fill(",".join(f"t{n}" for n in range(1, 20)) + ",")
        assert chips.count() == 20
        _wait_text(
            person, '#tx-form .error[data-for="tags"]', 'At most 20 tags: "t19" was not added.'
        )
        page.get_by_role("button", name="Cancel edit").click()
        assert chips.count() == 0

        # Back to one category (the first line's, then another picked), one tag fewer.
        page.get_by_role("button", name=f"Edit Corner Market {saved['date']}").click()
        form.get_by_role("button", name="Use one category").click()
        assert form.locator("#tx-lines li").count() == 0
        single = form.get_by_label("Category")
        assert single.input_value() == str(ids["Groceries"])
        single.select_option(label="Household")
        form.get_by_role("button", name="Remove tag weekly").click()
        form.get_by_role("button", name="Save").click()
        _wait_text(person, "#status", "Saved $100.30 in Household.")
        status, edited, _ = call(base, "GET", f"{path}/transactions/{saved['id']}", token=token)
        assert status == 200, edited
        assert (edited["categoryId"], edited["category"]) == (ids["Household"], "Household")
        assert edited["splits"] == [] and edited["tags"] == ["Food"]
        assert edited["payee"] == "Corner Market"
        row.locator("td").nth(1).filter(has_text="Household").wait_for()

        # A phone-width screen with the split form open: one column, no sideways scroll.
        form.get_by_role("button", name="Split into lines").click()
        page.set_viewport_size({"width": 390, "height": 844})
        person.screenshot("16-split-phone")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert person.accessibility_violations() == []
    finally:
        person.context.close()
    strangers = [u for u in person.requested if not u.startswith(base + "/")]
    assert strangers == [], "the page contacted another origin"
