"""/app: the dashboard's page and files, served under a self-only policy (the browser tests in
test_dashboard_browser.py drive it)."""

from __future__ import annotations

import re

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
