"""/healthz and /readyz: liveness of the process and readiness of the database."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields

from ..services import health
from .common import problem_response
from .jsonio import Blueprint
from .problems import problem
from .request_transaction import get_database

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
