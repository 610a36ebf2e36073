"""The transaction form in another currency, in a real headless Chromium (tests/dashboard/
browsing.py): an expense in euros at a typed rate shows its amount in the ledger's dollars before
it is saved, computed in the page exactly as the API computes it (12.34 x 1.0842 = 13.379028,
half up to $13.38), and the list then shows the ledger amount with the original euros beside it.
Without a typed rate the page asks the ledger's rates for the latest one on or before the date,
and says so when there is none. A bad rate is said in the page and named by the API's 422."""

from __future__ import annotations

import pytest

from devtools.servers import call
from tests.dashboard.browsing import Person, _wait_text

pytestmark = pytest.mark.browser


def test_an_expense_in_euros_at_a_typed_rate(browser, live_server):
    person = Person(browser, live_server.base, "Traveller")
    page = person.page
    base = live_server.base
    try:
        person.open()
        person.register()
        token = person.token()
        ledger = call(base, "GET", "/api/ledgers", token=token)[1]["items"][0]["id"]
        path = f"/api/ledgers/{ledger}"
        status, food, _ = call(base, "POST", f"{path}/categories", {"name": "Food"}, token=token)
        assert status == 201, food
        page.reload()
        form = page.locator("#tx-form")
        form.locator("select[name=categoryId] option", has_text="Food").wait_for(state="attached")
        date = form.locator("input[name=date]").input_value()
        assert form.get_by_label("Currency").input_value() == "USD"  # the ledger's
        assert page.locator("#tx-converted").inner_text() == ""
        posts = []
        page.on(
            "request",
            lambda r: posts.append(r) if r.method == "POST" and "/transactions" in r.url else None,
        )

        # Euros at a typed rate: the dollars follow each keystroke, exactly.
        form.get_by_label("Amount").fill("12.34")
        form.get_by_label("Currency").fill("EUR")
        form.get_by_label("Rate").fill("1.0842")
        _wait_text(person, "#tx-converted", "In USD: $13.38 (€12.34 at 1.0842).")
        form.get_by_label("Amount").fill("12.345")  # not an amount in euros
        _wait_text(person, "#tx-converted", "In USD: enter the amount in EUR (at 1.0842).")
        form.get_by_label("Amount").fill("12.34")
        form.get_by_label("Rate").fill("1.0842x")
        _wait_text(person, "#tx-converted", "1.0842x is not a rate")
        form.get_by_role("button", name="Add", exact=True).click()
        rate_error = form.locator('.error[data-for="rate"]')
        rate_error.filter(has_text="decimal").wait_for()
        assert form.get_by_label("Rate").get_attribute("aria-invalid") == "true"
        form.get_by_label("Rate").fill("1.0842")
        _wait_text(person, "#tx-converted", "In USD: $13.38 (€12.34 at 1.0842).")
        person.screenshot("20-foreign-expense-form")
        assert person.accessibility_violations() == []
        form.get_by_label("Description").fill("Dinner in Lyon")
        form.get_by_role("button", name="Add", exact=True).click()
        _wait_text(person, "#status", "Added $13.38 in Food.")
        assert [p.post_data_json for p in posts][-1] == {
            "type": "EXPENSE", "amount": "12.34", "date": date, "description": "Dinner in Lyon",
            "categoryId": food["id"], "currency": "EUR", "rate": "1.0842",
        }  # fmt: skip

        # The list: the ledger amount, and the euros beside it.
        row = page.locator("#tx-list tr", has_text="Dinner in Lyon")
        row.locator("td.num", has_text="\u2212$13.38").wait_for()
        assert row.locator(".original").inner_text() == "€12.34 at 1.0842"
        status, listed, _ = call(base, "GET", f"{path}/transactions", token=token)
        [saved] = listed["items"]
        assert (saved["amount"], saved["currency"], saved["rate"], saved["ledgerAmount"]) == (
            "12.34", "EUR", "1.0842", "13.38")  # fmt: skip
        # The form is the ledger's again for the next one.
        assert form.get_by_label("Currency").input_value() == "USD"
        assert form.get_by_label("Rate").input_value() == ""
        assert page.locator("#tx-converted").inner_text() == ""
        person.screenshot("21-foreign-expense-listed")

        # No rate typed: the ledger's latest on or before the date, asked of its rates.
        status, stored, _ = call(
            base, "PUT", f"{path}/rates/GBP", {"items": [{"date": date, "rate": "1.25"}]},
            token=token,
        )  # fmt: skip
        assert status == 200, stored
        asked = []
        page.on("request", lambda r: asked.append(r.url) if "/rates?" in r.url else None)
        form.get_by_label("Amount").fill("10")
        form.get_by_label("Currency").fill("GBP")
        _wait_text(
            person,
            "#tx-converted",
            f"In USD: $12.50 (£10.00 at the ledger's rate of {date}, 1.25).",
        )
        assert asked and all(f"to={date}" in url and "currency=GBP" in url for url in asked)
        form.get_by_label("Currency").fill("CHF")
        _wait_text(person, "#tx-converted", "In USD: no rate for that date")
    finally:
        person.context.close()
