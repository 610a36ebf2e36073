"""JSON in and out without binary floating point.

Every JSON number with a fraction or exponent is parsed straight from its text to `Decimal`;
numbers written in exponent form keep that fact (`ExponentDecimal`) so money fields can refuse
`1e3`. Request bodies must be `application/json`, with no parameter but `charset=utf-8` (415
otherwise; `is_json`) and well-formed (400 otherwise).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import Flask, Request
from flask.json.provider import DefaultJSONProvider

from ...domain.errors import ValidationFailed
from ...domain.money import ExponentDecimal
from .problems import HttpError

MAX_JSON_DEPTH = 32


def _parse_float(text: str) -> Decimal:
    return ExponentDecimal(text) if "e" in text or "E" in text else Decimal(text)


def _refuse_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity, which are not JSON; treat them as malformed.
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=_parse_float, parse_constant=_refuse_constant)


def _depth(value: Any, limit: int) -> int:
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((inner, depth + 1) for inner in item.values())
        elif isinstance(item, list):
            stack.extend((inner, depth + 1) for inner in item)
    return deepest


class DecimalJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, reading numbers as Decimal (writing Decimal as a string)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)


def bad_text(value: str) -> bool:
    # PostgreSQL text cannot hold NUL, and an unpaired surrogate cannot be encoded as UTF-8.
    return "\x00" in value or any("\ud800" <= char <= "\udfff" for char in value)


def find_bad_text(value: Any, path: str = "") -> str | None:
    """The path of the first string (key or value) PostgreSQL could not store, else None."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if bad_text(item):
                return where or "_schema"
        elif isinstance(item, dict):
            for key, inner in item.items():
                if bad_text(key):
                    return "_schema"
                stack.append((inner, f"{where}.{key}" if where else key))
        elif isinstance(item, list):
            stack.extend(
                (inner, f"{where}.{index}" if where else str(index))
                for index, inner in enumerate(item)
            )
    return None


BAD_TEXT_MESSAGE = "Text must not contain NUL characters or unpaired surrogates."
GIVE_ONCE = "Give this parameter once."


class UnsupportedMediaType(HttpError):
    status, code = 415, "unsupported_media_type"


class MalformedJson(HttpError):
    status, code = 400, "malformed_json"


NOT_JSON = (
    "Request bodies must be sent as Content-Type: application/json "
    "(its only parameter may be charset=utf-8)."
)


def is_json(request: Request) -> bool:
    """Content-Type application/json, in any case, with no parameter but charset=utf-8.

    Not werkzeug's `request.is_json`, which also takes every `+json` type: a JSON Patch
    (application/json-patch+json) or a merge patch means something else than the object it
    would be read as, and a body in another charset would be read as UTF-8."""
    if request.mimetype != "application/json":  # werkzeug gives it in lower case
        return False
    params = {name.lower(): value for name, value in request.mimetype_params.items()}
    return params.keys() <= {"charset"} and params.get("charset", "utf-8").lower() == "utf-8"


def read_json_body(request: Request) -> Any:
    """The request's JSON body, or a 415/400 problem; never a float."""
    if not is_json(request):
        raise UnsupportedMediaType(NOT_JSON)
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise MalformedJson("The request body is empty; a JSON object was expected.")
    try:
        body = loads(raw)
    except (ValueError, RecursionError) as error:
        raise MalformedJson(f"The request body is not valid JSON: {error}") from None
    if _depth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise MalformedJson(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")
    bad = find_bad_text(body)
    if bad is not None:
        raise ValidationFailed({bad: [BAD_TEXT_MESSAGE]})
    return body


def refuse_non_json_bodies(request: Request) -> None:
    """Any request that carries a body must carry JSON (also where no body is expected)."""
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding")
    if has_body and request.method in ("POST", "PUT", "PATCH", "DELETE") and not is_json(request):
        raise UnsupportedMediaType(NOT_JSON)


NOT_MULTIPART = "This operation takes a file: send the body as Content-Type: multipart/form-data."


def upload_limit(app: Flask, request: Request) -> int | None:
    """The largest body of an upload operation (a view class's `uploads`, {method: bytes}), or
    None: the operation takes JSON, as every other."""
    view = app.view_functions.get(request.endpoint) if request.endpoint else None
    uploads = getattr(getattr(view, "view_class", None), "uploads", None) or {}
    return uploads.get(request.method)


def check_body_type(app: Flask, request: Request) -> None:
    """Before every request: bodies are JSON (refuse_non_json_bodies), except on the upload
    operations, which take multipart/form-data only, up to their own limit instead of the
    app's MAX_CONTENT_LENGTH (a 413 above it)."""
    limit = upload_limit(app, request)
    if limit is None:
        refuse_non_json_bodies(request)
        return
    request.max_content_length = limit
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding")
    if has_body and request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType(NOT_MULTIPART)


def init_app(app: Flask) -> None:
    app.json = DecimalJSONProvider(app)
    app.json.sort_keys = False
