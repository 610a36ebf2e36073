"""/api/ledgers/<id>/rates: a ledger's exchange rates, read by every member, written one
currency at a time or from an ECB rates file by editors and owners (a v3 route: under the
ledger's path only, no default-ledger alias)."""

from __future__ import annotations

from flask.views import MethodView

from ..domain.ratefiles import MAX_BYTES
from ..services import rates
from .core import pagination
from .core.blueprint import Blueprint
from .core.ledger_paths import LEDGER_PREFIX
from .core.read_connection import read_conn
from .core.request_transaction import get_conn
from .core.views import actor, authenticated, idempotent, problem_response
from .schemas.rates import (
    RateImportSchema,
    RateListSchema,
    RatePageSchema,
    RateQuerySchema,
    RatesPutSchema,
    RateUploadSchema,
)

blp = Blueprint(
    "rates",
    __name__,
    url_prefix=f"{LEDGER_PREFIX}/rates",
    description="Exchange rates: ledger-currency units per unit of a currency, by day",
)

_NO_LEDGER = "No such ledger of yours (you are not a member of it)"
_NOT_WRITER = "Viewers read rates; editors and owners write them: `forbidden`"
_MEGABYTES = MAX_BYTES // (1024 * 1024)


@blp.route("")
class Rates(MethodView):
    @authenticated(blp)
    @blp.arguments(RateQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, RatePageSchema)
    @problem_response(blp, 404, _NO_LEDGER)
    def get(self, limit, cursor=None, currency=None, from_=None, to=None):
        """List the ledger's exchange rates, by currency then date

        Every member may read them. `currency`, `from` and `to` (inclusive) filter. Paginated
        (an extension of the contract, since an ECB history is about 180,000 rates): `limit`
        (default 50, at most 500) and `cursor`, the answer's `nextCursor` (null on the last
        page). A rate is ledger-currency units per one unit of `currency`; a transaction in
        that currency without a rate of its own takes the latest one on or before its date."""
        items, next_cursor = pagination.rates_page(
            read_conn(), actor(), limit=limit, cursor=cursor, currency=currency,
            from_day=from_, to_day=to,
        )  # fmt: skip
        return {"items": items, "next_cursor": next_cursor}


@blp.route("/<currency:currency>")
class CurrencyRates(MethodView):
    @authenticated(blp)
    @blp.arguments(RatesPutSchema)
    @blp.response(200, RateListSchema)
    @problem_response(blp, 403, _NOT_WRITER)
    @problem_response(blp, 404, _NO_LEDGER)
    def put(self, body, currency):
        """Write a currency's rates of the given dates (editors and owners)

        Each date's rate is created, or replaced when it differs; the ledger's other dates
        are kept. `currency` is an ISO 4217 code other than the ledger's own (422 naming
        `currency`); 1 to 5,000 items, each date once (422 naming `items.N.date`), each rate
        an exact positive decimal of at most 12 significant digits (422 naming
        `items.N.rate`). Answers the given dates' rates as now stored, by date. Each rate
        created or changed is a change-log entry (`entity: "rate"`); transactions already
        recorded keep their own rate."""
        rows = rates.put(get_conn(), actor(), currency, body["items"])
        return {"items": rows}


@blp.route("/import")
class RatesImport(MethodView):
    # POST takes a multipart/form-data body of up to MAX_BYTES (jsonio.check_body_type).
    uploads = {"POST": MAX_BYTES}

    @authenticated(blp)
    @idempotent(blp)
    @blp.arguments(RateUploadSchema, location="files")
    @blp.response(200, RateImportSchema)
    @problem_response(blp, 403, _NOT_WRITER)
    @problem_response(blp, 404, _NO_LEDGER)
    @problem_response(blp, 413, f"The file is over {_MEGABYTES} MB: `payload_too_large`")
    @problem_response(blp, 415, "The body is not multipart/form-data: `unsupported_media_type`")
    def post(self, form):
        """Import an ECB rates file (editors and owners)

        `multipart/form-data` with the file in `file` (at most 5 MB): CSV in the European
        Central Bank's `eurofxref-hist.csv` layout (`Date`, then one column per currency,
        values in units per 1 EUR, `N/A` or empty for none; UTF-8 with or without BOM, CRLF
        or LF, dates in any order). For an EUR ledger each value is inverted (EUR per unit);
        for a ledger currency L the file has, each currency's rate is v(L) / v(X) and EUR's is
        v(L); a day without v(L) gives no rates. Exact decimal division, 12 significant
        digits, half up. A ledger currency the file lacks is 422 naming `file`; a file that
        cannot be read is 422 `unreadable_file` with `line`. Written in one transaction:
        rates with the same value are left alone, the others created or replaced, each a
        change-log entry (`via: "import"`). Answers the currencies and the first and last day
        the file gave rates of, how many rates were created or changed (`rates`), and the
        withdrawn currencies' columns it skipped."""
        return rates.import_file(get_conn(), actor(), form["file"].read())
