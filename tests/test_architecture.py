"""The layers keep their shape: the domain never loads Flask, and imports only flow downwards
(api -> services -> repositories -> sql). See docs/ARCHITECTURE.md."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import expense_api

PACKAGE_DIR = Path(expense_api.__file__).parent
WEB_LIBRARIES = (
    "flask",
    "flask_smorest",
    "flask_jwt_extended",
    "flask_cors",
    "webargs",
    "werkzeug",
)
# Entry points that configure a process when imported, rather than define anything.
ENTRY_POINTS = {"expense_api.gunicorn_conf"}


def _all_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix="expense_api."):
        names.append(info.name)
    return sorted(names)


def _domain_modules() -> list[str]:
    return [
        name
        for name in _all_modules()
        if not name.startswith("expense_api.api") and name not in ENTRY_POINTS
    ]


def test_the_domain_modules_are_found():
    domain = _domain_modules()
    for expected in (
        "expense_api.services.transactions",
        "expense_api.repositories.transactions",
        "expense_api.errors",
        "expense_api.money",
        "expense_api.database",
    ):
        assert expected in domain
    assert not any(name.startswith("expense_api.api") for name in domain)


def test_importing_the_domain_never_loads_a_web_library():
    """In a fresh interpreter: every domain module imported, then no Flask in sys.modules."""
    program = (
        "import importlib, json, sys\n"
        f"for name in {_domain_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {WEB_LIBRARIES!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        cwd=PACKAGE_DIR.parent,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def _imports_of(path: Path, module: str) -> set[str]:
    """Absolute names of the expense_api modules a file imports (relative imports resolved)."""
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("expense_api")}


def _layer_imports() -> dict[str, set[str]]:
    imports = {}
    for name in _all_modules():
        relative = name.removeprefix("expense_api.").replace(".", "/")
        path = PACKAGE_DIR / f"{relative}.py"
        if not path.exists():
            path = PACKAGE_DIR / relative / "__init__.py"
        imports[name] = _imports_of(path, name)
    return imports


def test_imports_only_flow_downwards():
    forbidden = {
        "expense_api.repositories": ("expense_api.api", "expense_api.services"),
        "expense_api.services": ("expense_api.api",),
    }
    wrong = []
    for module, targets in _layer_imports().items():
        for layer, above in forbidden.items():
            if module.startswith(layer + "."):
                wrong += [(module, t) for t in targets if t.startswith(above)]
    assert wrong == []


def test_views_reach_data_only_through_services():
    """A view that called a repository or a query would hide a rule from the other doors."""
    wrong = []
    for module, targets in _layer_imports().items():
        if module.startswith("expense_api.api."):
            wrong += [
                (module, target)
                for target in targets
                if target.startswith(("expense_api.repositories", "expense_api.sqlfiles"))
            ]
    assert wrong == []


def _rest_view_modules() -> set[str]:
    """The REST view modules: those whose routes are the API's (flask-smorest's Blueprint, as
    api/jsonio.py extends it)."""
    return {
        module
        for module, targets in _layer_imports().items()
        if "expense_api.api.jsonio.Blueprint" in targets
    }


def test_graphql_never_imports_rest_views_or_private_names():
    """GraphQL is a door of its own: it calls services and shared api helpers (schemas,
    pagination, common), never a REST view module, and its modules share only public names."""
    views = _rest_view_modules()
    assert {"expense_api.api.reports", "expense_api.api.recurring"} <= views
    assert "expense_api.api.pagination" not in views and "expense_api.api.common" not in views
    wrong = []
    for module, targets in _layer_imports().items():
        if module.startswith("expense_api.api.graphql"):
            wrong += [(module, target) for target in targets if target in views]
    assert wrong == []
    private = []
    for path in (PACKAGE_DIR / "api" / "graphql").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                private += [
                    (path.name, node.module, alias.name)
                    for alias in node.names
                    if alias.name.startswith("_")
                ]
    assert private == []


def test_each_resource_has_its_chain():
    """api/<resource>.py -> services/<resource>.py -> repositories/<resource>.py -> sql/."""
    root = PACKAGE_DIR.parent
    for resource in (
        "categories",
        "transactions",
        "budgets",
        "alerts",
        "reports",
        "health",
        "ledgers",
        "invitations",
        "webhooks",
    ):
        assert (PACKAGE_DIR / "api" / f"{resource}.py").exists(), resource
        assert (PACKAGE_DIR / "services" / f"{resource}.py").exists(), resource
        assert (PACKAGE_DIR / "repositories" / f"{resource}.py").exists(), resource
        assert (root / "sql" / f"{resource}.sql").exists(), resource
        view_imports = _imports_of(
            PACKAGE_DIR / "api" / f"{resource}.py", f"expense_api.api.{resource}"
        )
        assert f"expense_api.services.{resource}" in view_imports, resource


def test_services_and_repositories_never_end_a_transaction():
    """The door that owns the transaction (the REST request, GraphQL's, the worker's) commits or
    rolls back; a service may only say that a batch ends its writes (database.Batch's
    `ends_work`), and the database layer sends the COMMIT with it when the door consented."""
    ending = ("commit", "rollback", "commits_with_last_write", "commit_with_last_write")
    found = []
    for folder in ("services", "repositories"):
        for path in sorted((PACKAGE_DIR / folder).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                name = getattr(node, "attr", None) or getattr(node, "id", None)
                if name in ending:
                    found.append(f"{folder}/{path.name}:{node.lineno} {name}")
                text = node.value if isinstance(node, ast.Constant) else None
                if isinstance(text, str) and text.strip().upper() in ("COMMIT", "ROLLBACK"):
                    found.append(f"{folder}/{path.name}:{node.lineno} {text}")
    assert not found, found


def test_flask_answers_ensure_sync_itself(app):
    """A cache of Flask's ensure_sync (ExpenseApp) saved 0.4% of a request's instructions,
    within the noise (docs/BENCHMARKS.md, "Framework overrides, measured"): Flask's own runs."""
    from flask import Flask

    assert type(app).ensure_sync is Flask.ensure_sync
