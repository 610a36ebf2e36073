"""/healthz and /readyz: liveness of the process and readiness of the database; /metrics."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields

from ..ops import metrics
from ..services import health
from .core.blueprint import Blueprint
from .core.problems import problem
from .core.request_transaction import get_database
from .core.views import problem_response

blp = Blueprint("health", __name__, description="Operations")


class StatusSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, StatusSchema)
    def get(self):
        """The process is up"""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200, StatusSchema)
    @problem_response(blp, 503, "The database does not answer")
    def get(self):
        """The database answers"""
        if not health.database_answers(get_database()):
            return problem(
                503,
                "database_unavailable",
                "The database is not reachable.",
                headers={"Retry-After": "2"},
            )
        return {"status": "ok"}


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.doc(
        description=(
            "Prometheus text format, summed over every process of the service (gunicorn "
            "workers and the background worker beside them). Open unless the operator sets "
            "METRICS_TOKEN; then `Authorization: Bearer <METRICS_TOKEN>` is required (401 "
            "otherwise). The families are listed in the README (Operations)."
        ),
        responses={
            "200": {
                "description": "The metrics",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
    )
    @problem_response(blp, 401, "METRICS_TOKEN is set and the bearer token is not it")
    def get(self):
        """Prometheus metrics"""
        settings = current_app.config["SETTINGS"]
        if not metrics.token_accepted(settings.metrics_token, request.headers.get("Authorization")):
            return problem(
                401,
                "unauthorized",
                "The metrics need the operator's metrics token as a bearer token.",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return current_app.response_class(metrics.collect(), mimetype=metrics.CONTENT_TYPE)
