"""The executable schema: the SDL in sdl/ (schema first: a base file, then one file per resource),
its scalars and the resolvers of resources/ (one module per resource).

The scalars only carry text: `Decimal` and `Date` inputs reach REST's marshmallow fields (Money,
Rate, CalendarDate) as the client wrote them, so they are checked against the ledger's currency and
parsed exactly as REST does (and a float never exists); outputs are already REST's strings.
`Decimal` refuses nothing itself: a variable's JSON value (`true`, `{}` too) and a literal's text
(`true`, `{a: 1}` too) reach the field, whose refusal names it as REST does ("rate"), not as
graphql-core would ("variables" or "query")."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ariadne import ScalarType, load_schema_from_path, make_executable_schema
from graphql import GraphQLSchema
from graphql.language import FloatValueNode, IntValueNode, StringValueNode, print_ast

from .resources import BINDABLES

SDL_DIR = Path(__file__).with_name("sdl")


def sdl() -> str:
    """The whole SDL: sdl/'s files, in name order (the order of the fields in the schema)."""
    return load_schema_from_path(str(SDL_DIR))


def _as_written(value):
    """A variable's value as our JSON reader read it (a string, an int or Decimal, or a value
    REST's field refuses by its type, as it refuses it in a REST body)."""
    return value


def _literal_as_written(node, variables=None):
    """A literal's own text: "12.34" for 12.34 (never a float), "true" for true, "{a: 1}" for an
    object; REST's field parses it or refuses it as it refuses that string."""
    if isinstance(node, StringValueNode | IntValueNode | FloatValueNode):
        return node.value
    return print_ast(node)


def _date_text(value):
    if not isinstance(value, str):
        raise ValueError("Expected a date string such as 2026-02-01.")
    return value


def _literal_text(node, variables=None):
    if isinstance(node, StringValueNode):
        return node.value
    raise ValueError("Expected a date string such as 2026-02-01.")


decimal = ScalarType(
    "Decimal", serializer=str, value_parser=_as_written, literal_parser=_literal_as_written
)
date = ScalarType("Date", serializer=str, value_parser=_date_text, literal_parser=_literal_text)
datetime = ScalarType("DateTime", serializer=str)


@cache
def executable_schema() -> GraphQLSchema:
    return make_executable_schema(sdl(), decimal, date, datetime, *BINDABLES)
