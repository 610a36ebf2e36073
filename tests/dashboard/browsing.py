"""What the dashboard's browser tests share: Debian's chromium driven by playwright, and a
person at one browser context recording every request their page makes."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from devtools.servers import PROJECT_ROOT, call

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

    def sign_in(self, email: str, password: str):
        self.email = email
        form = self.page.locator("#signin")
        form.get_by_label("Email").fill(email)
        form.get_by_label("Password").fill(password)
        form.get_by_role("button", name="Sign in").click()
        self.page.locator("#signed-in").wait_for()

    def token(self) -> str:
        status, tokens, _ = call(
            self.base, "POST", "/api/auth/login", {"email": self.email, "password": PASSWORD}
        )
        assert status == 200
        return tokens["accessToken"]

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
