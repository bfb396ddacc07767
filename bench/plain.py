"""A second yardstick for one document's annotations: the plain way to serve them.

One Flask view reads a document's annotations with SQLAlchemy Core (the same
columns, order and page as the service's list) and writes the rows as JSON with orjson:
no argument parsing, authentication, request ids, logs, metrics or error documents. It
shows what the framework, the driver and the machine alone cost for that response,
beside what the service costs for it. Served by the same gunicorn settings, on the
database of the size measured (``DATABASE_URL``).
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import flask
import orjson
from sqlalchemy import Engine, bindparam, select

from service.db import make_engine
from service.models import Annotation

app = flask.Flask(__name__)
FIELDS = (
    "id",
    "document_id",
    "type",
    "label",
    "start",
    "end",
    "text",
    "attributes",
    "confidence",
    "status",
    "anchor",
    "created_by",
    "created_at",
    "updated_at",
    "version",
)
statement = (
    select(*(getattr(Annotation, name) for name in FIELDS))
    .where(Annotation.document_id == bindparam("document_id"))
    .order_by(Annotation.start, Annotation.end, Annotation.id)
    .limit(bindparam("limit"))
)
_engines: dict[int, Engine] = {}


def engine() -> Engine:
    """One engine per process: gunicorn forks its workers after importing this."""
    made = _engines.get(os.getpid())
    if made is None:
        made = _engines[os.getpid()] = make_engine(os.environ["DATABASE_URL"])
    return made


@app.get("/v1/documents/<uuid:document_id>/annotations")
def annotations(document_id: uuid.UUID) -> flask.Response:
    limit = flask.request.args.get("limit", 50, type=int)
    with engine().connect() as connection:
        rows = connection.execute(statement, {"document_id": document_id, "limit": limit + 1})
        items: list[dict[str, Any]] = [dict(zip(FIELDS, row, strict=True)) for row in rows]
    more = len(items) > limit
    body = {"items": items[:limit], "next_cursor": "more" if more else None}
    return flask.Response(orjson.dumps(body), mimetype="application/json")


@app.get("/health/ready")
def ready() -> flask.Response:
    with engine().connect() as connection:
        connection.execute(select(1))
    return flask.Response(b"{}", mimetype="application/json")
