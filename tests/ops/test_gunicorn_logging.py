"""The console access log computes only the atoms its format names (gunicorn_logging.LazyAtoms):
every atom must read exactly as gunicorn's own dictionary has it."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger, SafeAtoms

from expense_api.ops.gunicorn_logging import ACCESS_LOG_FORMAT, ConsoleGunicornLogger, LazyAtoms


def _request():
    resp = SimpleNamespace(
        status="201 Created",
        sent=1234,
        headers=[
            ("Content-Type", "application/json"),
            ("X-Request-ID", 'rid-1"2'),  # a quote, escaped by both
            ("X-Repeated", "first"),
            ("x-repeated", "second"),
        ],
    )
    req = SimpleNamespace(headers=[("USER-AGENT", "curl/8"), ("AUTHORIZATION", "Bearer x")])
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/api/transactions?x=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "PATH_INFO": "/api/transactions",
        "QUERY_STRING": "x=1",
        "HTTP_USER_AGENT": "curl/8",
        "expense_api.request_id": "abc",
    }
    return resp, req, environ, timedelta(seconds=1, microseconds=234567)


@pytest.fixture
def logger():
    return Logger(Config())


def test_every_atom_reads_as_gunicorns(logger):
    resp, req, environ, elapsed = _request()
    theirs = SafeAtoms(logger.atoms(resp, req, environ, elapsed))
    ours = LazyAtoms(logger, resp, req, environ, elapsed)
    keys = set(theirs) - {"t"}  # the time of day: compared below on its shape only
    keys |= {"{x-request-id}o", "{X-Request-Id}o", "{x-missing}o", "{user-agent}i", "{none}i"}
    keys |= {"{remote_addr}e", "{expense_api.request_id}e", "{nothing}e", "{x-repeated}o"}
    for key in sorted(keys):
        assert ours[key] == theirs[key], key
    assert ours["t"].startswith("[") and ours["t"].endswith("]")
    assert ours["{x-request-id}o"] == 'rid-1\\"2'
    assert ours["M"] == 1234 and ours["s"] == "201"


def test_the_access_line_is_gunicorns(logger, caplog):
    resp, req, environ, elapsed = _request()
    expected = ACCESS_LOG_FORMAT % SafeAtoms(logger.atoms(resp, req, environ, elapsed))
    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", ACCESS_LOG_FORMAT)
    console = ConsoleGunicornLogger(config)
    console.access_log.propagate = True  # for caplog
    with caplog.at_level(logging.INFO, logger="gunicorn.access"):
        console.access(resp, req, environ, elapsed)
    assert [record.getMessage() for record in caplog.records] == [expected]
    assert (
        expected == '127.0.0.1 "POST /api/transactions?x=1 HTTP/1.1" 201 1234 1234ms rid=rid-1\\"2'
    )
