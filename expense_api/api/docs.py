"""/api/docs: Swagger UI, served by this service from files installed with it.

Nothing is fetched from a CDN at run time, so the page works offline and under a
Content-Security-Policy that allows this origin only: Swagger UI's own files come from the
flask-swagger-ui package's `dist/` folder (only the files; its blueprint renders a page with an
inline script), and the page and its start-up script are ours (`docs_assets/`). Only the files
listed in ASSETS are served, and the route's converter matches nothing else, so no request path
ever reaches the file system.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

from flask import Blueprint, Flask, send_from_directory
from werkzeug.routing import BaseConverter

SWAGGER_UI_DIST = Path(str(files("flask_swagger_ui") / "dist"))
OWN_ASSETS = Path(__file__).with_name("docs_assets")

# name → (folder, media type). RFC 9239 names JavaScript text/javascript.
ASSETS: dict[str, tuple[Path, str]] = {
    "swagger-ui-bundle.js": (SWAGGER_UI_DIST, "text/javascript"),
    "swagger-ui.css": (SWAGGER_UI_DIST, "text/css"),
    "index.css": (SWAGGER_UI_DIST, "text/css"),
    "favicon-32x32.png": (SWAGGER_UI_DIST, "image/png"),
    "favicon-16x16.png": (SWAGGER_UI_DIST, "image/png"),
    "init.js": (OWN_ASSETS, "text/javascript"),
}
ASSET_MEDIA_TYPES = sorted({media_type for _, media_type in ASSETS.values()})

# The page's policy: scripts, styles, images and requests from this origin only (Swagger UI's
# style sheet draws its icons as data: URIs), no inline script, no framing, no <base>.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

blp = Blueprint("docs", __name__)


def converter_for(names) -> type[BaseConverter]:
    """A URL converter that matches the listed file names and nothing else (any other is 404)."""

    class Converter(BaseConverter):
        regex = "|".join(re.escape(name) for name in names)

    return Converter


AssetConverter = converter_for(ASSETS)


def asset_parameter_schema(converter: AssetConverter) -> dict:
    return {"type": "string", "enum": list(ASSETS)}


@blp.get("/api/docs")
def page():
    return _with_headers(send_from_directory(OWN_ASSETS, "index.html", mimetype="text/html"))


@blp.get("/api/docs/<docs_asset:asset>")
def asset_file(asset: str):
    return served(ASSETS, asset, CONTENT_SECURITY_POLICY)


def served(assets: dict[str, tuple[Path, str]], name: str, policy: str):
    """One of the listed files, under the page's policy."""
    folder, media_type = assets[name]
    return _with_headers(send_from_directory(folder, name, mimetype=media_type), policy)


def _with_headers(response, policy: str = CONTENT_SECURITY_POLICY):
    # Revalidated on every use (a 304 while unchanged), so an upgrade shows at once.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = policy
    return response


def init_app(app: Flask, api) -> None:
    """Registers the page and its files; `api` (flask-smorest's) learns the converter so the
    OpenAPI document lists the file names."""
    app.url_map.converters["docs_asset"] = AssetConverter
    api.register_converter(AssetConverter, asset_parameter_schema)
    app.register_blueprint(blp)
