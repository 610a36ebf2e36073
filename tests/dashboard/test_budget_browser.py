"""Budget rollover in the dashboard, in a real headless Chromium (tests/dashboard/browsing.py).

Last month had a hard Groceries budget of 100 with 70 spent and a soft overall budget of 50. The
page copies last month's budgets into this month (saying how many were made and kept), then
the budget form gives Groceries a surplus rollover (the hint says what that means) and the
overall budget a deficit one: the bars show what each carried and has available, and are
measured against what is available. An expense over what Groceries has available is refused in
plain words that name the carried amount. A second copy makes nothing and keeps both.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from devtools.servers import call
from tests.dashboard.browsing import Person, _wait_text

pytestmark = pytest.mark.browser

# The filled part of each budget's bar over the whole bar, by the row's name.
BAR_SHARES = """() => Object.fromEntries([...document.querySelectorAll("#budgets li")].map((li) => {
  const [track, fill] = li.querySelectorAll("rect");
  return [li.dataset.budget, Number(fill.getAttribute("width")) / Number(track.getAttribute("width"))];
}))"""


def _last_month(today: date) -> date:
    return date(today.year - 1, 12, 1) if today.month == 1 else date(today.year, today.month - 1, 1)


def test_rollover_and_copying_in_the_page(browser, live_server):
    person = Person(browser, live_server.base, "Carrier")
    page = person.page
    base = live_server.base
    today = datetime.now(UTC).date()
    last = _last_month(today)
    last_name = f"{last:%B} {last.year}"
    try:
        person.open()
        person.register()
        token = person.token()
        ledger = call(base, "GET", "/api/ledgers", token=token)[1]["items"][0]["id"]
        path = f"/api/ledgers/{ledger}"

        def post(route: str, body: dict) -> dict:
            status, answer, _ = call(base, "POST", path + route, body, token=token)
            assert status in (200, 201), answer
            return answer

        groceries = post("/categories", {"name": "Groceries"})["id"]
        period = {"year": last.year, "month": last.month}
        post("/budgets", {**period, "categoryId": groceries, "amount": "100"})
        post("/budgets", {**period, "categoryId": None, "amount": "50", "mode": "soft"})
        post("/transactions", {"type": "EXPENSE", "amount": "70", "categoryId": groceries,
                               "date": last.isoformat()})  # fmt: skip
        page.reload()
        _wait_text(person, "#budgets", "No budgets this month.")

        # Copy last month's budgets: both made, neither carries anything (rollover none).
        page.get_by_role("button", name="Copy last month's budgets").click()
        _wait_text(person, "#status", f"Copied {last_name}'s budgets: 2 made, 0 kept")
        _wait_text(person, "#budgets li", "Groceries (hard): $0.00 of $100.00, 0.00%")
        assert "carried" not in person.text("#budgets")

        # Surplus on Groceries: last month's 30 left over is carried in.
        form = page.locator("#budget-form")
        hint = page.locator("#budget-rollover-hint")
        assert hint.inner_text() != ""
        assert form.get_by_label("Rollover").get_attribute(
            "aria-describedby"
        ) == hint.get_attribute("id")
        form.get_by_label("Category").select_option(label="Groceries")
        form.get_by_label("Amount").fill("100")
        form.get_by_label("Rollover").select_option("surplus")
        _wait_text(person, "#budget-rollover-hint", "left unspent")
        form.get_by_role("button", name="Save budget").click()
        _wait_text(
            person,
            '#budgets li[data-budget="Groceries"]',
            "Groceries (hard): $0.00 of $130.00 available ($100.00 + $30.00 carried), 0.00%",
        )

        # Deficit on the overall budget: last month's 20 over is taken off.
        form.get_by_label("Category").select_option(label="Overall (all expenses)")
        form.get_by_label("Amount").fill("50")
        form.get_by_label("Mode").select_option("soft")
        form.get_by_label("Rollover").select_option("deficit")
        _wait_text(
            person, "#budget-rollover-hint", "overspent"
        )  # minus: U+2212, as the page writes
        form.get_by_role("button", name="Save budget").click()
        _wait_text(
            person,
            '#budgets li[data-budget="Overall"]',
            "Overall (soft): $0.00 of $30.00 available ($50.00 \u2212 $20.00 carried), 0.00%",
        )

        # 120 spent: 92.31% of Groceries' 130 available (its bar measured against that, not
        # against the 100 budgeted), and 400% of the overall 30.
        person.add_transaction("120", description="Big shop")
        _wait_text(person, "#expense", "$120.00")
        _wait_text(person, '#budgets li[data-budget="Groceries"]', "$120.00 of $130.00 available")
        _wait_text(person, '#budgets li[data-budget="Groceries"]', "$10.00 left")
        _wait_text(person, '#budgets li[data-budget="Overall"]', "Over budget by $90.00")
        shares = page.evaluate(BAR_SHARES)
        assert abs(shares["Groceries"] - 0.9231) < 0.001, shares
        assert shares["Overall"] == 1, shares
        assert page.locator('#budgets li[data-budget="Groceries"] .bar-warn').count() == 1
        person.screenshot("30-budget-rollover")
        assert person.accessibility_violations() == []

        # Over what Groceries has available: refused, naming what it carried.
        person.add_transaction("20", description="Too much")
        _wait_text(
            person,
            "#tx-error",
            "Not saved: this expense would put the Groceries budget over by $10.00. The budget "
            "is $100.00 plus $30.00 carried over ($130.00 available), $120.00 is already spent "
            "and $10.00 remains.",
        )
        assert person.text("#expense") == "$120.00"

        # Copying again makes nothing: both budgets are kept as they are now.
        page.get_by_role("button", name="Copy last month's budgets").click()
        _wait_text(person, "#status", f"Copied {last_name}'s budgets: 0 made, 2 kept")
        _wait_text(person, '#budgets li[data-budget="Groceries"]', "($100.00 + $30.00 carried)")
    finally:
        person.context.close()


def test_a_viewer_is_not_offered_the_copy(browser, live_server):
    owner = Person(browser, live_server.base, "Owner")
    viewer = Person(browser, live_server.base, "Viewer")
    base = live_server.base
    try:
        for person in (owner, viewer):
            person.open()
            person.register()
        token = owner.token()
        ledger = call(base, "GET", "/api/ledgers", token=token)[1]["items"][0]
        status, invitation, _ = call(
            base,
            "POST",
            f"/api/ledgers/{ledger['id']}/invitations",
            {"email": viewer.email, "role": "viewer"},
            token=token,
        )
        assert status == 201, invitation
        viewer.page.reload()
        viewer.page.get_by_role("button", name=f"Accept {ledger['name']}").click()
        _wait_text(viewer, "#status", f"You joined {ledger['name']}.")
        assert viewer.page.locator("#budget-form").is_hidden()
        assert viewer.page.locator("#budgets-copy").is_hidden()
        assert owner.page.locator("#budgets-copy").is_visible()
    finally:
        owner.context.close()
        viewer.context.close()
