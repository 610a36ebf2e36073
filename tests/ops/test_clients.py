"""The shipped clients work against a live service: the curl walkthrough and the Postman
collection (run by newman, which bin/test installs from the npm registry; skipped without it).
And the collection stays in step with the OpenAPI document."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POSTMAN = ROOT / "clients" / "postman"
COLLECTION = POSTMAN / "expense-api.postman_collection.json"
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def _collection_requests(items) -> list[dict]:
    found = []
    for item in items:
        if "item" in item:
            found += _collection_requests(item["item"])
        else:
            found.append(item["request"])
    return found


def _operation(method: str, path: str) -> tuple[str, str]:
    """('GET', '/api/categories/{}'): variables and path parameters look the same."""
    path = re.sub(r"\{\{\w+\}\}|\{\w+\}", "{}", path.split("?")[0])
    return method.upper(), path


def test_collection_and_openapi_describe_the_same_operations(client):
    spec = client.get("/api/openapi.json").get_json()
    documented = {
        _operation(method, path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    }
    collection = json.loads(COLLECTION.read_text())
    in_collection = {
        _operation(request["method"], request["url"]["raw"].replace("{{baseUrl}}", ""))
        for request in _collection_requests(collection["item"])
    }
    assert documented - in_collection == set(), "operations missing from the Postman collection"
    assert in_collection - documented == set(), "collection requests that the API does not document"


def test_collection_is_v2_1_with_a_test_in_every_request():
    collection = json.loads(COLLECTION.read_text())
    assert collection["info"]["schema"].endswith("/v2.1.0/collection.json")

    def walk(items):
        for item in items:
            if "item" in item:
                yield from walk(item["item"])
            else:
                yield item

    for item in walk(collection["item"]):
        scripts = [event for event in item.get("event", []) if event["listen"] == "test"]
        assert scripts and any(
            "pm.response.to.have.status" in line for line in scripts[0]["script"]["exec"]
        ), item["name"]


def test_curl_walkthrough(live_server):
    result = subprocess.run(
        ["bash", str(ROOT / "clients" / "curl" / "walkthrough.sh")],
        env={**os.environ, "BASE_URL": live_server.base}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "code budget_exceeded" in result.stdout


def _newman() -> Path:
    """The newman that bin/test installed; the suite itself installs nothing (it runs offline)."""
    newman = POSTMAN / "node_modules" / ".bin" / "newman"
    if not newman.exists():
        pytest.skip(
            "newman is not installed: bin/test installs it into clients/postman/node_modules "
            "when npm is on PATH (or run `npm ci` in clients/postman)"
        )
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH: newman needs it to run the Postman collection")
    return newman


@pytest.mark.timeout(400)
def test_postman_collection_with_newman(live_server):
    newman = _newman()
    result = subprocess.run(
        [str(newman), "run", str(COLLECTION), "-e", str(POSTMAN / "local.postman_environment.json"),
         "--env-var", f"baseUrl={live_server.base}", "--reporters", "cli", "--bail", "failure",
         "--working-dir", str(POSTMAN),  # the files a request uploads (bank-statement.csv)
         "--color", "off"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "AssertionError" not in result.stdout
