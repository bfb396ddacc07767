"""Prometheus metrics: requests by route template, method and status, latency, and
database pool use. Under gunicorn every worker writes to PROMETHEUS_MULTIPROC_DIR and
/metrics sums them (prometheus_client's multiprocess mode)."""

from __future__ import annotations

import os
import time
from typing import Any

import flask
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import Engine, event

from service.logs import route_template

# A process started outside gunicorn (the CLI) with the variable set must not fail on a
# directory gunicorn has not made yet.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

REQUESTS = Counter("http_requests_total", "HTTP requests answered", ["route", "method", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
POOL_IN_USE = Gauge(
    "db_pool_connections_in_use",
    "Database connections checked out of the pool",
    multiprocess_mode="livesum",
)
POOL_OPEN = Gauge(
    "db_pool_connections_open",
    "Database connections the pool holds open",
    multiprocess_mode="livesum",
)


def watch_pool(engine: Engine) -> None:
    event.listen(engine, "connect", lambda *_: POOL_OPEN.inc())
    event.listen(engine, "close", lambda *_: POOL_OPEN.dec())
    event.listen(engine, "checkout", lambda *_: POOL_IN_USE.inc())
    event.listen(engine, "checkin", lambda *_: POOL_IN_USE.dec())


def observe(response: flask.Response) -> flask.Response:
    """after_request: count the response and time it from logs.start_request."""
    started = flask.g.get("request_started")
    route, method = route_template(), flask.request.method
    status = response.status_code
    children = _children.get((route, method, status))
    if children is None:
        children = (REQUESTS.labels(route, method, str(status)), LATENCY.labels(route, method))
        _children[(route, method, status)] = children
    children[0].inc()
    if started is not None:
        children[1].observe(time.perf_counter() - started)
    return response


# The labelled series by (route, method, status), looked up once each: routes, methods
# and statuses are few.
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def exposition() -> flask.Response:
    """The /metrics page: every worker's samples when under gunicorn."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return flask.Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
