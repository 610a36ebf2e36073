"""GET /api/graphql: the GraphiQL explorer, served by this service from files installed with it.

ariadne's own GraphiQL page loads React and GraphiQL from a CDN at run time; here GraphiQL's
files (its UMD build, React, ReactDOM and its style sheet) come from the
graphene-django-graphiql-static package's static folder (only the files: nothing of Django is
imported), and the page and its start-up script are ours (`explorer_assets/`). Like /api/docs
(api/docs.py): only the files listed in ASSETS are served, the route's converter matches nothing
else, and the page runs under a Content-Security-Policy that allows this origin only and no
inline script. The page needs no token; the queries it sends do (its headers editor)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from flask import Flask

from ..docs import converter_for, served

GRAPHIQL_DIST = Path(
    str(files("graphene_django_graphiql_static") / "static" / "graphene_django_graphiql_static")
)
OWN_ASSETS = Path(__file__).with_name("explorer_assets")

ASSETS: dict[str, tuple[Path, str]] = {
    "react.production.min.js": (GRAPHIQL_DIST, "text/javascript"),
    "react-dom.production.min.js": (GRAPHIQL_DIST, "text/javascript"),
    "graphiql.min.js": (GRAPHIQL_DIST, "text/javascript"),
    "graphiql.min.css": (GRAPHIQL_DIST, "text/css"),
    "init.js": (OWN_ASSETS, "text/javascript"),
}
ASSET_MEDIA_TYPES = sorted({media_type for _, media_type in ASSETS.values()})

# GraphiQL sets style attributes from its script and draws icons as data: URIs; scripts and
# requests stay on this origin.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)


AssetConverter = converter_for(ASSETS)


def page():
    return served({"index.html": (OWN_ASSETS, "text/html")}, "index.html", CONTENT_SECURITY_POLICY)


def asset(name: str):
    return served(ASSETS, name, CONTENT_SECURITY_POLICY)


def init_app(app: Flask) -> None:
    app.url_map.converters["graphiql_asset"] = AssetConverter
