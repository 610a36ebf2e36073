"""The headers every answer carries unless its view set its own: no sniffing, no framing, no
referrer, no caching, a Content-Security-Policy that allows nothing (the docs and dashboard pages
set their own), and in production HSTS.

Added as a WSGI middleware, on the plain header list the app hands to start_response, in one
pass: Flask's after_request route through werkzeug's Headers (a case-insensitive scan of the list
for each `setdefault`) cost several times as much per request.
"""

from __future__ import annotations

DEFAULTS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
)
# Behind TLS in production: browsers must keep to HTTPS.
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


class SecurityHeaders:
    def __init__(self, wsgi_app, production: bool):
        self.wsgi_app = wsgi_app
        self.defaults = (*DEFAULTS, HSTS) if production else DEFAULTS

    def __call__(self, environ, start_response):
        defaults = self.defaults

        def start(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            headers.extend(pair for pair in defaults if pair[0].lower() not in present)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)
