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
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import RAISE, Schema
from webargs.flaskparser import FlaskParser

from ..errors import ValidationFailed
from ..money import ExponentDecimal
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


def _bad_text(value: str) -> bool:
    # PostgreSQL text cannot hold NUL, and an unpaired surrogate cannot be encoded as UTF-8.
    return "\x00" in value or any("\ud800" <= char <= "\udfff" for char in value)


def find_bad_text(value: Any, path: str = "") -> str | None:
    """The path of the first string (key or value) PostgreSQL could not store, else None."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if _bad_text(item):
                return where or "_schema"
        elif isinstance(item, dict):
            for key, inner in item.items():
                if _bad_text(key):
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


class JsonParser(FlaskParser):
    """webargs' parser, reading bodies with our Decimal-preserving, media-type-checking reader.
    Unknown query parameters are refused like unknown body fields: a misspelt filter
    (`categoryID`) must not silently return unfiltered data. A parameter given twice is refused
    (422 naming it) unless its field is a list."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": RAISE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._schemas: dict[type, Schema] = {}

    def _get_schema(self, argmap, req: Request) -> Schema:
        # webargs makes a new instance of a schema class on every request, and marshmallow
        # deep-copies the declared fields each time. One instance per class does: loading never
        # changes a schema (the user's currency travels in a context variable, not on it).
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            schema = self._schemas.get(argmap)
            if schema is None:
                schema = self._schemas.setdefault(argmap, argmap())
            return schema
        return super()._get_schema(argmap, req)

    def _raw_load_json(self, req: Request) -> Any:
        return read_json_body(req)

    def load_querystring(self, req: Request, schema) -> Any:
        for name, value in req.args.items(multi=True):
            if _bad_text(name) or _bad_text(value):
                raise ValidationFailed(
                    {name if not _bad_text(name) else "_query": [BAD_TEXT_MESSAGE]}
                )
        proxy = super().load_querystring(req, schema)
        # webargs would take the first of a repeated parameter its schema reads as one value
        # (type=INCOME&type=EXPENSE filtered by INCOME alone); a List field takes them all.
        # Unknown names are left to the schema (RAISE: "Unknown field.").
        known = {field.data_key or name for name, field in schema.load_fields.items()}
        repeated = sorted(
            name
            for name, values in req.args.lists()
            if len(values) > 1 and name in known and name not in proxy.multiple_keys
        )
        if repeated:
            raise ValidationFailed({name: [GIVE_ONCE] for name in repeated})
        return proxy


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = JsonParser()


def refuse_non_json_bodies(request: Request) -> None:
    """Any request that carries a body must carry JSON (also where no body is expected)."""
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding")
    if has_body and request.method in ("POST", "PUT", "PATCH", "DELETE") and not is_json(request):
        raise UnsupportedMediaType(NOT_JSON)


def init_app(app: Flask) -> None:
    app.json = DecimalJSONProvider(app)
    app.json.sort_keys = False
