"""The dashboard's Security page in a real headless Chromium (tests/dashboard/browsing.py).

A person whose default ledger is shared with Bob turns two-factor sign-in on from the QR code's
key (the code computed here with pyotp), saves the recovery codes (copied and downloaded), signs
out and in again with a code and then with a recovery code, ends a script's session from the
list (its token is refused at once), changes the password, creates and revokes an access token,
downloads the export, and deletes the account: refused while they are the ledger's only owner
(the ledger named), done once Bob has left, and they are back at the sign-in screen, unable to
sign in. A second test turns two-factor sign-in off again.

Codes are computed at the current time (the service offers no clock to fix): enabling spends the
current step's code, so the next sign-in uses the next step's, which the service takes as one
step of drift; the one wait is for a new step when fewer than 3 s are left of this one.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pyotp
import pytest

from devtools.servers import call
from tests.dashboard.browsing import PASSWORD, Person, _wait_text

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a new and longer passphrase"


def _fresh_step(secret: str) -> tuple[pyotp.TOTP, float]:
    """The key's TOTP and a time with at least 3 s left in its step."""
    totp = pyotp.TOTP(secret)
    left = totp.interval - time.time() % totp.interval
    if left < 3:
        time.sleep(left + 0.1)
    return totp, time.time()


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _turn_on(person: Person) -> tuple[pyotp.TOTP, float, list[str]]:
    """Two-factor sign-in turned on from the Security page; the codes it showed."""
    page = person.page
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    secret_shown = page.locator("#totp-secret")
    page.locator("#totp-setup-title").wait_for()
    secret = secret_shown.inner_text()
    totp, now = _fresh_step(secret)
    setup = page.locator("#totp-setup")
    setup.get_by_label("Code the app shows").fill(totp.at(now))
    setup.get_by_role("button", name="Turn on", exact=True).click()
    page.locator("#totp-code-list li").nth(9).wait_for()
    return totp, now, page.locator("#totp-code-list li").all_inner_texts()


def _sign_in_form(person: Person, email: str, password: str):
    form = person.page.locator("#signin")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in").click()
    return form


def test_two_factor_sessions_tokens_export_and_erasure(browser, live_server):
    base = live_server.base
    person = Person(browser, base, "Guarded")
    page = person.page
    person.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    try:
        person.open()
        person.register()
        email = person.email

        # The default ledger is shared with Bob, and only this person owns it.
        token = person.token()
        ledger = call(base, "GET", "/api/ledgers", token=token)[1]["items"][0]
        bob = {"name": "Bob", "email": f"bob-{uuid.uuid4().hex[:10]}@example.com"}
        status, made, _ = call(base, "POST", "/api/auth/register", {**bob, "password": PASSWORD})
        assert status == 201, made
        bob_id = made["user"]["id"]
        bob_token = call(
            base, "POST", "/api/auth/login", {"email": bob["email"], "password": PASSWORD}
        )[1]["accessToken"]
        status, invitation, _ = call(
            base, "POST", f"/api/ledgers/{ledger['id']}/invitations",
            {"email": bob["email"], "role": "editor"}, token=token,
        )  # fmt: skip
        assert status == 201, invitation
        status, _, _ = call(
            base, "POST", f"/api/invitations/{invitation['id']}/accept", token=bob_token
        )
        assert status == 200
        assert call(base, "POST", "/api/auth/logout", token=token)[0] == 204

        # The page: off, this device the only session, the ledger's controls gone.
        page.get_by_role("link", name="Security").click()
        _wait_text(person, "#totp-state", "Off: signing in asks for your password only")
        _wait_text(person, "#sessions-list", "this device")
        assert page.locator("#sessions-list li").count() == 1
        assert page.locator("#ledger-controls").is_hidden()
        assert page.locator("#nav-security").get_attribute("aria-current") == "page"
        _wait_text(person, "#events-list", "Signed in")
        assert person.accessibility_violations() == []

        # Two-factor on: the QR code is drawn (the policy lets a data: image in), its key shown.
        page.get_by_role("button", name="Turn on two-factor sign-in").click()
        page.locator("#totp-setup-title").wait_for()
        qr = page.locator("#totp-qr")
        assert qr.get_attribute("src").startswith("data:image/svg+xml;base64,")
        assert "QR code" in qr.get_attribute("alt")
        page.wait_for_function("() => document.getElementById('totp-qr').naturalWidth > 0")
        assert page.evaluate("() => document.activeElement.id") == "totp-setup-title"
        totp, now = _fresh_step(page.locator("#totp-secret").inner_text())
        setup = page.locator("#totp-setup")
        setup.get_by_label("Code the app shows").fill(_wrong(totp.at(now)))
        setup.get_by_role("button", name="Turn on", exact=True).click()
        _wait_text(person, '#totp-setup .error[data-for="code"]', "Not the current code")
        person.screenshot("40-security-totp-setup")
        assert person.accessibility_violations() == []
        setup.get_by_label("Code the app shows").fill(totp.at(now))
        setup.get_by_role("button", name="Turn on", exact=True).click()
        page.locator("#totp-code-list li").nth(9).wait_for()
        codes = page.locator("#totp-code-list li").all_inner_texts()
        assert len(set(codes)) == 10
        assert page.evaluate("() => document.activeElement.id") == "totp-codes-title"
        _wait_text(person, "#totp-codes", "Save these recovery codes now")
        _wait_text(person, "#totp-state", "On: after your password")
        page.get_by_role("button", name="Copy codes").click()
        _wait_text(person, "#totp-codes-said", "Copied")
        assert page.evaluate("() => navigator.clipboard.readText()") == "\n".join(codes)
        with page.expect_download() as saved:
            page.get_by_role("button", name="Download codes").click()
        assert saved.value.suggested_filename == "expense-api-recovery-codes.txt"
        assert all(code in Path(saved.value.path()).read_text() for code in codes)
        person.screenshot("41-security-recovery-codes")
        assert person.accessibility_violations() == []
        page.get_by_role("button", name="I have saved them").click()
        assert page.locator("#totp-codes").is_hidden()
        assert page.locator("#totp-code-list li").count() == 0
        assert page.locator("#totp-disable").is_visible()

        # Signing in asks for the code; a wrong one is said plainly; the next step's signs in.
        page.locator("#logout").click()
        form = _sign_in_form(person, email, PASSWORD)
        _wait_text(person, "#signin .error", "Two-factor sign-in is on for this account")
        assert page.evaluate("() => document.activeElement.name") == "totp"
        form.get_by_label("Code").fill(_wrong(totp.at(now + 30)))
        form.get_by_role("button", name="Sign in").click()
        _wait_text(person, "#signin .error", "That code is not right, or it was used already")
        assert person.accessibility_violations() == []
        form.get_by_label("Code").fill(totp.at(now + 30))
        form.get_by_role("button", name="Sign in").click()
        _wait_text(person, "#totp-state", "On: after your password")
        assert page.locator("#signin-code").is_hidden()

        # ... and with a recovery code instead.
        page.locator("#logout").click()
        form = _sign_in_form(person, email, PASSWORD)
        page.locator("#signin-code").wait_for()
        form.get_by_label("Code").fill(codes[0])
        form.get_by_role("button", name="Sign in").click()
        _wait_text(person, "#events-list", "A recovery code was used")

        # A script's session (signed in with another recovery code) is listed and ended.
        status, pair, _ = call(
            base,
            "POST",
            "/api/auth/login",
            {"email": email, "password": PASSWORD, "totp": codes[1]},
        )
        assert status == 200, pair
        script_token = pair["accessToken"]
        assert call(base, "GET", "/api/auth/me", token=script_token)[0] == 200
        page.reload()
        page.locator("#sessions-list li").nth(1).wait_for()
        assert page.locator("#sessions-list li").count() == 2
        mine = page.locator("#sessions-list li").filter(has_text="this device")
        assert mine.count() == 1 and "Chrome" in mine.inner_text()
        script = page.locator("#sessions-list li").filter(has_text="Python-urllib")
        script.get_by_role("button", name="Sign out").click()
        _wait_text(person, "#status", "Signed out Python-urllib")
        assert page.locator("#sessions-list li").count() == 1
        assert call(base, "GET", "/api/auth/me", token=script_token)[0] == 401

        # The password: a wrong current one and a mistyped confirmation are said; then changed.
        form = page.locator("#password-form")
        form.get_by_label("Current password").fill("not the password")
        form.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        form.get_by_label("New password again").fill(NEW_PASSWORD)
        form.get_by_role("button", name="Change password").click()
        _wait_text(person, "#password-form .error", "the current password is not right")
        form.get_by_label("Current password").fill(PASSWORD)
        form.get_by_label("New password again").fill(NEW_PASSWORD + "!")
        form.get_by_role("button", name="Change password").click()
        _wait_text(person, "#password-form .error", "The two new passwords differ.")
        form.get_by_label("New password again").fill(NEW_PASSWORD)
        form.get_by_role("button", name="Change password").click()
        _wait_text(person, "#status", "Password changed. Every other device was signed out")
        assert form.get_by_label("Current password").input_value() == ""

        # An access token, shown once, works as a bearer token until it is revoked.
        tokens = page.locator("#token-form")
        tokens.get_by_label("Name").fill("Backup script")
        tokens.get_by_label("Access").select_option(label="Read only")
        tokens.get_by_label("Expires").select_option(label="in 30 days")
        tokens.get_by_role("button", name="Create token").click()
        page.locator("#token-made").wait_for()
        secret_token = page.locator("#token-value").inner_text()
        assert call(base, "GET", "/api/auth/me", token=secret_token)[0] == 200
        _wait_text(person, "#tokens-list", "Backup script (read only)")
        assert person.accessibility_violations() == []
        page.get_by_role("button", name="Done").click()
        assert page.locator("#token-value").inner_text() == ""
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Revoke Backup script").click()
        _wait_text(person, "#tokens-list", "No access tokens.")
        assert call(base, "GET", "/api/auth/me", token=secret_token)[0] == 401

        # The export: a JSON file that has the user.
        with page.expect_download() as saved:
            page.get_by_role("button", name="Download my data").click()
        assert saved.value.suggested_filename.startswith("expense-api-export-")
        exported = json.loads(Path(saved.value.path()).read_text())
        assert exported["user"]["email"] == email

        # At a phone's width the page keeps within the screen.
        page.set_viewport_size({"width": 390, "height": 844})
        _wait_text(person, "#events-list", "Password changed")
        assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
        person.screenshot("42-security-phone")
        assert person.accessibility_violations() == []
        page.set_viewport_size({"width": 1280, "height": 900})

        # Deletion: the email typed out, the password, a code (two-factor is on).
        page.get_by_role("button", name="Delete my account…").click()
        erase = page.locator("#delete-form")
        assert erase.get_by_label("Code or recovery code").is_visible()
        erase.get_by_label("Type your email to confirm").fill("someone@example.com")
        erase.get_by_label("Password").fill(NEW_PASSWORD)
        erase.get_by_label("Code or recovery code").fill(codes[2])
        erase.get_by_role("button", name="Delete my account permanently").click()
        _wait_text(person, "#delete-form .error", f"Type your account's email, {email}")
        erase.get_by_label("Type your email to confirm").fill(email)
        erase.get_by_role("button", name="Delete my account permanently").click()
        _wait_text(person, "#delete-form .error", f"you are the only owner of {ledger['name']}")
        assert person.accessibility_violations() == []
        path = f"/api/ledgers/{ledger['id']}/members/{bob_id}"
        assert call(base, "DELETE", path, token=bob_token)[0] == 204  # Bob leaves
        erase.get_by_label("Code or recovery code").fill(codes[3])
        erase.get_by_role("button", name="Delete my account permanently").click()
        page.locator("#signin").wait_for()
        _wait_text(person, "#status", "Your account was deleted")
        _sign_in_form(person, email, NEW_PASSWORD)
        _wait_text(person, "#signin .error", "The email or password is incorrect.")
        assert page.locator("#signed-in").is_hidden()
        status, _, _ = call(
            base, "POST", "/api/auth/login", {"email": email, "password": NEW_PASSWORD}
        )
        assert status == 401
    finally:
        person.context.close()


def test_two_factor_is_turned_off_with_the_password_and_a_code(browser, live_server):
    person = Person(browser, live_server.base, "Relaxed")
    page = person.page
    try:
        person.open()
        person.register()
        page.get_by_role("link", name="Security").click()
        _wait_text(person, "#totp-state", "Off")
        totp, now, _ = _turn_on(person)
        page.get_by_role("button", name="I have saved them").click()

        off = page.locator("#totp-disable")
        off.get_by_label("Password").fill(PASSWORD)
        off.get_by_label("Code or recovery code").fill(_wrong(totp.at(now + 30)))
        off.get_by_role("button", name="Turn off").click()
        _wait_text(person, "#totp-disable .error", "That code is not right")
        assert page.locator("#signed-in").is_visible()  # a wrong code does not sign out
        off.get_by_label("Code or recovery code").fill(totp.at(now + 30))
        off.get_by_role("button", name="Turn off").click()
        _wait_text(person, "#status", "Two-factor sign-in is off.")
        _wait_text(person, "#totp-state", "Off")
        assert off.is_hidden()
        _wait_text(person, "#events-list", "Two-factor sign-in turned off")

        page.locator("#logout").click()
        _sign_in_form(person, person.email, PASSWORD)
        _wait_text(person, "#totp-state", "Off")  # no code asked for
    finally:
        person.context.close()
