"""The `<id:...>` path converter: a positive bigint, so an out-of-range id is a 404 (no route),
never a database error."""

from __future__ import annotations

from werkzeug.routing import BaseConverter

from ...domain.ratefiles import known_currencies

MAX_ID = 2**63 - 1


class IdConverter(BaseConverter):
    regex = r"[1-9][0-9]{0,18}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            from werkzeug.routing import ValidationError

            raise ValidationError()  # werkzeug then tries other rules and answers 404
        return number

    def to_url(self, value) -> str:
        return str(int(value))


def id_parameter_schema(converter) -> dict:
    return {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID}


class CurrencyConverter(BaseConverter):
    """`<currency:...>`: three capital letters (anything else is no route, 404); whether they
    are an ISO 4217 code the service says (422 naming `currency`)."""

    regex = r"[A-Z]{3}"


def currency_parameter_schema(converter) -> dict:
    return {"type": "string", "enum": sorted(known_currencies()), "example": "USD"}
