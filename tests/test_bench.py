"""The benchmark: its plain yardstick answers with the same rows as the service, and a
run of wrk is read right (its figures, its errors by kind, the p50 the growth uses)."""

from __future__ import annotations

import random
import uuid
from types import SimpleNamespace

from bench import corpus, plain, run
from service import migrate
from service.app import create_app
from service.db import make_engine
from tests.conftest import scratch_database


def test_plain_yardstick_reads_the_rows_the_service_lists(tmp_path, monkeypatch):
    with scratch_database(tmp_path) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        app = create_app({"DATABASE_URL": url, "AUTH_MODE": "none"})
        client = app.test_client()
        made = corpus.document(random.Random(5))
        document_id = client.post("/v1/documents", json={"text": made.text}).json["id"]
        written = client.post(
            f"/v1/documents/{document_id}/annotations/batch",
            json={"annotations": made.annotations, "links": made.links},
        )
        assert written.status_code == 201, written.json
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setattr(plain, "_engines", {})
        yardstick = plain.app.test_client()
        try:
            for query in ("limit=100", "limit=7"):
                path = f"/v1/documents/{document_id}/annotations?{query}"
                listed, read = client.get(path).json, yardstick.get(path).json
                assert len(read["items"]) == len(listed["items"]) > 0
                assert (read["next_cursor"] is None) == (listed["next_cursor"] is None)
                for mine, theirs in zip(read["items"], listed["items"], strict=True):
                    assert uuid.UUID(mine["id"]) == uuid.UUID(theirs["id"])
                    assert set(mine) == set(theirs)
                    for name in ("start", "end", "text", "label", "attributes", "version"):
                        assert mine[name] == theirs[name]
        finally:
            app.extensions["db"].engine.dispose()
            for made_engine in plain._engines.values():
                made_engine.dispose()


WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8000
  2 threads and 8 connections
  Latency Distribution
     50%    2.11ms
     75%    3.02ms
     90%    4.50ms
     99%    1.20s
  15043 requests in 5.00s, 437.61MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:   3008.51
Transfer/sec:     87.49MB
"""


def test_a_wrk_run_is_read_with_each_kind_of_error():
    load = run.parse_wrk(WRK_OUTPUT)
    assert (load.rps, load.p50_ms, load.p99_ms) == (3008.51, 2.11, 1200.0)
    assert load.error_count == 6
    assert load.error_kinds() == "non-2xx 3, read 1, timeout 2"
    clean = run.parse_wrk(
        WRK_OUTPUT.replace("  Socket errors: connect 0, read 1, write 0, timeout 2\n", "").replace(
            "  Non-2xx or 3xx responses: 3\n", ""
        )
    )
    assert clean.error_count == 0
    assert clean.error_kinds() == ""


def test_the_best_run_carries_the_errors_of_every_run():
    runs = run.Runs(
        [
            run.Load(100.0, 1.0, 2.0, {"non-2xx": 1}),
            run.Load(300.0, 1.0, 2.0, {"timeout": 1}),
            run.Load(200.0, 1.0, 2.0, {"non-2xx": 2}),
        ]
    )
    best = runs.best
    assert best.rps == 300.0
    assert best.errors == {"non-2xx": 3, "timeout": 1}


def test_the_growth_compares_the_middle_p50_of_the_runs():
    runs = run.Runs([run.Load(300.0, p50, 9.0) for p50 in (1.5, 3.0, 3.2, 2.9, 3.1)])
    assert runs.best.p50_ms == 1.5  # the best run's own
    assert runs.median_p50_ms == 3.0


def test_memory_is_shown_at_three_points_for_each_worker():
    start, warmed, end = {11: 80.2, 12: 81.0}, {11: 90.0, 12: 91.4}, {11: 90.6, 12: 91.0}
    assert run.memory_text(start, warmed, end) == "80/90/91 81/91/91"


def test_a_worker_replaced_during_the_reads_is_named():
    start, warmed, end = {11: 80.0, 12: 81.0}, {11: 90.0, 12: 91.0}, {11: 92.0, 13: 70.0}
    assert run.memory_text(start, warmed, end) == (
        "80/90/92 81/91/- (pid 12 not there throughout) -/-/70 (pid 13 not there throughout)"
    )


def test_a_measure_that_saw_errors_gets_a_row_and_the_server_log(tmp_path, capsys):
    log = tmp_path / "server.log"
    log.write_text("".join(f"line {n}\n" for n in range(50)))
    server = SimpleNamespace(log=log)
    clean = run.Load(300.0, 1.0, 2.0, {"non-2xx": 0})
    assert run._complaints("sqlite", "9,960", "overlap query", clean, server) == []
    assert capsys.readouterr().out == ""
    failed = run.Load(300.0, 1.0, 2.0, {"non-2xx": 0, "timeout": 2})
    [row] = run._complaints("sqlite", "9,960", "overlap query", failed, server)
    assert (row.measure, row.value) == ("overlap query ERRORS", "timeout 2")
    printed = capsys.readouterr().out
    assert "50 lines; the last 40" in printed
    assert "    line 10\n" in printed  # the last 40 of 50
    assert "    line 9\n" not in printed
