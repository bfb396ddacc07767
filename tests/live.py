"""A live server for end-to-end tests: gunicorn with several workers over a scratch
database of its own, and a small keep-alive JSON client."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service import migrate
from service.db import make_engine

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any


class Client:
    """One keep-alive connection; one per thread."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Response:
        payload = None if body is None else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=payload, headers=all_headers)
                raw = self.connection.getresponse()
                data = raw.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt == 2:
                    raise
        parsed = json.loads(data) if data else None
        return Response(raw.status, {k: v for k, v in raw.getheaders()}, parsed)

    def get(self, path: str, **headers: str) -> Response:
        return self.request("GET", path, headers=headers)

    def all_items(self, path: str) -> list[dict[str, Any]]:
        items, separator = [], "&" if "?" in path else "?"
        url = f"{path}{separator}limit=1000"
        while True:
            page = self.get(url).body
            assert "items" in page, f"GET {url}: {page}"
            items += page["items"]
            if page["next_cursor"] is None:
                return items
            url = f"{path}{separator}limit=1000&cursor={page['next_cursor']}"


@dataclass
class LiveServer:
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    clients: list[Client] = field(default_factory=list)

    def client(self) -> Client:
        """A new connection, closed when the server stops."""
        client = Client(self.port)
        self.clients.append(client)
        return client

    def worker_pids(self) -> list[int]:
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                children.append(int(stat.parent.name))
        return children


@contextmanager
def live_server(
    database_url: str,
    tmp: Path,
    *,
    workers: int = 4,
    app: str = "service.wsgi:app",
    ready_path: str = "/health/ready",
    migrated: bool = True,
) -> Iterator[LiveServer]:
    """gunicorn with the service's configuration serving ``app`` (migrated first)."""
    if migrated:
        engine = make_engine(database_url)
        migrate.upgrade(engine)
        engine.dispose()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "AUTH_MODE": "none",
        "WEB_CONCURRENCY": str(workers),
        "THREADS": "4",
        "LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics"),
    }
    log = tmp / "server.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:service.gunicorn_conf",
                app,
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        server = LiveServer(port, process, log)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if server.client().get(ready_path).status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the live server did not start:\n" + log.read_text())
                time.sleep(0.1)
            yield server
        finally:
            for client in server.clients:
                client.connection.close()
            process.terminate()
            process.wait(timeout=60)
