"""/app: the household dashboard, a page of our own HTML, CSS and JavaScript served by the service.

The page talks to the same REST API as every other client (nothing here reads the database): it
signs in with `refreshCookie: true`, keeps the access token in memory only and renews it through
the HttpOnly refresh cookie with the CSRF header (api/core/tokens.py). Charts are SVG drawn by the
page's own script (native ES modules, docs/DASHBOARD.md), so there is no library to install and
nothing is fetched from another origin. Only the files listed in ASSETS are served (the route's
converter matches nothing else), under a policy that allows this origin only and no inline
script; the serving is the docs page's.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask

from .docs import converter_for, served

ASSET_FOLDER = Path(__file__).with_name("dashboard_assets")
PAGE = {"index.html": (ASSET_FOLDER, "text/html")}
# The page's script is native ES modules, main.js importing the others (no bundler, no library).
SCRIPTS = (
    "main.js",
    "api.js",
    "format.js",
    "forms.js",
    "charts.js",
    "views.js",
    "history.js",
    "changes.js",
    "txform.js",
    "currencies.js",
    "imports.js",
    "pages.js",
    "security.js",
    "twofactor.js",
    "tokens.js",
    "account.js",
)
ASSETS: dict[str, tuple[Path, str]] = {
    **{name: (ASSET_FOLDER, "text/javascript") for name in SCRIPTS},
    "app.css": (ASSET_FOLDER, "text/css"),
}
ASSET_MEDIA_TYPES = sorted({media_type for _, media_type in ASSETS.values()})

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        # data: for images only: the two-factor QR code comes as an SVG data: URI
        # (POST /api/auth/totp/setup), and an SVG shown by <img> runs no script.
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

blp = Blueprint("dashboard", __name__)
DashboardAssetConverter = converter_for(ASSETS)


def asset_parameter_schema(converter: DashboardAssetConverter) -> dict:
    return {"type": "string", "enum": list(ASSETS)}


@blp.get("/app")
def page():
    return served(PAGE, "index.html", CONTENT_SECURITY_POLICY)


@blp.get("/app/<dashboard_asset:file>")
def asset_file(file: str):
    return served(ASSETS, file, CONTENT_SECURITY_POLICY)


def init_app(app: Flask, api) -> None:
    app.url_map.converters["dashboard_asset"] = DashboardAssetConverter
    api.register_converter(DashboardAssetConverter, asset_parameter_schema)
    app.register_blueprint(blp)
