"""/api/ledgers/<id>/imports: bank files in (a v3 route: under the ledger's path only, no
default-ledger alias). An upload is read into an import in preview; its rows are looked at,
then the import is committed, discarded, or once committed undone (services/imports)."""

from __future__ import annotations

import os
import re

from flask import request
from flask.views import MethodView
from marshmallow import ValidationError

from ..domain.bankfiles import MAX_BYTES
from ..domain.errors import ValidationFailed
from ..services.imports import commits, reads, uploads
from .core import pagination
from .core.blueprint import Blueprint
from .core.jsonio import read_json_body
from .core.ledger_paths import LEDGER_PREFIX
from .core.problems import flatten_messages
from .core.read_connection import read_conn
from .core.request_transaction import get_conn
from .core.views import actor, authenticated, idempotent, problem_response
from .schemas.imports import (
    CommitSchema,
    ImportPageSchema,
    ImportQuerySchema,
    ImportRowPageSchema,
    ImportRowQuerySchema,
    ImportSchema,
    UploadSchema,
    load_mapping,
)

blp = Blueprint(
    "imports",
    __name__,
    url_prefix=f"{LEDGER_PREFIX}/imports",
    description="Bank files in: CSV, OFX/QFX, QIF, CAMT.053 and MT940, previewed, then "
    "committed, discarded or undone",
)

_NOT_FOUND = "No such ledger of yours, or no such import in it"
_NOT_WRITER = "Viewers read imports; editors and owners import: `forbidden`"


def _writers_only(view):
    return problem_response(blp, 403, _NOT_WRITER)(view)


@blp.route("")
class Imports(MethodView):
    # POST takes a multipart/form-data body of up to MAX_BYTES (jsonio.check_body_type).
    uploads = {"POST": MAX_BYTES}

    @authenticated(blp)
    @blp.arguments(ImportQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, ImportPageSchema)
    @problem_response(blp, 404, "No such ledger of yours (you are not a member of it)")
    def get(self, limit, cursor=None):
        """List the ledger's imports, newest first

        Every member reads them."""
        before_id = pagination.decode_id(cursor) if cursor else None
        rows = reads.list_page(read_conn(), actor(), limit=limit + 1, before_id=before_id)
        items, next_cursor = pagination.page_by_id(rows, limit)
        return {"items": items, "next_cursor": next_cursor}

    @authenticated(blp)
    @idempotent(blp)
    @blp.arguments(UploadSchema, location="files")
    @blp.response(201, ImportSchema)
    @_writers_only
    @problem_response(blp, 404, "No such ledger of yours (you are not a member of it)")
    @problem_response(blp, 413, "The file is over 20 MB: `payload_too_large`")
    @problem_response(blp, 415, "The body is not multipart/form-data: `unsupported_media_type`")
    def post(self, form):
        """Upload a bank file: its import, in preview (editors and owners)

        `multipart/form-data` with the file in `file` (at most 20 MB). Nothing of the ledger
        changes until the commit: each row is listed with its decision (`new`, `duplicate` of
        a transaction the ledger has, `match` of one entered by hand, `invalid` with its
        reason). A file that cannot be read is 422 `unreadable_file` with `line` (the line or
        element where reading stopped) and why; a CSV whose columns cannot be told apart is
        422 `unreadable_file` naming `mapping`, with the `columns` it saw; a format the
        service does not know is 422 `unknown_format`."""
        upload = form["file"]
        mapping = form.get("mapping")
        return uploads.create(
            get_conn(),
            actor(),
            upload.read(),
            file_name=_file_name(upload.filename),
            account=form["account"],
            file_format=form.get("format"),
            currency=form.get("currency"),
            mapping=None if mapping is None else load_mapping(mapping, form.get("format")),
        )


@blp.route("/<id:import_id>")
class Import(MethodView):
    @authenticated(blp)
    @blp.response(200, ImportSchema)
    @problem_response(blp, 404, _NOT_FOUND)
    def get(self, import_id):
        """Get an import"""
        return reads.get(read_conn(), actor(), import_id)

    @authenticated(blp)
    @blp.response(204)
    @_writers_only
    @problem_response(blp, 404, _NOT_FOUND)
    @problem_response(blp, 409, "Not a preview: `import_not_preview`")
    def delete(self, import_id):
        """Discard an import in preview (editors and owners)

        Nothing of the ledger was written; the import stays listed as `discarded`."""
        commits.discard(get_conn(), actor(), import_id)


@blp.route("/<id:import_id>/rows")
class ImportRows(MethodView):
    @authenticated(blp)
    @blp.arguments(ImportRowQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, ImportRowPageSchema)
    @problem_response(blp, 404, _NOT_FOUND)
    def get(self, import_id, limit, cursor=None, decision=None):
        """List an import's rows, in file order

        `decision` keeps the rows of one decision. A row's `transactionId` is the transaction
        a duplicate or a match is of, and once committed the one a new row became."""
        after_line = pagination.decode_id(cursor) if cursor else 0
        rows = reads.rows_page(
            read_conn(), actor(), import_id, limit=limit + 1, after_line=after_line,
            decision=decision,
        )  # fmt: skip
        items, next_cursor = pagination.page_by_id(rows, limit, key="line")
        return {"items": items, "next_cursor": next_cursor}


@blp.route("/<id:import_id>/commit")
class Commit(MethodView):
    @authenticated(blp)
    @idempotent(blp)
    @blp.doc(
        requestBody={
            "required": False,
            "content": {"application/json": {"schema": CommitSchema}},
        }
    )
    @blp.response(200, ImportSchema)
    @_writers_only
    @problem_response(blp, 404, _NOT_FOUND)
    @problem_response(blp, 409, "Not a preview (committed, discarded): `import_not_preview`")
    @problem_response(blp, 422, "An override the rows do not allow: `validation_error`")
    def post(self, import_id):
        """Commit an import: its new rows become transactions, its matches are linked

        All rows in one database transaction. The body is optional (none, or `{"rows": {...}}`
        with per-line overrides: `decision: "skip"` leaves a row out, `decision: "new"` makes a
        match a transaction of its own, `categoryId` sets another of the ledger's categories).
        Hard budgets do not refuse imported rows (they happened); the answer's `overBudget`
        lists the budgets that ended above their amount. Its change-log entries are
        `via: "import"`; one webhook event, `import.committed`, is sent."""
        return commits.commit(get_conn(), actor(), import_id, _overrides())


@blp.route("/<id:import_id>/undo")
class Undo(MethodView):
    @authenticated(blp)
    @idempotent(blp)
    @blp.response(200, ImportSchema)
    @_writers_only
    @problem_response(blp, 404, _NOT_FOUND)
    @problem_response(blp, 409, "Not committed: `import_not_committed`")
    def post(self, import_id):
        """Undo a committed import

        Deletes the transactions it created, except those edited since (kept, and listed in
        `kept`), and unlinks the transactions it matched. The body is optional (none, or
        `{}`)."""
        return commits.undo(get_conn(), actor(), import_id)


def _overrides() -> dict:
    """The commit's optional body as the service's overrides: {line: {"decision"?,
    "category_id"?}}."""
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding")
    if not has_body:
        return {}
    try:
        body = CommitSchema().load(read_json_body(request))
    except ValidationError as error:
        raise ValidationFailed(flatten_messages(error.messages)) from None
    return {int(line): choice for line, choice in (body.get("rows") or {}).items()}


_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _file_name(name: str | None) -> str | None:
    """The file's own name (no folder), without control characters, at most 255 characters."""
    if not name:
        return None
    shown = _UNSAFE.sub("", os.path.basename(name.replace("\\", "/"))).strip()[:255]
    return shown or None
