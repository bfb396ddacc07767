"""Logs as JSON lines: one per request, and errors with the request id.

``X-Request-ID`` is taken from the gateway when it looks like an id, generated
otherwise, and returned on every response."""

from __future__ import annotations

import json
import logging
import random
import re
import time
from datetime import UTC, datetime
from typing import Any

import flask
from gunicorn import glogging

from service import context, current

access_log = logging.getLogger("service.access")

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_KEY = "HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object per line, with its extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def current_request_id() -> str | None:
    if flask.has_request_context():
        return flask.g.get("request_id")
    return None


_base_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    request_id = current_request_id()
    if request_id is not None:
        record.request_id = request_id
    return record


def configure(level: str) -> None:
    """JSON lines on stderr for the app's own loggers (gunicorn configures its own), and
    the request id on every record logged while a request is served, by any logger."""
    logging.setLogRecordFactory(_record_with_request_id)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("service")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def start_request() -> None:
    """before_request: adopt or make the request id, start the clock."""
    # From the WSGI environment itself, and 128 random bits in hex: each a few
    # microseconds less than the request's headers and a uuid4.
    given = current.request().environ.get(_REQUEST_ID_KEY, "")
    request_id = given if _ACCEPTABLE_ID.match(given) else new_request_id()
    g = current.g()
    g.request_id = request_id
    g.request_started = time.perf_counter()
    # For the history, which records the request id without knowing about Flask.
    context.request_id.set(request_id)


def new_request_id() -> str:
    """128 random bits in hex, unique across processes, but not a secret: from the
    process's own generator (seeded from the system's randomness at start, and again
    in each forked worker), not a system call and a handover of the GIL per request as
    ``secrets`` would make."""
    return f"{random.getrandbits(128):032x}"


def end_request(_error: BaseException | None) -> None:
    """teardown_request: the worker thread serves another request next."""
    context.request_id.set(None)


def finish_request(response: flask.Response) -> flask.Response:
    """after_request: return the request id, write the access line."""
    g = current.g()
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    if not access_log.isEnabledFor(logging.INFO):
        return response
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
    request = current.request()
    access_log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "route": route_template(request),
            "path": request.path,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "user": g.get("identity"),
            "client": request.remote_addr,
        },
    )
    return response


def route_template(request: flask.Request) -> str:
    """The matched route (``/v1/annotations/<uuid:annotation_id>``), never the raw path,
    so that logs and metrics group by endpoint."""
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


class GunicornLogger(glogging.Logger):
    """gunicorn's logger, without gunicorn's access log unless ``accesslog`` asks for it:
    the app writes its own line per request (``finish_request``). gunicorn would
    otherwise build its access-log fields and a log record for every request whenever
    ``logconfig_dict`` is set, as ours is, only to drop them."""

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        if self.cfg.accesslog:
            super().access(resp, req, environ, request_time)
