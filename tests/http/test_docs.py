"""/api/docs works offline and under a strict Content-Security-Policy: Swagger UI's files come
from this service (installed with it), never from a CDN, and the page runs no inline script."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from tests.helpers import assert_problem

PAGE = "/api/docs"
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".json": "application/json",  # the OpenAPI document, linked for browsers without scripts
}
# Any absolute or scheme-relative URL: a third-party origin would need one.
ABSOLUTE_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://|(?<![:/\w])//\w")


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.inline_scripts: list[str] = []
        self.inline_styles: list[str] = []
        self.handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "action", "data", "poster", "srcset"):
                self.urls.append((tag, name, value or ""))
            if name.startswith("on"):
                self.handlers.append(f"{tag} {name}")
            if name == "style":
                self.inline_styles.append(f"{tag} style")
        if tag == "style":
            self.inline_styles.append("<style>")
        self._in_script = tag == "script"
        if tag == "script" and not dict(attrs).get("src"):
            self.inline_scripts.append("<script> without src")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts.append(data.strip()[:80])


def _page(client) -> tuple[object, _Page]:
    response = client.get(PAGE)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    parsed = _Page()
    parsed.feed(response.get_data(as_text=True))
    return response, parsed


def _csp(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives = {}
    for directive in filter(None, (part.strip() for part in policy.split(";"))):
        name, *values = directive.split()
        directives[name] = values
    return directives


def test_the_page_references_only_its_own_origin(client):
    response, page = _page(client)
    assert page.urls, "the page loads Swagger UI's files"
    for tag, attribute, value in page.urls:
        parts = urlsplit(value)
        assert not parts.scheme and not parts.netloc, f"<{tag} {attribute}={value!r}>"
        assert urlsplit(urljoin("http://localhost" + PAGE, value)).path.startswith("/api/"), value
    assert not ABSOLUTE_URL.search(response.get_data(as_text=True)), "an absolute URL in the page"


def test_every_referenced_asset_is_served_with_its_content_type(client):
    _, page = _page(client)
    kinds = set()
    assert any(value.endswith("openapi.json") for _, _, value in page.urls)
    for _tag, _attribute, value in page.urls:
        path = urlsplit(urljoin("http://localhost" + PAGE, value)).path
        suffix = path[path.rfind(".") :]
        asset = client.get(path)
        assert asset.status_code == 200, path
        assert asset.mimetype == CONTENT_TYPES[suffix], (path, asset.mimetype)
        assert asset.data, path
        kinds.add(suffix)
    assert kinds == set(CONTENT_TYPES)  # scripts, style sheets, icons and the document


def test_swagger_ui_comes_from_the_installed_package(client):
    """The files are those of a Python package the service depends on: nothing fetched at run
    time, nothing vendored by hand."""
    from importlib.resources import files

    dist = files("flask_swagger_ui") / "dist"
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert client.get(f"/api/docs/{name}").data == (dist / name).read_bytes()


def test_no_inline_script_style_or_handler(client):
    _, page = _page(client)
    assert page.inline_scripts == []
    assert page.inline_styles == []
    assert page.handlers == []


def test_the_content_security_policy_allows_this_origin_only(client):
    response, _ = _page(client)
    csp = _csp(response)
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert set(csp["img-src"]) <= {"'self'", "data:"}  # Swagger UI's icons are data: URIs
    assert csp["connect-src"] == ["'self'"]  # the document, and "Try it out"
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    for name, values in csp.items():
        for value in values:
            assert value in ("'self'", "'none'", "data:"), f"{name} {value}"


def test_every_docs_answer_carries_a_policy(client):
    for path in ("/api/docs", "/api/docs/init.js", "/api/docs/swagger-ui.css", "/api/docs/x"):
        assert "default-src 'none'" in client.get(path).headers["Content-Security-Policy"], path


def test_the_init_script_names_no_other_origin(client):
    _, page = _page(client)
    ours = [value for _, _, value in page.urls if value.endswith(".js")]
    for value in ours:
        path = urlsplit(urljoin("http://localhost" + PAGE, value)).path
        if "swagger-ui" in path:
            continue  # Swagger UI's own bundle: it only mentions URLs (specifications, RFCs)
        assert not ABSOLUTE_URL.search(client.get(path).get_data(as_text=True)), path


def test_assets_are_revalidated_not_stored_forever(client):
    response = client.get("/api/docs/swagger-ui-bundle.js")
    assert response.headers["Cache-Control"] == "no-cache"
    again = client.get(
        "/api/docs/swagger-ui-bundle.js", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/api/docs/nope.js",
        "/api/docs/index.html",
        "/api/docs/oauth2-redirect.html",
        "/api/docs/..%2F..%2Fapp.py",
        "/api/docs/%2e%2e/openapi.py",
        "/api/docs/../docs.py",
        "/api/docs/swagger-ui.js.map",
        "/api/docs/LICENSE",
    ],
)
def test_only_the_listed_files_are_served(client, path):
    assert_problem(client.get(path), 404, "not_found")


def test_the_docs_routes_are_documented(client):
    spec = client.get("/api/openapi.json").get_json()
    assert "get" in spec["paths"]["/api/docs"]
    path = spec["paths"]["/api/docs/{asset}"]
    assert "get" in path
    (parameter,) = path["parameters"]
    assert parameter["in"] == "path" and "swagger-ui-bundle.js" in parameter["schema"]["enum"]
