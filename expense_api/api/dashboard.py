"""/app: the household dashboard, a page of our own HTML, CSS and JavaScript served by the service.

The page talks to the same REST API as every other client (nothing here reads the database): it
signs in with `refreshCookie: true`, keeps the access token in memory only and renews it through
the HttpOnly refresh cookie with the CSRF header (api/tokens.py). Charts are SVG drawn by the
page's own script, so there is no library to install and nothing is fetched from another origin.
Only the files listed in ASSETS are served (the route's converter matches nothing else), under a
policy that allows this origin only and no inline script.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, Flask, send_from_directory
from werkzeug.routing import BaseConverter

ASSET_FOLDER = Path(__file__).with_name("dashboard_assets")
ASSETS: dict[str, str] = {"app.js": "text/javascript", "app.css": "text/css"}
ASSET_MEDIA_TYPES = sorted(set(ASSETS.values()))

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

blp = Blueprint("dashboard", __name__)


class DashboardAssetConverter(BaseConverter):
    regex = "|".join(re.escape(name) for name in ASSETS)


def asset_parameter_schema(converter: DashboardAssetConverter) -> dict:
    return {"type": "string", "enum": list(ASSETS)}


@blp.get("/app")
def page():
    return _with_headers(send_from_directory(ASSET_FOLDER, "index.html", mimetype="text/html"))


@blp.get("/app/<dashboard_asset:file>")
def asset_file(file: str):
    return _with_headers(send_from_directory(ASSET_FOLDER, file, mimetype=ASSETS[file]))


def _with_headers(response):
    response.headers["Cache-Control"] = "no-cache"  # revalidated, so an upgrade shows at once
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def init_app(app: Flask, api) -> None:
    app.url_map.converters["dashboard_asset"] = DashboardAssetConverter
    api.register_converter(DashboardAssetConverter, asset_parameter_schema)
    app.register_blueprint(blp)
