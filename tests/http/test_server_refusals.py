"""What gunicorn itself answers, before the app sees a request (a request it cannot parse, a
request line or header over its limits), and how a refused request's connection ends: against a
real gunicorn, over raw sockets, since the test client never reaches that layer."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading

import pytest

from tests.helpers import start_live_server

SECURITY_HEADERS = ("x-content-type-options", "x-frame-options", "content-security-policy")


def _exchange(base: str, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Sends `raw` on a new connection; the one answer (status, lower-cased headers, body)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(raw)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        while len(body) < int(headers.get("content-length", "0")):
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return int(lines[0].split()[1]), headers, body


def _assert_problem_answer(status, headers, body, expected_status: int, code: str) -> dict:
    assert status == expected_status, (status, headers, body)
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert headers["x-request-id"]
    for name in SECURITY_HEADERS:
        assert name in headers, name
    problem = json.loads(body)
    assert problem["status"] == expected_status
    assert problem["code"] == code
    assert problem["type"].endswith("/" + code)
    assert {"title", "detail"} <= problem.keys()
    return problem


REFUSALS = {
    "CR in a header value": (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
        400,
        "malformed_request",
    ),
    "header line without a colon": (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
        400,
        "malformed_request",
    ),
    "garbage request line": (b"NOT HTTP\r\n\r\n", 400, "malformed_request"),
    "URL over 4094 bytes": (
        b"GET /healthz?q=" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        414,
        "uri_too_long",
    ),
    "header over 8190 bytes": (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
        431,
        "header_too_large",
    ),
}


@pytest.mark.parametrize(("raw", "status", "code"), REFUSALS.values(), ids=REFUSALS.keys())
def test_gunicorns_own_refusals_are_problem_json(live_server, raw, status, code):
    _assert_problem_answer(*_exchange(live_server.base, raw), status, code)


@pytest.fixture(scope="module")
def sync_json_server(database_url):
    server = start_live_server(
        database_url, WEB_WORKER_CLASS="sync", WEB_CONCURRENCY="1", LOG_FORMAT="json"
    )
    yield server
    server.stop()


def test_the_sync_worker_refuses_alike_and_logs_the_request_id(sync_json_server):
    raw, status, code = REFUSALS["header line without a colon"]
    answer = _exchange(sync_json_server.base, raw)
    _assert_problem_answer(*answer, status, code)
    lines = [
        json.loads(line) for line in sync_json_server.output().splitlines() if '"Invalid' in line
    ]
    assert lines[-1]["request_id"] == answer[1]["x-request-id"]


def test_hsts_on_gunicorns_refusals_in_production():
    from expense_api.api.core import problems
    from expense_api.ops.gunicorn_refusals import (
        PROBLEM_MIMETYPE,
        PROBLEM_TYPE_BASE,
        problem_bytes,
    )

    assert (PROBLEM_MIMETYPE, PROBLEM_TYPE_BASE) == (
        problems.PROBLEM_MIMETYPE,
        problems.PROBLEM_TYPE_BASE,
    )

    assert b"Strict-Transport-Security: max-age=" in problem_bytes(
        400, request_id="r", production=True
    )
    assert b"Strict-Transport-Security" not in problem_bytes(400, request_id="r", production=False)


def _keep_alive(base: str) -> http.client.HTTPConnection:
    host, port = base.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=10)


def _answer(
    connection: http.client.HTTPConnection, method: str, path: str, body=None, headers=None
):
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response, response.read()


def _refused_while_sending(base: str, path: str, body: bytes) -> bytes:
    """Sends a request whose body the server refuses unread, reading the answer while the body
    is still going out (the server may close before the client has sent it all: a client that
    only reads after sending, as http.client does, meets a broken pipe first). The answer's
    bytes, up to the close."""
    host, port = base.removeprefix("http://").split(":")
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:

        def send() -> None:
            with contextlib.suppress(OSError):  # closed under us: what the answer says it does
                sock.sendall(head + body)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        received = b""
        while b"\r\n\r\n" not in received or len(received) < _answer_length(received):
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
        sender.join(10)
    return received


def _answer_length(received: bytes) -> int:
    head, _, _ = received.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(head) + 4 + int(value)
    return len(received) + 1


def test_a_refused_large_body_says_connection_close(live_server):
    """A body over MAX_CONTENT_LENGTH (1 MiB) is refused (413) by its length, unread; gunicorn
    closes the connection rather than read it, and the answer says so, so that a keep-alive
    client opens a new connection for its next request instead of failing on this one."""
    answer = _refused_while_sending(
        live_server.base, "/api/auth/login", b"{" + b" " * (2 * 1024 * 1024) + b"}"
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    assert json.loads(body)["code"] == "payload_too_large"
    assert b"\r\nConnection: close" in head, head
    # A keep-alive client honours it: the next request goes out on a new connection.
    connection = _keep_alive(live_server.base)
    response, _ = _answer(connection, "GET", "/healthz")
    assert response.status == 200


def test_a_large_body_refused_before_it_is_read_says_connection_close(live_server):
    answer = _refused_while_sending(
        live_server.base,
        "/api/transactions",  # no token: 401 before the body is parsed
        b"[" + b"1," * 100_000 + b"1]",
    )
    head = answer.partition(b"\r\n\r\n")[0]
    assert head.startswith(b"HTTP/1.1 401"), answer[:300]
    assert b"\r\nConnection: close" in head, head
    assert _answer(_keep_alive(live_server.base), "GET", "/healthz")[0].status == 200


def test_a_refused_small_body_keeps_the_connection(live_server):
    connection = _keep_alive(live_server.base)
    response, _ = _answer(
        connection,
        "POST",
        "/api/auth/login",
        body=b"{}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 422
    assert response.getheader("Connection") == "keep-alive"
    sock = connection.sock
    assert _answer(connection, "GET", "/healthz")[0].status == 200
    assert connection.sock is sock  # the same connection served both


def test_the_openapi_document_describes_these_answers(client):
    description = client.get("/api/openapi.json").get_json()["info"]["description"]
    for _, status, code in REFUSALS.values():
        assert f"{status} `{code}`" in description
    assert "Connection: close" in description
    assert "malformed_query" in description and "DB_POOL_TIMEOUT" in description
