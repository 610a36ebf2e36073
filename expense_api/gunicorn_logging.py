"""gunicorn's logs in the service's formats (logs.py), chosen by gunicorn_conf.py.

Console (the default): gunicorn's own access line with the request id appended, through its
`access_log_format` (`ACCESS_LOG_FORMAT`). JSON: `JsonGunicornLogger` puts the JSON formatter on
gunicorn's error and access handlers and writes each access line from the few values it needs,
skipping gunicorn's atom dictionary (about twenty formatted values per request), so the JSON
access log costs no more CPU than the text one.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from .logs import REQUEST_ID, JsonFormatter, install_record_factory

# The request id is the response's X-Request-ID header (api/observability.py sets it).
ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'

# Keys api/observability.py leaves in the WSGI environ for the access log.
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
