"""The GraphQL schema is organised by resource (sdl/: a base file, then one file per resource
extending Query, Mutation and Ledger; resources/: one resolver module per resource), and that
layout is the schema clients had: every type, field, argument, default and description of the
snapshot (graphql's print_schema of the single SDL file it was split from), field order included.
A deliberate schema change updates the snapshot:
    .venv/bin/python -c "from graphql import print_schema; from expense_api.api.graphql.schema \
import executable_schema; print(print_schema(executable_schema()), end='')" \
> tests/graphql/graphql_schema.snapshot.graphql
"""

from __future__ import annotations

import re
from pathlib import Path

from graphql import build_schema, print_schema, print_type

from expense_api.api.graphql import resources
from expense_api.api.graphql.schema import SDL_DIR, executable_schema

SNAPSHOT = Path(__file__).with_name("graphql_schema.snapshot.graphql")
ROOTS = {"Query", "Mutation", "Ledger"}


def _types(schema) -> dict[str, str]:
    return {
        name: print_type(kind)
        for name, kind in schema.type_map.items()
        if not name.startswith("__")
    }


def test_the_schema_is_the_snapshot_type_by_type_field_by_field():
    schema, snapshot = executable_schema(), build_schema(SNAPSHOT.read_text())
    assert _types(schema) == _types(snapshot)
    assert schema.description == snapshot.description
    assert [d.name for d in schema.directives] == [d.name for d in snapshot.directives]
    # Only the order in which types are printed may differ (the files are read in name order).
    assert sorted(print_schema(schema).split("\n\n")) == sorted(SNAPSHOT.read_text().split("\n\n"))


def test_each_resource_has_its_sdl_file_and_its_resolver_module():
    files = sorted(path.name for path in SDL_DIR.glob("*.graphql"))
    names = [re.sub(r"^\d+-", "", name).removesuffix(".graphql") for name in files]
    assert names[0] == "base"
    modules = sorted(resource.__name__.rsplit(".", 1)[1] for resource in resources.RESOURCES)
    assert sorted(names[1:]) == modules
    for path in SDL_DIR.glob("*.graphql"):
        if path.name.endswith("-base.graphql"):
            continue
        # A resource adds to the roots and to Ledger; it never redefines them.
        defined = re.findall(r"^(?:type|input|enum) (\w+)", path.read_text(), re.MULTILINE)
        assert not ROOTS & set(defined), path.name
