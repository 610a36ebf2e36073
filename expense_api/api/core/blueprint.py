"""The Blueprint every resource's views use: flask-smorest's, with webargs' parser reading
bodies through jsonio (Decimal-preserving, media type checked) and refusing unknown and repeated
query parameters."""

from __future__ import annotations

from typing import Any

from flask import Request
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import RAISE, Schema
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict

from ...domain.errors import ValidationFailed
from .jsonio import BAD_TEXT_MESSAGE, GIVE_ONCE, bad_text, read_json_body


class JsonParser(FlaskParser):
    """webargs' parser, reading bodies with our Decimal-preserving, media-type-checking reader.
    Unknown query parameters are refused like unknown body fields: a misspelt filter
    (`categoryID`) must not silently return unfiltered data. A parameter given twice is refused
    (422 naming it) unless its field is a list."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": RAISE,
        "files": RAISE,
    }

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

    def load_files(self, req: Request, schema) -> Any:
        """An upload's multipart form: its files and its text fields, read by one schema (the
        document describes them as one multipart/form-data body). A field given twice is
        refused, as in a query."""
        parts = CombinedMultiDict([req.files, req.form])
        repeated = sorted(name for name, values in parts.lists() if len(values) > 1)
        if repeated:
            raise ValidationFailed({name: [GIVE_ONCE] for name in repeated})
        return MultiDictProxy(parts, schema)

    def load_querystring(self, req: Request, schema) -> Any:
        for name, value in req.args.items(multi=True):
            if bad_text(name) or bad_text(value):
                raise ValidationFailed(
                    {name if not bad_text(name) else "_query": [BAD_TEXT_MESSAGE]}
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
