"""gunicorn's logs in the service's formats (logs.py), chosen by gunicorn_conf.py.

Console (the default): gunicorn's own access line with the request id appended, through its
`access_log_format` (`ACCESS_LOG_FORMAT`), by `ConsoleGunicornLogger`, which computes only the
atoms the format names (`LazyAtoms`) instead of gunicorn's whole dictionary. JSON:
`JsonGunicornLogger` puts the JSON formatter on gunicorn's error and access handlers and writes
each access line from the few values it needs, so it costs no more CPU than the console line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from gunicorn.glogging import Logger, SafeAtoms

from .logs import REQUEST_ID, JsonFormatter, install_record_factory

# The request id is the response's X-Request-ID header (api/core/observability.py sets it).
ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'

# Keys api/core/observability.py leaves in the WSGI environ for the access log.
ENVIRON_REQUEST_ID = "expense_api.request_id"
ENVIRON_ROUTE = "expense_api.route"


class JsonGunicornLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        install_record_factory()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        method = environ.get("REQUEST_METHOD", "-")
        path = environ.get("PATH_INFO", "")
        # The request's own context has ended: its id is bound again for this one line.
        context = REQUEST_ID.set(environ.get(ENVIRON_REQUEST_ID))
        try:
            self.access_log.info(
                "%s %s %s",
                method,
                path,
                status,
                extra={
                    "method": method,
                    "path": path,
                    "route": environ.get(ENVIRON_ROUTE),
                    "status": int(status),
                    "duration_ms": round(request_time.total_seconds() * 1000, 3),
                    "bytes": getattr(resp, "sent", None),
                    "remote": environ.get("REMOTE_ADDR"),
                },
            )
        except Exception:  # a log line must never fail a request
            self.exception("access log failed")
        finally:
            REQUEST_ID.reset(context)


class LazyAtoms(Mapping):
    """gunicorn's access-log atoms, each computed when the format asks for it.

    gunicorn's `Logger.access` builds every atom for every request (about twenty values, plus
    one per request header, response header and WSGI environ entry, each escaped by
    `SafeAtoms`) and then prints five of them: a few percent of a small request's CPU. Here the
    common atoms and the header and environ lookups are computed on demand with gunicorn's
    definitions and escaping; any other atom falls back to gunicorn's own dictionary, built
    once. tests/test_logs.py compares the two for every atom of a real request.
    """

    def __init__(self, logger: Logger, resp, req, environ: dict, request_time):
        self._logger, self._resp, self._req = logger, resp, req
        self._environ, self._request_time = environ, request_time
        self._all: SafeAtoms | None = None

    def __bool__(self) -> bool:  # logging asks, to take this as the format's mapping
        return True

    def __getitem__(self, key: str):
        environ = self._environ
        if key == "h":
            value = environ.get("REMOTE_ADDR", "-")
        elif key == "r":
            value = f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}"
        elif key == "s":
            value = self._resp.status
            if isinstance(value, str):
                value = value.split(None, 1)[0]
        elif key == "b":
            sent = getattr(self._resp, "sent", None)
            value = str(sent) if sent is not None else "-"
        elif key == "M":
            elapsed = self._request_time
            value = elapsed.seconds * 1000 + int(elapsed.microseconds / 1000)
        elif key.startswith("{") and key[-2:] in ("}o", "}i", "}e"):
            value = self._header_or_environ(key[1:-2].lower(), key[-1])
        else:
            return self._everything()[key]
        return value.replace('"', '\\"') if isinstance(value, str) else value

    def _header_or_environ(self, name: str, where: str):
        if where == "e":
            items = self._environ.items()
        else:
            headers = self._resp.headers if where == "o" else self._req.headers
            items = headers.items() if hasattr(headers, "items") else headers
        # gunicorn keeps the last of repeated names (a dict update); so does this
        found = "-"
        for header, value in items:
            if header.lower() == name:
                found = value
        return found

    def _everything(self) -> SafeAtoms:
        if self._all is None:
            atoms = self._logger.atoms(self._resp, self._req, self._environ, self._request_time)
            self._all = SafeAtoms(atoms)
        return self._all

    def __iter__(self) -> Iterator[str]:
        return iter(self._everything())

    def __len__(self) -> int:
        return len(self._everything())


class ConsoleGunicornLogger(Logger):
    """gunicorn's logger, its access line formatted from `LazyAtoms`."""

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        try:
            atoms = LazyAtoms(self, resp, req, environ, request_time)
            self.access_log.info(self.cfg.access_log_format, atoms)
        except Exception:  # a log line must never fail a request
            self.exception("access log failed")
