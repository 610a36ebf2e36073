"""/api/ledgers/{id}/export: a ledger's transactions as CSV or OFX, or the whole ledger as JSON
(what `POST /api/ledgers` with `restore` takes), streamed.

The view answers before the first byte of the file is read: by then the request's hooks have
run and its teardown has given its connection back to the pool (Flask pops the request when the
view returns). The stream then runs inside the request again (`stream_with_context` pushes it
anew when the server asks for the first chunk) and borrows a connection of its own there, the
request's connection as `get_conn` knows it: it reads in one REPEATABLE READ READ ONLY
snapshot (db/snapshot.py) on it and holds it until the stream ends, or the client goes away
(the WSGI server then closes the stream: the snapshot rolls back, and the request's second
teardown returns the connection). A request holds one connection at a time.
"""

from __future__ import annotations

from flask import Response, stream_with_context
from flask.views import MethodView

from ..db.snapshot import one_snapshot
from ..services import exports
from .core.blueprint import Blueprint
from .core.request_transaction import get_conn
from .core.views import actor, authenticated, problem_response
from .schemas.exports import ExportQuerySchema

blp = Blueprint(
    "exports",
    __name__,
    url_prefix="/api/ledgers",
    description="Export a ledger: CSV and OFX for other tools, JSON for a restore",
)

PERIOD_FIELDS = ("month", "year", "from_", "to")
_FILE = {"schema": {"type": "string"}}


@blp.route("/<id:ledger_id>/export")
class Export(MethodView):
    @authenticated(blp)
    @blp.arguments(ExportQuerySchema, location="query", as_kwargs=True)
    @blp.response(
        200,
        description="The file, streamed, as an attachment",
        content_type="text/csv",
    )
    @blp.doc(
        responses={
            "200": {
                "description": "The file, streamed, as an attachment (Content-Disposition)",
                "content": {
                    "text/csv": _FILE,
                    "application/x-ofx": _FILE,
                    "application/json": {"schema": {"type": "object"}},
                },
            }
        }
    )
    @problem_response(blp, 404, "No such ledger of yours (you are not a member of it)")
    def get(self, format, **period_filter):
        """Export the ledger (any member)

        `format`: `csv` (a header row `date,type,amount,currency,rate,category,payee,tags,
        description,account,bankId,importId,splitOf`; amounts unsigned, `type` says which way,
        in the transaction's `currency` with its `rate` (empty in the ledger's currency), which
        the import reads back; tags joined with `;`; a split transaction is one row per line
        sharing `splitOf`, its id; a text cell that a spreadsheet would run as a formula,
        starting with `=`, `+`, `-`, `@`, a tab or carriage return, or one starting with an
        apostrophe, gets a leading apostrophe), `ofx` (an OFX 2.2 bank statement in the
        ledger's currency: one STMTTRN per transaction, TRNAMT its ledger amount, ORIGCURRENCY
        with CURRATE and CURSYM for one in another currency, FITID its bank id or
        `EXP-<ledger>-<id>`) or `json` (the whole ledger, its `rates` included: what
        `POST /api/ledgers` with `restore` takes). The period filters are the transaction
        list's; none at all: every transaction. One consistent snapshot of the ledger,
        streamed."""
        export = exports.export(get_conn(), actor(), format=format, period_filter=period_filter)

        def chunks():
            conn = get_conn()  # the stream's own: see the module's note
            with one_snapshot(conn):
                for chunk in export.chunks(conn):
                    yield chunk.encode()

        return Response(
            stream_with_context(chunks()),
            content_type=export.content_type,
            headers={"Content-Disposition": f'attachment; filename="{export.file_name}"'},
        )
