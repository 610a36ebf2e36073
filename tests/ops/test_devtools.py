"""Shared helpers have one home each: devtools.servers holds the throwaway-database and
live-server helpers (the benchmarks use it instead of importing tests/, and it stays free of
Flask), and test modules share tests/factories.py and conftest.py, never each other."""

from __future__ import annotations

import ast
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from devtools.servers import LiveServer, throwaway_database, with_database
from expense_api.config import PROJECT_ROOT

PACKAGE = "expense_api"


def _imported_modules(path: Path, module: str) -> set[str]:
    """Every module `path` imports, at any depth of its code (function-level imports too)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            found.add(prefix)
            # `from . import embedded` names a module; `from .config import X` names an attribute.
            found.update(f"{prefix}.{alias.name}" for alias in node.names)
    return found


def _module_path(module: str) -> Path | None:
    relative = Path(*module.split("."))
    for candidate in (PROJECT_ROOT / relative.with_suffix(".py"), PROJECT_ROOT / relative):
        if candidate.is_file():
            return candidate
    return None


def _import_closure(module: str) -> set[str]:
    """The modules `module` imports directly or through other modules of the package. The
    package's own __init__ is left out: it is the application's entry, not something these
    modules use."""
    found, visited, pending = set(), set(), [module]
    while pending:
        current = pending.pop()
        path = _module_path(current)
        if current in visited or path is None:
            continue
        visited.add(current)
        for imported in _imported_modules(path, current):
            if imported != PACKAGE:
                found.add(imported)
                pending.append(imported)
    return found


def test_devtools_does_not_import_flask_directly_or_through_the_package():
    closure = _import_closure("devtools.servers")
    assert "expense_api.db.migrate" in closure and "expense_api.db.embedded" in closure
    web = {name for name in closure if name.split(".")[0] in {"flask", "flask_smorest"}}
    assert web == set()
    assert not {name for name in closure if name.startswith(("expense_api.app", "expense_api.api"))}
    # The same walk does find Flask where it is used, so an empty answer above means something.
    assert "flask" in _import_closure("expense_api.api.auth")


def test_the_benchmarks_do_not_import_the_tests():
    for path in sorted((PROJECT_ROOT / "bench").glob("*.py")):
        imported = _imported_modules(path, f"bench.{path.stem}")
        assert not {name for name in imported if name.split(".")[0] == "tests"}, path.name


def test_no_test_module_imports_another():
    modules = sorted((PROJECT_ROOT / "tests").rglob("*.py"))
    assert len(modules) > 60  # the walk finds the area folders' modules
    for path in modules:
        module = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
        imported = _imported_modules(path, module)
        others = {
            name
            for name in imported
            if name.split(".")[-1].startswith("test_") or name.startswith("tests.conftest")
        }
        assert others == set(), f"{module}: move shared helpers to tests/helpers.py"


def test_with_database_replaces_only_the_database_name():
    url = "postgresql://postgres:secret@127.0.0.1:5432/postgres?sslmode=disable"
    assert with_database(url, "other") == (
        "postgresql://postgres:secret@127.0.0.1:5432/other?sslmode=disable"
    )


def test_throwaway_database_is_migrated_and_dropped(admin_url):
    with throwaway_database(admin_url, "expense_api_devtools") as url:
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT to_regclass('public.transactions')").fetchone()[0]
        name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(admin_url) as conn:
        query = "SELECT count(*) FROM pg_database WHERE datname = %s"
        assert conn.execute(query, (name,)).fetchone()[0] == 0


def test_throwaway_database_without_migrations_is_empty(admin_url):
    with (
        throwaway_database(admin_url, "expense_api_devtools", migrate=False) as url,
        psycopg.connect(url) as conn,
    ):
        query = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        assert conn.execute(query).fetchone()[0] == 0


WRITER = (
    'for n in range(3000):\n    print(\'{"n": %d, "pad": "%s"}\' % (n, \'x\' * 80), flush=True)\n'
)


def test_reading_the_log_while_the_server_writes_it_breaks_no_line():
    """LiveServer.output() must not move the file position the server's processes write at
    (seek + read did: their next lines overwrote the middle of the log, and a JSON access line
    came out cut in two once in a full run)."""
    server = LiveServer.__new__(LiveServer)  # only its log: no gunicorn needed here
    server.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
    writer = subprocess.Popen([sys.executable, "-c", WRITER], stdout=server.log)
    reads = 0
    while writer.poll() is None:
        server.output()
        reads += 1
    lines = server.output().splitlines()
    assert reads > 1
    assert len(lines) == 3000
    assert all(line.startswith('{"n": ') and line.endswith('"}') for line in lines)
    server.log.close()
