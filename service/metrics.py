"""Prometheus metrics: requests by route template, method and status, latency, and
database pool use. Under gunicorn every worker writes to PROMETHEUS_MULTIPROC_DIR and
/metrics sums them (prometheus_client's multiprocess mode).

Each write to a shared metric costs a worker several microseconds (a lock, a check of
its pid, a value in a file); three per request, and two more for the pool's checkout
and checkin, came to about 7 % of the CPU of a short list in one process. So a request
is only noted in the process's memory, and ``flush`` writes what was noted, summed by
route, method and status, and samples the pools: each worker's flusher thread does it
every FLUSH_SECONDS, the process that answers /metrics does it first, and a worker does
it as it exits. A worker killed outside its control loses at most its last
FLUSH_SECONDS of counts.
"""

from __future__ import annotations

import bisect
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
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

from service import current
from service.logs import route_template

log = logging.getLogger(__name__)

# A process started outside gunicorn (the CLI) with the variable set must not fail on a
# directory gunicorn has not made yet.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

FLUSH_SECONDS = 1.0
# Requests noted before the one that notes the next flushes them itself: a bound on the
# memory they take where nothing flushes (a server other than our gunicorn settings).
FLUSH_AT = 10_000
# Upper bounds of the latency histogram's buckets, in seconds (and +Inf).
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, float("inf"))

REQUESTS = Counter("http_requests_total", "HTTP requests answered", ["route", "method", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["route", "method"],
    buckets=BUCKETS,
)
POOL_IN_USE = Gauge(
    "db_pool_connections_in_use",
    "Database connections checked out of the pool and in use, not those the reads keep "
    f"idle for the next one (sampled every {FLUSH_SECONDS:g} s)",
    multiprocess_mode="livesum",
)
POOL_OPEN = Gauge(
    "db_pool_connections_open",
    "Database connections the pool holds open",
    multiprocess_mode="livesum",
)

# (route, method, status, seconds or None), appended by the request threads and taken
# by flush: a deque, as appending and popping from its two ends need no lock.
_noted: deque[tuple[str, str, int, float | None]] = deque()
_flushing = threading.Lock()
# The engines whose pools are sampled, each with how many of its checked-out
# connections are kept idle for the next read (db._KeptConnections).
_engines: list[tuple[Engine, Callable[[], int]]] = []


def watch_pool(engine: Engine, kept: Callable[[], int]) -> None:
    """Count the pool's open connections as they come and go (seldom), and sample how
    many are in use at each flush (a checkout and a checkin for every request), but
    the ``kept`` ones."""
    event.listen(engine, "connect", lambda *_: POOL_OPEN.inc())
    event.listen(engine, "close", lambda *_: POOL_OPEN.dec())
    _engines.append((engine, kept))


def observe(response: flask.Response) -> flask.Response:
    """after_request: note the response and its time from logs.start_request."""
    started = current.g().get("request_started")
    request = current.request()
    _noted.append(
        (
            route_template(request),
            request.method,
            response.status_code,
            None if started is None else time.perf_counter() - started,
        )
    )
    if len(_noted) >= FLUSH_AT:
        flush()
    return response


def flush() -> None:
    """Write the requests noted since the last flush to the shared metrics, and the
    pools' connections in use."""
    with _flushing:
        counts: dict[tuple[str, str, int], int] = {}
        times: dict[tuple[str, str], tuple[float, list[int]]] = {}
        while _noted:
            route, method, status, seconds = _noted.popleft()
            counts[(route, method, status)] = counts.get((route, method, status), 0) + 1
            if seconds is not None:
                total, buckets = times.get((route, method)) or (0.0, [0] * len(BUCKETS))
                # The first bucket whose bound it does not pass.
                buckets[bisect.bisect_left(BUCKETS, seconds)] += 1
                times[(route, method)] = (total + seconds, buckets)
        for (route, method, status), count in counts.items():
            REQUESTS.labels(route, method, str(status)).inc(count)
        for labels, (total, buckets) in times.items():
            _observe_many(LATENCY.labels(*labels), total, buckets)
        in_use = [
            engine.pool.checkedout() - kept()
            for engine, kept in _engines
            if hasattr(engine.pool, "checkedout")
        ]
        if in_use:
            POOL_IN_USE.set(sum(in_use))


def _observe_many(child: Any, total: float, buckets: list[int]) -> None:
    """What Histogram.observe does for each of many observations, at once: the sum, and
    each bucket's count (prometheus_client keeps them per bucket, in the order of
    BUCKETS, and makes them cumulative when it reads them; test_observability checks
    that it still does). Its own observe takes one at a time."""
    child._sum.inc(total)
    for value, count in zip(child._buckets, buckets, strict=True):
        if count:
            value.inc(count)


def start_flushing(stop: threading.Event | None = None) -> threading.Thread:
    """In a gunicorn worker: flush every FLUSH_SECONDS, from a thread of its own, until
    ``stop`` is set (the worker's exit ends it otherwise)."""
    stopping = stop or threading.Event()

    def flush_until_stopped() -> None:
        while not stopping.wait(FLUSH_SECONDS):
            try:
                flush()
            except Exception:  # said, and tried again at the next flush
                log.exception("metrics could not be written")

    flusher = threading.Thread(target=flush_until_stopped, name="metrics-flush", daemon=True)
    flusher.start()
    return flusher


def exposition() -> flask.Response:
    """The /metrics page: every worker's samples when under gunicorn."""
    flush()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return flask.Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
