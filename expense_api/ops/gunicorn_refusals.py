"""What gunicorn answers itself, as problem+json like every other answer.

A request gunicorn cannot parse (a CR or LF inside a header value, a header line without a
colon, a broken request line) or one over its limits (a request line over `limit_request_line`,
4094 bytes: 414; a header over `limit_request_field_size`, 8190 bytes, or too many headers: 431)
never reaches the app: the worker's `handle_error` logs it and writes the answer with
`gunicorn.util.write_error`, an HTML page without a request id or security headers. Each worker
process replaces that one function (it is looked up on the module at each call) with
`write_problem`, which writes the same status as problem+json with an `X-Request-ID` (also on
the worker's log line about it), the security headers every answer carries, and
`Connection: close` (where the next request would start is unknown).

Also here: `CloseAfterUnreadBody`, which makes gthread say `Connection: close` when it will
close the connection anyway after a refusal that left a large body unread (a 413).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from http import HTTPStatus

from gunicorn import util

from . import logs
from .security_headers import DEFAULTS, HSTS

# api/core/problems.py's, written again: that module loads Flask, which this one (imported by the
# gunicorn master too) does not (tests/http/test_server_refusals.py checks that they agree).
PROBLEM_MIMETYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://expense-api.dev/problems/"

# gunicorn's refusals: its status, then our code and detail (gunicorn's own message quotes the
# offending request text, which is not echoed back).
ANSWERS = {
    400: ("malformed_request", "The request is not valid HTTP/1.1."),
    403: ("forbidden", "The request is forbidden."),
    414: ("uri_too_long", "The request line (method, path and query) is too long."),
    417: ("expectation_failed", "The Expect header's expectation cannot be met."),
    431: ("header_too_large", "A request header is too large, or there are too many."),
    501: ("not_implemented", "The request's transfer coding is not supported."),
    500: ("internal_error", "An unexpected error occurred."),
}

_write_html_error = util.write_error  # replaced below; an AttributeError here if gunicorn moves it


def problem_bytes(status: int, *, request_id: str, production: bool) -> bytes:
    """The whole HTTP/1.1 answer gunicorn sends for `status`."""
    code, detail = ANSWERS.get(status, ("http_error", HTTPStatus(status).phrase))
    body = json.dumps(
        {
            "type": PROBLEM_TYPE_BASE + code,
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": detail,
            "code": code,
        }
    ).encode()
    headers = [
        ("Connection", "close"),
        ("Content-Type", PROBLEM_MIMETYPE),
        ("Content-Length", str(len(body))),
        ("X-Request-ID", request_id),
        *DEFAULTS,
        *((HSTS,) if production else ()),
    ]
    head = f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers)
    return (head + "\r\n").encode("latin-1") + body


def problem_writer(production: bool) -> Callable[[socket.socket, int, str, str], None]:
    """A `gunicorn.util.write_error` that writes problem+json (see the module's text)."""

    def write_problem(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
        request_id = logs.current_request_id() or logs.new_request_id()
        util.write_nonblock(
            sock, problem_bytes(status_int, request_id=request_id, production=production)
        )

    return write_problem


def install(production: bool) -> None:
    """In a worker process, after the fork: gunicorn's refusals become problem+json."""
    util.write_error = problem_writer(production)


# gthread reads and discards at most this much of a body the app left unread before it reads
# the next request on the connection (gunicorn/http/parser.py, _DRAIN_MAX_BYTES); beyond it, it
# closes the connection, after an answer that said keep-alive.
DRAINED_BYTES = 64 * 1024


class CloseAfterUnreadBody:
    """WSGI middleware (outermost, added by the worker): a refusal (4xx, 5xx) of a request
    whose body is larger than gthread drains, or chunked, says `Connection: close`.

    Such a body is often unread (a 413 refuses it by its Content-Length; a 401 or 415 comes
    before the body is parsed), and gthread would then close the connection after answering
    `Connection: keep-alive`: a keep-alive client's next request on it fails. The app cannot
    say close itself (gunicorn drops hop-by-hop headers from the app's answer); gunicorn's
    Response, whose bound `start_response` the worker passes in, can (`force_close`).
    A request with a small body, or an accepted one (its body was read), is not touched.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if not _large_or_chunked(environ):
            return self.wsgi_app(environ, start_response)
        force_close = getattr(getattr(start_response, "__self__", None), "force_close", None)

        def start(status, headers, exc_info=None):
            if force_close is not None and int(status[:3]) >= 400:
                force_close()
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def _large_or_chunked(environ) -> bool:
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return True
    length = environ.get("CONTENT_LENGTH") or "0"
    return not length.isdigit() or int(length) > DRAINED_BYTES
