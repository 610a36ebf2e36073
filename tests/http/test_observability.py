"""Request ids, JSON logs and /metrics (in process), and the same through gunicorn with two
workers: one scrape sums both, and the access log carries each request's id."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from devtools.servers import call
from expense_api.api.app import create_app
from expense_api.config import PROJECT_ROOT
from expense_api.ops import logs, metrics, metrics_setup
from tests.helpers import assert_problem, make_settings, start_live_server

NEW_ID = re.compile(r"[0-9a-f]{32}")


def _sample(text: str, name: str, **labels) -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        metric, _, rest = head.partition("{")
        found = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
        if metric == name and all(part in found.split(",") for part in wanted.split(",") if part):
            total += float(value)
    return total


# --- request ids --------------------------------------------------------------------------------
def test_a_valid_request_id_is_echoed(client):
    for given in ("abc", "A-b_c.d:e", "x" * 128, "0"):
        response = client.get("/healthz", headers={"X-Request-ID": given})
        assert response.headers["X-Request-ID"] == given


def test_a_request_without_an_id_gets_a_new_one_each_time(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert NEW_ID.fullmatch(first) and NEW_ID.fullmatch(second) and first != second


@pytest.mark.parametrize(
    "hostile",
    [
        "",
        "x" * 129,
        "a" * 10_000,
        "evil\ninjected log line",
        "evil\r\nX-Injected: 1",
        "spaces are not allowed",
        'quote"',
        "ünïcode",
        "semi;colon",
    ],
)
def test_an_invalid_request_id_is_replaced_never_cleaned(client, hostile):
    response = client.get("/healthz", environ_overrides={"HTTP_X_REQUEST_ID": hostile})
    given = response.headers["X-Request-ID"]
    assert NEW_ID.fullmatch(given), given
    assert given != hostile and given not in hostile  # a new id, not a cut or cleaned copy


def test_error_answers_carry_the_id_too(client):
    response = client.get("/api/nothing-here", headers={"X-Request-ID": "lost-1"})
    assert_problem(response, 404, "not_found")
    assert response.headers["X-Request-ID"] == "lost-1"


def test_a_requests_log_lines_carry_its_id_sql_errors_included(app, monkeypatch, caplog, alice):
    """A statement timeout inside a report: the 500's log line (with its traceback) names the
    request's id; a line logged outside any request has none."""
    from expense_api.services import reports

    def timed_out(*args, **kwargs):
        raise psycopg.errors.QueryCanceled("canceling statement due to statement timeout")

    monkeypatch.setattr(reports, "summary", timed_out)
    caplog.set_level(logging.INFO)
    response = alice.get("/api/summary", headers={"X-Request-ID": "trace-me-42"})
    assert_problem(response, 503)
    mine = [r for r in caplog.records if getattr(r, "request_id", None) == "trace-me-42"]
    assert any("statement timeout" in r.getMessage() for r in mine), caplog.records
    logging.getLogger("expense_api.test").info("outside")
    assert caplog.records[-1].request_id is None


def test_json_lines_and_console_lines():
    record = logging.LogRecord("x.y", logging.ERROR, __file__, 1, "bad %s", ("thing",), None)
    record.request_id = "rid-1"
    record.route = "/api/summary"
    record.status = 500
    doc = json.loads(logs.JsonFormatter().format(record))
    assert doc["request_id"] == "rid-1" and doc["message"] == "bad thing"
    assert doc["level"] == "ERROR" and doc["logger"] == "x.y" and doc["time"].endswith("Z")
    assert (doc["route"], doc["status"]) == ("/api/summary", 500)
    try:
        raise ValueError("multi\nline")
    except ValueError:
        record.exc_info = sys.exc_info()
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line and "multi\\nline" in json.loads(line)["exception"]
    assert "[rid-1]" in logs.ConsoleFormatter().format(record)


def test_log_format_is_checked():
    from expense_api.config import ConfigError

    with pytest.raises(ConfigError):
        make_settings(LOG_FORMAT="xml")


# --- /metrics in process ------------------------------------------------------------------------
def test_metrics_count_by_route_template_never_the_raw_path(client, alice):
    category = alice.post("/api/categories", json={"name": "Metered"}).get_json()
    path = f"/api/categories/{category['id']}"
    assert alice.get(path).status_code == 200
    alice.get("/api/categories/987654321")
    text = client.get("/metrics").get_data(as_text=True)
    template = "/api/categories/<id:category_id>"
    assert _sample(text, "expense_api_http_requests_total", route=template, status="200") >= 1
    assert _sample(text, "expense_api_http_requests_total", route=template, status="404") >= 1
    assert path not in text and "987654321" not in text
    client.get("/no/such/page/123456789")
    text = client.get("/metrics").get_data(as_text=True)
    assert _sample(text, "expense_api_http_requests_total", route="<unmatched>") >= 1
    assert "123456789" not in text
    assert "expense_api_http_request_duration_seconds_bucket" in text


def test_metrics_count_budget_refusals_and_alerts(client, alice):
    before = client.get("/metrics").get_data(as_text=True)
    category = alice.post("/api/categories", json={"name": "Capped"}).get_json()
    alice.post(
        "/api/budgets",
        json={"amount": "10", "year": 2026, "month": 3, "categoryId": category["id"],
              "mode": "hard", "alertThreshold": 50},
    )  # fmt: skip
    expense = {"type": "EXPENSE", "categoryId": category["id"], "date": "2026-03-02"}
    assert alice.post("/api/transactions", json={**expense, "amount": "6"}).status_code == 201
    assert alice.post("/api/transactions", json={**expense, "amount": "5"}).status_code == 409
    after = client.get("/metrics").get_data(as_text=True)
    for name, labels, grew in (
        ("expense_api_budget_refusals_total", {}, 1),
        ("expense_api_alerts_fired_total", {"kind": "threshold"}, 1),
    ):
        assert _sample(after, name, **labels) - _sample(before, name, **labels) == grew, name


def test_metrics_token(database_url):
    application = create_app(make_settings(METRICS_TOKEN="s3cret-metrics"), database_url)
    try:
        client = application.test_client()
        assert_problem(client.get("/metrics"), 401, "unauthorized")
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert_problem(wrong, 401, "unauthorized")
        right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
        assert right.status_code == 200 and right.mimetype == "text/plain"
    finally:
        application.extensions["database"].close()


def test_pool_gauges_follow_borrowed_connections(app):
    pool = app.extensions["database"].pool
    before = metrics.POOL_IN_USE._value.get()
    held = [pool.getconn() for _ in range(3)]
    assert metrics.POOL_IN_USE._value.get() == before + 3
    for conn in held:
        pool.putconn(conn)
    assert metrics.POOL_IN_USE._value.get() == before


def test_the_worker_can_serve_its_own_metrics():
    metrics.recurring_occurrence_created(2)
    metrics.recurring_occurrence_skipped("budget_exceeded")
    metrics.webhook_delivery("delivered")
    metrics.worker_lag(3.5, now=1_700_000_000.0)
    server = metrics.serve_metrics(0, token="worker-token")
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        assert _get(base + "/metrics")[0] == 401
        status, _, text = _get(base + "/metrics", {"Authorization": "Bearer worker-token"})
        assert status == 200
        assert _sample(text, "expense_api_recurring_occurrences_total", result="created") >= 2
        assert _sample(text, "expense_api_recurring_occurrences_total", result="skipped") >= 1
        assert _sample(text, "expense_api_webhook_deliveries_total", outcome="delivered") >= 1
        assert _sample(text, "expense_api_worker_lag_seconds") == 3.5
        assert _get(base + "/other")[0] == 404
    finally:
        server.shutdown()
        server.server_close()


def _get(url: str, headers: dict | None = None) -> tuple[int, dict, str]:
    """(status, headers, text) of a GET to a server of ours (text, not JSON: /metrics)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


# --- the multiprocess directory -----------------------------------------------------------------
def test_the_directory_is_emptied_at_start(tmp_path):
    (tmp_path / "counter_123.db").write_bytes(b"old run")
    (tmp_path / "sub").mkdir()
    environ = {metrics_setup.MULTIPROC_ENV: str(tmp_path)}
    assert metrics_setup.prepare_multiprocess_dir(environ) == str(tmp_path)
    assert list(tmp_path.iterdir()) == []
    made = metrics_setup.prepare_multiprocess_dir({})
    try:
        assert os.path.isdir(made)
    finally:
        metrics_setup.remove_temporary_dirs()
    assert not os.path.exists(made)


def test_a_dead_process_live_gauges_stop_counting(tmp_path):
    """In a fresh interpreter in multiprocess mode: a child borrows a gauge and exits; its value
    counts until the process is marked dead, as gunicorn's child_exit does."""
    program = (
        "import os, sys\n"
        "from expense_api.ops import metrics, metrics_setup\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    metrics.POOL_IN_USE.inc(2)\n"
        "    metrics.HTTP_REQUESTS.labels('/x', 'GET', '200').inc()\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "before = metrics.collect().decode()\n"
        "metrics_setup.mark_process_dead(pid)\n"
        "after = metrics.collect().decode()\n"
        "print(repr(before)); print(repr(after))\n"
    )
    env = {**os.environ, metrics_setup.MULTIPROC_ENV: str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", program], env=env, cwd=PROJECT_ROOT, capture_output=True,
        text=True, timeout=60, check=True,
    )  # fmt: skip
    before, after = (eval(line) for line in result.stdout.splitlines())
    assert _sample(before, "expense_api_db_pool_connections_in_use") == 2
    assert _sample(after, "expense_api_db_pool_connections_in_use") == 0
    assert _sample(after, "expense_api_http_requests_total", route="/x") == 1  # counters stay


# --- through gunicorn ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def json_server(database_url):
    # Sync workers take one request at a time each: concurrent requests spread over both.
    server = start_live_server(database_url, WEB_WORKER_CLASS="sync", LOG_FORMAT="json")
    yield server
    server.stop()


def _output_with(server, text: str, seconds: float = 15) -> str:
    """The server's output once it holds `text`: gunicorn writes the access line after the
    answer has been sent, so a client can be a moment ahead of it."""
    deadline = time.monotonic() + seconds
    while text not in (output := server.output()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return output


def _json_lines(output: str) -> list[dict]:
    lines = []
    for line in output.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_two_workers_are_summed_in_one_scrape(json_server):
    base = json_server.base

    def hit(n: int) -> int:
        return call(base, "GET", "/healthz", headers={"X-Request-ID": f"sum-{n}"})[0]

    sent = 0
    with ThreadPoolExecutor(8) as pool:
        while True:
            statuses = list(pool.map(hit, range(sent, sent + 64)))
            assert set(statuses) == {200}
            sent += 64
            access = [
                line for line in _json_lines(json_server.output())
                if line.get("logger") == "gunicorn.access" and line.get("route") == "/healthz"
            ]  # fmt: skip
            if len({line["pid"] for line in access}) >= 2 or sent >= 1024:
                break
    assert len({line["pid"] for line in access}) == 2, "one worker served everything"
    text = _get(base + "/metrics")[2]
    scraped = _sample(
        text, "expense_api_http_requests_total", route="/healthz", method="GET", status="200"
    )
    assert scraped == sent


def test_the_access_log_is_json_with_the_request_id(json_server):
    status, _, headers = call(
        json_server.base, "GET", "/api/auth/me", headers={"X-Request-ID": "access-7"}
    )
    assert status == 401 and headers["X-Request-ID"] == "access-7"
    lines = _json_lines(_output_with(json_server, '"request_id": "access-7"'))
    mine = [line for line in lines if line.get("request_id") == "access-7"]
    access = [line for line in mine if line["logger"] == "gunicorn.access"]
    assert len(access) == 1, mine
    assert access[0]["route"] == "/api/auth/me" and access[0]["status"] == 401
    assert access[0]["method"] == "GET" and access[0]["duration_ms"] >= 0
    assert {"time", "level", "message", "pid"} <= access[0].keys()
    # Every line the service wrote is one JSON object (gunicorn's own included).
    for line in json_server.output().splitlines():
        if line.strip() and not line.startswith(("waiting for server", "server ")):
            assert line.startswith("{"), line


def test_a_hostile_request_id_is_never_logged(json_server):
    long_id = "q" * 4000
    status, _, headers = call(
        json_server.base, "GET", "/healthz", headers={"X-Request-ID": long_id}
    )
    assert status == 200 and NEW_ID.fullmatch(headers["X-Request-ID"])
    output = _output_with(json_server, headers["X-Request-ID"])
    assert headers["X-Request-ID"] in output
    assert long_id not in output


def test_console_access_lines_carry_the_request_id(live_server):
    status, _, _ = call(live_server.base, "GET", "/healthz", headers={"X-Request-ID": "console-1"})
    assert status == 200
    line = next(
        line for line in _output_with(live_server, "rid=console-1").splitlines()
        if "rid=console-1" in line
    )  # fmt: skip
    assert '"GET /healthz HTTP/1.1" 200' in line
