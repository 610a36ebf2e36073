"""The layers keep their shape: the folders name the concerns, the domain never loads Flask, and
imports only flow downwards (api -> services -> repositories -> sql; each door -> services). See
docs/ARCHITECTURE.md, "Where things are"."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

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
ENTRY_POINTS = {"expense_api.ops.gunicorn_conf"}


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
        "expense_api.domain.errors",
        "expense_api.domain.money",
        "expense_api.db.pool",
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


# What each part of the package may import from the package (besides itself and config). A door
# (api, worker, cli) calls services; services call repositories and the db layer; nothing below a
# door imports one, and nothing imports the tests' and benchmarks' support (devtools/).
MAY_IMPORT = {
    "expense_api.domain": (),
    "expense_api.ops": ("expense_api.domain",),
    "expense_api.db": ("expense_api.domain", "expense_api.ops"),
    "expense_api.repositories": ("expense_api.domain", "expense_api.db"),
    "expense_api.services": (
        "expense_api.domain",
        "expense_api.ops",
        "expense_api.db",
        "expense_api.repositories",
    ),
    "expense_api.worker": (
        "expense_api.domain",
        "expense_api.ops",
        "expense_api.db",
        "expense_api.services",
    ),
    "expense_api.api": (
        "expense_api.domain",
        "expense_api.ops",
        "expense_api.db",
        "expense_api.services",
    ),
}
TOP_LEVEL = {"__init__", "cli", "config", "demo"}  # everything else lives in a named folder


def _part_of(module: str) -> str | None:
    return next((part for part in MAY_IMPORT if module.startswith(part + ".")), None)


def test_the_top_level_holds_only_entry_points_and_named_folders():
    modules = {path.stem for path in PACKAGE_DIR.glob("*.py")}
    assert modules == TOP_LEVEL
    folders = {path.name for path in PACKAGE_DIR.iterdir() if (path / "__init__.py").exists()}
    assert folders == {part.removeprefix("expense_api.") for part in MAY_IMPORT}


def test_each_part_imports_only_what_it_may():
    wrong = []
    for module, targets in _layer_imports().items():
        part = _part_of(module)
        if part is None or module in ENTRY_POINTS:  # gunicorn_conf starts the whole service
            continue
        allowed = (part, "expense_api.config", *MAY_IMPORT[part])
        wrong += [
            (module, target)
            for target in targets
            if target != "expense_api" and not target.startswith(allowed)
        ]
    assert wrong == []


def test_the_worker_acts_only_through_services():
    """The worker is a door like the REST API: no repository or query of its own."""
    for module, targets in _layer_imports().items():
        if module.startswith("expense_api.worker."):
            assert not {
                t
                for t in targets
                if t.startswith(("expense_api.repositories", "expense_api.db.sqlfiles"))
            }, module


def test_nothing_in_the_package_imports_test_or_benchmark_support():
    for path in PACKAGE_DIR.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            assert not [n for n in names if n.split(".")[0] in ("devtools", "tests", "bench")], path


def test_views_reach_data_only_through_services():
    """A view that called a repository or a query would hide a rule from the other doors."""
    wrong = []
    for module, targets in _layer_imports().items():
        if module.startswith("expense_api.api."):
            wrong += [
                (module, target)
                for target in targets
                if target.startswith(("expense_api.repositories", "expense_api.db.sqlfiles"))
            ]
    assert wrong == []


def _rest_view_modules() -> set[str]:
    """The REST view modules: those whose routes are the API's (flask-smorest's Blueprint, as
    api/core/blueprint.py extends it)."""
    return {
        module
        for module, targets in _layer_imports().items()
        if "expense_api.api.core.blueprint.Blueprint" in targets
    }


def test_graphql_never_imports_rest_views_or_private_names():
    """GraphQL is a door of its own: it calls services and shared api helpers (schemas,
    pagination, common), never a REST view module, and its modules share only public names."""
    views = _rest_view_modules()
    assert {"expense_api.api.reports", "expense_api.api.recurring"} <= views
    assert (
        "expense_api.api.core.pagination" not in views and "expense_api.api.core.views" not in views
    )
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


def test_the_api_folder_holds_resources_and_its_plumbing_apart():
    """api/<resource>.py are the resources' views; shared HTTP plumbing is in api/core/."""
    resources = {path.stem for path in (PACKAGE_DIR / "api").glob("*.py")} - {"__init__", "app"}
    assert resources == set(RESOURCES) | {"dashboard", "docs"}


# Every resource: api/<resource>.py -> services/<resource>(.py or package) -> repositories ->
# sql/<file>.sql. The repository and SQL file are named after the resource unless listed.
RESOURCES = {
    "access_tokens": "personal_access_tokens",
    "admin": "users",
    "alerts": "alerts",
    "auth": "auth_sessions",
    "budgets": "budgets",
    "budget_copies": "budgets",
    "categories": "categories",
    "changes": "changes",
    "exports": "exports",
    "health": "health",
    "imports": "imports",
    "invitations": "invitations",
    "ledgers": "ledgers",
    "me": "account_data",
    "payees": "payees",
    "rates": "rates",
    "recurring": "recurring",
    "reports": "reports",
    "rules": "rules",
    "security_events": "security_events",
    "sessions": "auth_sessions",
    "sync": "sync",
    "tags": "tags",
    "transactions": "transactions",
    "two_factor": "two_factor",
    "webhooks": "webhooks",
}
# A resource whose service is another's (sync reads the change log: services/changes/sync.py;
# copying budgets is the budgets service's; /api/me is the account's own data:
# services/account_data.py; two-factor sign-in and the security events list are the auth
# package's). The others' is services/<resource>(.py or package).
SERVICE_OF = {
    "sync": "changes.sync",
    "budget_copies": "budgets",
    "sessions": "auth.sessions",
    "access_tokens": "auth.access_tokens",
    "me": "account_data",
    "security_events": "auth.events",
    "two_factor": "auth.two_factor",
}


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_each_resource_has_its_chain(resource):
    root = PACKAGE_DIR.parent
    storage = RESOURCES[resource]
    service_name = SERVICE_OF.get(resource, resource)
    assert (PACKAGE_DIR / "api" / f"{resource}.py").exists()
    service = PACKAGE_DIR / "services" / service_name.replace(".", "/")
    assert service.with_suffix(".py").exists() or (service / "__init__.py").exists()
    assert (PACKAGE_DIR / "repositories" / f"{storage}.py").exists()
    assert (root / "sql" / f"{storage}.sql").exists()
    view_imports = _imports_of(
        PACKAGE_DIR / "api" / f"{resource}.py", f"expense_api.api.{resource}"
    )
    assert any(t.startswith(f"expense_api.services.{service_name}") for t in view_imports)
    service_files = (
        [service.with_suffix(".py")]
        if service.with_suffix(".py").exists()
        else sorted(service.glob("*.py"))
    )
    service_imports = set().union(*(_imports_of(path, _module_of(path)) for path in service_files))
    assert f"expense_api.repositories.{storage}" in service_imports


def _module_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


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
