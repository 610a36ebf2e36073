"""The application factory: settings, then database, errors, JSON, auth, docs and blueprints."""

from __future__ import annotations

from importlib import import_module

from flask import Flask, request
from flask_cors import CORS
from werkzeug.middleware.proxy_fix import ProxyFix

from ..config import Settings, load_settings
from ..db import analytics_cache
from ..db.pool import Database
from ..db.read_replica import ReadReplica
from ..ops import logs
from ..ops.security_headers import SecurityHeaders
from ..services.auth.accounts import AuthSetup
from ..services.auth.passwords import PasswordHasher
from ..services.auth.throttle import make_store
from . import graphql
from .core import (
    idempotency,
    jsonio,
    observability,
    openapi,
    problems,
    rate_limiting,
    read_connection,
    request_transaction,
    routing,
    tokens,
)
from .core.converters import (
    CurrencyConverter,
    IdConverter,
    currency_parameter_schema,
    id_parameter_schema,
)
from .core.ledger_paths import register_ledger_paths
from .core.retry import init_app as install_transaction_retry


def create_app(settings: Settings | None = None, database_url: str | None = None) -> Flask:
    """Builds the app. Without a database_url it uses settings.database_url (the embedded
    server's URL is put there by whoever started it: the serve command or the tests)."""
    settings = settings or load_settings()
    url = database_url or settings.database_url
    if not url:
        raise RuntimeError(
            "No database URL: run the service with `expense-api serve`, which starts the "
            "embedded PostgreSQL, or set DATABASE_URL"
        )
    logs.configure(settings.log_format, settings.log_level)

    app = Flask(__name__, static_folder=None)  # serves no files: no /static route
    app.config.update(
        SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        TESTING=settings.app_env == "test",
        PROPAGATE_EXCEPTIONS=False,  # a bug is a problem+json 500, never a traceback page
    )
    if settings.trusted_proxy_count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxy_count)  # type: ignore[method-assign]
    routing.init_app(app)  # first: before any route is added or any other request hook

    database = Database(url, settings)
    database.open()
    rate_limiting.init_app(app, settings, database)  # counted before any other check
    request_transaction.init_app(app, database)
    app.extensions["analytics_cache"] = analytics_cache.from_settings(settings)  # None: no cache
    read_connection.init_app(app, _read_replica(settings))
    problems.init_app(app)
    jsonio.init_app(app)
    app.before_request(lambda: jsonio.check_body_type(app, request))
    app.extensions["auth"] = AuthSetup(
        settings=settings,
        database=database,
        hasher=PasswordHasher(settings.bcrypt_rounds),
        throttle_store=make_store(settings, database),
    )
    if settings.cors_origins:
        # Browsers only; tokens travel in the Authorization header. The dashboard's refresh
        # cookie (same origin only) is never sent cross-origin: no credentials here.
        CORS(
            app,
            resources={r"/api/*": {"origins": list(settings.cors_origins)}},
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            expose_headers=["Retry-After", "Idempotent-Replayed", *rate_limiting.HEADERS],
            max_age=600,
            supports_credentials=False,
        )
    tokens.init_app(app)

    idempotency.init_app(app)
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["currency"] = CurrencyConverter
    api = openapi.configure(app)
    api.register_converter(IdConverter, id_parameter_schema)
    api.register_converter(CurrencyConverter, currency_parameter_schema)
    _register_blueprints(api)
    graphql.init_app(app, api)  # POST /api/graphql and its explorer, over the same services
    install_transaction_retry(app)  # views run again when PostgreSQL aborts their transaction
    app.wsgi_app = SecurityHeaders(app.wsgi_app, settings.is_production)  # type: ignore[method-assign]
    observability.init_app(app)  # outermost: request ids and metrics around everything
    return app


def _register_blueprints(api) -> None:
    from . import admin, alerts, auth, budgets, categories, health, ledgers, reports, transactions

    modules = (health, auth, categories, transactions, budgets, alerts, reports, ledgers)
    for module in modules:
        api.register_blueprint(module.blp)
    api.register_blueprint(import_module(".sessions", __package__).blp)
    api.register_blueprint(import_module(".access_tokens", __package__).blp)
    api.register_blueprint(import_module(".invitations", __package__).blp)
    recurring = import_module(".recurring", __package__)
    api.register_blueprint(recurring.blp)
    webhooks = import_module(".webhooks", __package__)
    api.register_blueprint(webhooks.blp)
    # Under /api/ledgers/{id}/ only (a v3 route: no default-ledger alias).
    api.register_blueprint(import_module(".sync", __package__).blp)
    api.register_blueprint(import_module(".exports", __package__).blp)
    ledger_scoped = (categories, transactions, budgets, alerts, reports, recurring, webhooks)
    register_ledger_paths(api, ledger_scoped)
    # v3 routes: under /api/ledgers/<id>/ only (their blueprints carry the ledger's prefix).
    api.register_blueprint(import_module(".changes", __package__).blp)
    api.register_blueprint(import_module(".payees", __package__).blp)
    api.register_blueprint(import_module(".tags", __package__).blp)
    api.register_blueprint(import_module(".rules", __package__).blp)
    api.register_blueprint(import_module(".imports", __package__).blp)
    api.register_blueprint(import_module(".rates", __package__).blp)
    api.register_blueprint(import_module(".budget_copies", __package__).blp)
    api.register_blueprint(import_module(".two_factor", __package__).blp)
    api.register_blueprint(import_module(".security_events", __package__).blp)
    api.register_blueprint(admin.blp)
    api.register_blueprint(import_module(".me", __package__).blp)


def _read_replica(settings: Settings) -> ReadReplica | None:
    """READ_DATABASE_URL's replica for the reports and lists, or None (the primary only)."""
    if not settings.read_database_url:
        return None
    replica = ReadReplica(settings.read_database_url, settings)
    replica.open()
    return replica
