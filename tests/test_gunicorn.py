"""The service as operators run it: gunicorn with our configuration, several workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from service.metrics import FLUSH_SECONDS
from tests.live import ROOT, free_port


def load_config(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import service.gunicorn_conf"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "eighty"}, "PORT='eighty' is invalid"),
        ({"WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY='0' is invalid"),
        ({"AUTH_MODE": "none", "HOST": "0.0.0.0"}, "AUTH_MODE=none would serve everyone"),
        ({"AUTH_MODE": "gateway"}, "AUTH_GATEWAY_SECRET must be set"),
    ],
)
def test_invalid_configuration_stops_the_start_naming_the_variable(env, message):
    result = load_config(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_unauthenticated_beyond_loopback_can_be_allowed_explicitly():
    result = load_config(AUTH_MODE="none", HOST="0.0.0.0", ALLOW_UNAUTHENTICATED="true")
    assert result.returncode == 0, result.stderr


GUNICORN = ["-m", "gunicorn", "-c", "python:service.gunicorn_conf", "service.wsgi:app"]


def gunicorn_env(tmp, port, workers, **extra):
    """The service's settings for a gunicorn on a fresh SQLite file in ``tmp``."""
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite'}",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "AUTH_MODE": "none",
        "WEB_CONCURRENCY": str(workers),
        "AUTO_MIGRATE": "true",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics"),
        **extra,
    }


def wait_until_ready(base, process, log_path):
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{base}/health/ready", timeout=1)
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    process.kill()
    pytest.fail("gunicorn did not become ready:\n" + log_path.read_text())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn with 2 workers on a fresh SQLite file, migrated and seeded at start."""
    tmp = tmp_path_factory.mktemp("gunicorn")
    port = free_port()
    log = open(tmp / "server.log", "w+")  # noqa: SIM115 (open for the server's lifetime)
    process = subprocess.Popen(
        [sys.executable, *GUNICORN],
        cwd=ROOT,
        env=gunicorn_env(tmp, port, 2, AUTO_SEED="true"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_ready(base, process, tmp / "server.log")
    yield base, tmp / "server.log"
    process.terminate()
    process.wait(timeout=30)
    log.close()


def get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, dict(response.headers), response.read()


def test_auto_migrate_and_seed_serve_the_seed_article(server):
    base, _ = server
    status, _, body = get(f"{base}/v1/documents?external_id=000_56075bffde052d65.txt")
    assert status == 200
    assert json.loads(body)["items"][0]["published_at"] == "2024-10-09T00:00:00Z"


def counted(base, route):
    _, _, body = get(f"{base}/metrics")
    total = 0.0
    for row in body.decode().splitlines():
        if (
            row.startswith("http_requests_total{")
            and f'route="{route}"' in row
            and 'status="200"' in row
        ):
            total += float(row.rsplit(" ", 1)[1])
    return total


def settled(read, *, seconds=3 * FLUSH_SECONDS):
    """What ``read`` gives once the workers have flushed their metrics (each does every
    FLUSH_SECONDS): the same value twice, a flush apart."""
    deadline = time.monotonic() + seconds
    value = read()
    while time.monotonic() < deadline:
        time.sleep(FLUSH_SECONDS)
        again = read()
        if again == value:
            return value
        value = again
    return value


def test_metrics_add_up_across_workers(server):
    base, _ = server
    before = settled(lambda: counted(base, "/v1/schema"))
    for _ in range(40):
        get(f"{base}/v1/schema")
    assert settled(lambda: counted(base, "/v1/schema")) == before + 40


def test_a_worker_flushes_its_metrics_as_it_stops(tmp_path):
    """A worker's last counts, from less than a flush ago, are not lost when it stops.
    Its flusher is made to wait an hour, so only the stop can write them."""
    port = free_port()
    start = (
        "import sys; import service.metrics; service.metrics.FLUSH_SECONDS = 3600; "
        "from gunicorn.app.wsgiapp import run; "
        f"sys.argv = ['gunicorn', *{GUNICORN[2:]!r}]; run()"
    )
    log = tmp_path / "server.log"
    with open(log, "w") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", start],
            cwd=ROOT,
            env=gunicorn_env(tmp_path, port, 1),
            stdout=output,
            stderr=output,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_ready(base, process, log)
            for _ in range(7):
                get(f"{base}/v1/schema")
        finally:
            process.terminate()
            process.wait(timeout=60)
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(tmp_path / "metrics"))
    rows = generate_latest(registry).decode().splitlines()
    (row,) = [
        row
        for row in rows
        if row.startswith("http_requests_total{") and 'route="/v1/schema"' in row
    ]
    assert float(row.rsplit(" ", 1)[1]) == 7


def test_each_request_is_one_json_log_line_with_its_id(server):
    base, log = server
    _, headers, _ = get(f"{base}/v1/schema", {"X-Request-ID": "trace-42"})
    assert headers["X-Request-ID"] == "trace-42"
    time.sleep(0.2)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    (line,) = [entry for entry in lines if entry.get("request_id") == "trace-42"]
    assert line["route"] == "/v1/schema"
    assert line["status"] == 200


def test_cli_works_where_the_metrics_directory_does_not_exist_yet(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "service.app", "keys", "list"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "not-yet"),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "FileNotFoundError" not in result.stderr
    assert (tmp_path / "not-yet").is_dir()


def pool_in_use(base):
    _, _, body = get(f"{base}/metrics")
    for row in body.decode().splitlines():
        if row.startswith("db_pool_connections_in_use "):
            return float(row.rsplit(" ", 1)[1])
    raise AssertionError("no db_pool_connections_in_use gauge")


@pytest.mark.parametrize("fmt", ["jsonl", "w3c", "brat", "pubannotation", "conll", "spacy"])
def test_streamed_exports_give_their_connections_back(server, fmt):
    base, _ = server
    for _ in range(20):
        status, _, body = get(f"{base}/v1/export?format={fmt}")
        assert status == 200
        assert body
    # The metrics request itself holds none.
    assert settled(lambda: pool_in_use(base)) == 0


class _Config:
    def __init__(self, accesslog):
        self.accesslog = accesslog


def test_gunicorn_builds_no_access_line_unless_asked(monkeypatch):
    from service.logs import GunicornLogger

    built = []
    monkeypatch.setattr("gunicorn.glogging.Logger.access", lambda self, *args: built.append(args))
    logger = GunicornLogger.__new__(GunicornLogger)  # no setup: only access() is used
    logger.cfg = _Config(accesslog=None)
    logger.access("response", "request", {}, 0.1)
    assert built == []
    logger.cfg = _Config(accesslog="-")
    logger.access("response", "request", {}, 0.1)
    assert built == [("response", "request", {}, 0.1)]
