"""The executable schema: the SDL in sdl/ (schema first: a base file, then one file per resource),
its scalars and the resolvers of resources/ (one module per resource).

The scalars only carry text: `Decimal` and `Date` inputs reach REST's marshmallow fields (Money,
CalendarDate) as the client wrote them, so they are checked against the ledger's currency and
parsed exactly as REST does (and a float never exists); outputs are already REST's strings."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path

from ariadne import ScalarType, load_schema_from_path, make_executable_schema
from graphql import GraphQLSchema
from graphql.language import FloatValueNode, IntValueNode, StringValueNode

from .resources import BINDABLES

SDL_DIR = Path(__file__).with_name("sdl")


def sdl() -> str:
    """The whole SDL: sdl/'s files, in name order (the order of the fields in the schema)."""
    return load_schema_from_path(str(SDL_DIR))


def _text(value):
    """As written: a string, or a JSON number (parsed to Decimal or int by our JSON reader)."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError("Expected a decimal string or a number.")
    return value


def _literal_number_or_text(node, variables=None):
    if isinstance(node, StringValueNode | IntValueNode | FloatValueNode):
        return node.value  # the literal's own text: "12.34", never a float
    raise ValueError("Expected a decimal string or a number.")


def _date_text(value):
    if not isinstance(value, str):
        raise ValueError("Expected a date string such as 2026-02-01.")
    return value


def _literal_text(node, variables=None):
    if isinstance(node, StringValueNode):
        return node.value
    raise ValueError("Expected a date string such as 2026-02-01.")


decimal = ScalarType(
    "Decimal", serializer=str, value_parser=_text, literal_parser=_literal_number_or_text
)
date = ScalarType("Date", serializer=str, value_parser=_date_text, literal_parser=_literal_text)
datetime = ScalarType("DateTime", serializer=str)


@cache
def executable_schema() -> GraphQLSchema:
    return make_executable_schema(sdl(), decimal, date, datetime, *BINDABLES)
