"""A bank file as uploaded: read by domain/bankfiles (its format given or detected), the
ledger's rules asked for each row, and the import created in preview (previews.create).

A file that cannot be read is a refusal the client can act on, never a 500: an unknown format
is 422 `unknown_format`; a CSV whose columns detection cannot decide is 422 `unreadable_file`
naming `mapping`, with the `columns` it saw; any other unreadable file is 422
`unreadable_file` with `line` (the line, or the element, where reading stopped)."""

from __future__ import annotations

import dataclasses
import importlib
import logging
import re

from psycopg import Connection

from ...domain import bankfiles
from ...domain.errors import ValidationFailed
from ..ledgers import Action, Actor, authorize
from . import previews

log = logging.getLogger(__name__)


class UnknownFormat(ValidationFailed):
    code = "unknown_format"


class UnreadableFile(ValidationFailed):
    code = "unreadable_file"


def create(
    conn: Connection,
    actor: Actor,
    data: bytes,
    *,
    file_name: str | None,
    account: str,
    file_format: str | None = None,
    currency: str | None = None,
    mapping: dict | None = None,
) -> dict:
    """The uploaded file's import, in preview (editors and owners)."""
    authorize(actor, Action.WRITE)  # a viewer's upload is refused before its file is read
    options = bankfiles.Options(
        format=file_format, currency=currency, mapping=mapping, file_name=file_name
    )
    parsed = read(data, options)
    return previews.create(
        conn,
        actor,
        parsed,
        account=account,
        file_name=file_name,
        currency=currency,
        categorize=_rules_of(conn, actor),
    )


def read(data: bytes, options: bankfiles.Options) -> bankfiles.ParsedFile:
    """The file read, or the refusal the client sees (see the module's text)."""
    try:
        # The readers are domain/bankfiles' own modules, imported when a file comes.
        reading = importlib.import_module("expense_api.domain.bankfiles.reading")
    except ModuleNotFoundError:
        raise UnknownFormat(
            {"file": ["This service reads no bank-file format yet."]},
            "The file's format is not one this service reads.",
        ) from None
    try:
        return _storable(reading.read(data, options))
    except bankfiles.NeedsMapping as error:
        refusal = UnreadableFile(
            {"mapping": [f"{error.why} Give a mapping of the columns."]},
            f"The file cannot be read without a mapping: {error.why}",
        )
        refusal.extra.update(line=error.where, columns=list(error.columns))
        raise refusal from None
    except reading.UnknownFormat as error:
        raise UnknownFormat({"format": [error.why]}, f"Unknown format: {error.why}") from None
    except bankfiles.UnreadableFile as error:
        where = "" if error.where is None else f" (at {error.where})"
        refusal = UnreadableFile(
            {"file": [error.why]}, f"The file cannot be read{where}: {error.why}"
        )
        refusal.extra.update(line=error.where)
        raise refusal from None
    except Exception:  # a reader's bug: logged, and still the client's 422, never a 500
        log.exception("a bank-file reader failed on a file (format %s)", options.format)
        raise UnreadableFile(
            {"file": ["The file could not be read."]}, "The file could not be read."
        ) from None


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(parsed: bankfiles.ParsedFile) -> bankfiles.ParsedFile:
    """The rows' text without what PostgreSQL's text cannot hold (NUL, a lone surrogate, which a
    lying encoding can give): removed, so that no file ends in a database error."""

    def clean(text):
        return None if text is None else _UNSTORABLE.sub("", text)

    rows = [
        dataclasses.replace(
            row,
            payee=clean(row.payee),
            description=clean(row.description),
            bank_id=clean(row.bank_id),
            category=clean(row.category),
            rate=clean(row.rate),
            tags=tuple(clean(tag) for tag in row.tags),
            splits=tuple(
                dataclasses.replace(line, category=clean(line.category), memo=clean(line.memo))
                for line in row.splits
            ),
        )
        for row in parsed.rows
    ]
    return dataclasses.replace(parsed, rows=rows)


def _rules_of(conn: Connection, actor: Actor):
    """The ledger's rules as previews.create's `categorize`; None while this build has no rules
    (domain/rules.py and services/rules.py come with the rules' own work)."""
    try:
        matching = importlib.import_module("expense_api.domain.rules")
        rules_service = importlib.import_module("expense_api.services.rules")
    except ModuleNotFoundError:
        return None
    rules = rules_service.list_all(conn, actor)
    if not rules:
        return None

    def categorize(row: dict) -> dict | None:
        rule = matching.first_match(rules, row)
        if rule is None:
            return None
        wanted = rule.get("set") or {}
        return {
            "category_id": wanted.get("categoryId", wanted.get("category_id")),
            "payee": wanted.get("payee"),
            "tags": wanted.get("tags"),
        }

    return categorize
