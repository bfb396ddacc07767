"""/health/live and /health/ready, for the orchestrator and the gateway."""

from __future__ import annotations

import flask
import marshmallow as ma
from flask.views import MethodView
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service import migrate
from service.api.common import StoreBlueprint, json_response
from service.db import get_session
from service.errors import ServiceUnavailable
from service.schemas.common import described

blp = StoreBlueprint(
    "health", __name__, url_prefix="/health", description="Liveness and readiness probes."
)


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata=described("ok", example="ok"))


@blp.route("/live")
class Live(MethodView):
    @blp.doc(operationId="getLiveness", security=[])
    @blp.response(200, HealthSchema)
    def get(self) -> flask.Response:
        """Report that the process answers

        Touches nothing else, the database included: a failing liveness probe means
        the process should be restarted."""
        return json_response({"status": "ok"})


@blp.route("/ready")
class Ready(MethodView):
    @blp.doc(operationId="getReadiness", security=[])
    @blp.response(200, HealthSchema)
    @blp.problems(503)
    def get(self) -> flask.Response:
        """Report whether the service can serve requests

        Ready when the database answers and its schema is at the latest migration."""
        session = get_session()
        try:
            session.execute(text("SELECT 1"))
            current = migrate.current_revision(session.connection())
        except SQLAlchemyError as error:
            raise ServiceUnavailable(
                f"the database is unreachable: {type(error).__name__}"
            ) from None
        head = migrate.head_revision()
        if current != head:
            raise ServiceUnavailable(
                f"the database schema is at revision {current}, not {head}; run the migrations"
            )
        return json_response({"status": "ok"})
