"""Request ids, JSON logs and Prometheus metrics."""

from __future__ import annotations

import json
import logging
import os
import re

import pytest

from service import logs
from service.logs import JsonFormatter


def test_request_id_is_generated_and_returned(client):
    response = client.get("/v1/documents")
    assert len(response.headers["X-Request-ID"]) == 32


def test_generated_request_ids_differ_across_forked_workers():
    """gunicorn forks its workers from one loaded app: each must draw ids of its own."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: its first id, to the parent
        os.write(write, logs.new_request_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    from_child = os.read(read, 64).decode()
    os.close(read)
    mine = logs.new_request_id()
    assert re.fullmatch("[0-9a-f]{32}", from_child)
    assert from_child != mine
    assert len({logs.new_request_id() for _ in range(1000)}) == 1000


def test_request_id_from_the_gateway_is_kept(client):
    response = client.get("/v1/documents", headers={"X-Request-ID": "gw-123.abc"})
    assert response.headers["X-Request-ID"] == "gw-123.abc"


def test_request_id_that_is_not_an_id_is_replaced(client):
    response = client.get("/v1/documents", headers={"X-Request-ID": "a b; c"})
    assert len(response.headers["X-Request-ID"]) == 32


@pytest.fixture
def access_lines(caplog):
    caplog.set_level(logging.INFO, logger="service.access")
    return caplog


def test_one_json_access_line_per_request(client, access_lines, session):
    from tests.factories import make_document

    document = make_document(session, "x")
    response = client.get(
        f"/v1/documents/{document.id}",
        headers={"X-Request-ID": "req-1"},
        environ_base={"REMOTE_ADDR": "10.0.0.7"},
    )
    (record,) = [r for r in access_lines.records if r.name == "service.access"]
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-1"
    assert line["method"] == "GET"
    assert line["route"] == "/v1/documents/<uuid:document_id>"
    assert line["status"] == response.status_code == 200
    assert line["user"] == "anonymous"
    assert line["client"] == "10.0.0.7"
    assert line["duration_ms"] >= 0
    assert line["time"].endswith("Z")


def test_errors_are_logged_as_json_with_the_request_id(client, monkeypatch, caplog):
    from service.services import documents

    monkeypatch.setattr(documents, "list_page", lambda *a, **k: 1 / 0)
    caplog.set_level(logging.ERROR)
    client.get("/v1/documents", headers={"X-Request-ID": "req-err"})
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-err"
    assert "ZeroDivisionError" in line["exception"]


def metric(text, name, **labels):
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for row in text.splitlines():
        if row.startswith(f"{name}{{") and all(part in row for part in wanted.split(",")):
            return float(row.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_by_route_template(client, session):
    from tests.factories import make_document

    document = make_document(session, "x")
    route = "/v1/documents/<uuid:document_id>"
    before = metric(
        client.get("/metrics").get_data(as_text=True),
        "http_requests_total",
        route=route,
        method="GET",
        status="200",
    )
    client.get(f"/v1/documents/{document.id}")
    client.get(f"/v1/documents/{document.id}")
    page = client.get("/metrics")
    assert page.content_type.startswith("text/plain")
    text = page.get_data(as_text=True)
    after = metric(text, "http_requests_total", route=route, method="GET", status="200")
    assert after == before + 2
    assert "http_request_duration_seconds_bucket" in text
    assert "db_pool_connections_in_use" in text


def test_flushed_metrics_are_what_counting_each_request_would_give():
    """Requests are noted in memory and written at a flush, summed: the counts, the
    buckets and the sum are those of writing each one as it came."""
    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

    from service import metrics

    route = "/test/<flushed>"
    noted = [(200, 0.001), (200, 0.0011), (200, 0.004), (404, 0.5), (200, 20.0), (200, None)]
    reference = CollectorRegistry()
    requests = Counter(
        "http_requests_total", "x", ["route", "method", "status"], registry=reference
    )
    latency = Histogram(
        "http_request_duration_seconds",
        "x",
        ["route", "method"],
        buckets=metrics.BUCKETS,
        registry=reference,
    )
    for status, seconds in noted:
        metrics._noted.append((route, "GET", status, seconds))
        requests.labels(route, "GET", str(status)).inc()
        if seconds is not None:
            latency.labels(route, "GET").observe(seconds)
    metrics.flush()
    assert not metrics._noted

    def samples(text: str) -> set[str]:
        return {
            row.rsplit(" ", 1)[0] + " " + str(float(row.rsplit(" ", 1)[1]))
            for row in text.splitlines()
            if f'route="{route}"' in row and "_created" not in row
        }

    expected = samples(generate_latest(reference).decode())
    assert len(expected) == 2 + len(metrics.BUCKETS) + 2  # statuses, buckets, count, sum
    assert samples(generate_latest(metrics.REGISTRY).decode()) == expected


def test_requests_noted_past_a_bound_are_flushed_by_the_request(client, monkeypatch):
    """Where no thread flushes (not under gunicorn), the noted requests stay bounded."""
    from service import metrics

    monkeypatch.setattr(metrics, "FLUSH_AT", 3)
    metrics.flush()
    client.get("/v1/schema")
    client.get("/v1/schema")
    assert len(metrics._noted) == 2
    client.get("/v1/schema")
    assert len(metrics._noted) == 0


def test_the_flusher_says_when_it_cannot_write_and_goes_on(monkeypatch, caplog):
    import threading

    from service import metrics

    calls = []

    def flush() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("No space left on device")

    monkeypatch.setattr(metrics, "flush", flush)
    monkeypatch.setattr(metrics, "FLUSH_SECONDS", 0.01)
    stop = threading.Event()
    with caplog.at_level(logging.ERROR, logger="service.metrics"):
        flusher = metrics.start_flushing(stop)
        for _ in range(500):
            if len(calls) >= 2:
                break
            stop.wait(0.01)
        stop.set()
        flusher.join(timeout=5)
    assert len(calls) >= 2  # it went on after the failure
    assert not flusher.is_alive()
    (record,) = [r for r in caplog.records if r.name == "service.metrics"]
    assert record.getMessage() == "metrics could not be written"
    assert "No space left on device" in caplog.text
