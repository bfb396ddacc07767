"""Instructions per request, counted by valgrind's callgrind: a figure that does not
drift with the machine, to compare a change of a read path by (the requests/s of
``bench.run`` move by 10-15% from minute to minute here).

    .venv/bin/python -m bench.instructions                     # SQLite
    .venv/bin/python -m bench.instructions --databases sqlite,postgresql

For each database it loads one document of the synthetic corpus (60 annotations, 30
links) into a database of its own, then counts, in one process and without gunicorn,
the instructions of the hello-world and of the service's reads of that document
(``/hello``; its 60 annotations; the bundle). Each figure is the difference between a
run of 400 requests and a run of none, both after the same warm-up, divided by 400.
The database server's own work is not counted: only the Python process's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.corpus import corpus
from bench.run import Database

REQUESTS = 400
WARM_UP = 300
READS = {
    "one document's 60 annotations": "/v1/documents/{id}/annotations?limit=100",
    "document bundle": "/v1/documents/{id}?include=annotations,links",
}


def _settings(url: str, workdir: Path) -> dict[str, str]:
    metrics = workdir / "metrics"
    metrics.mkdir(exist_ok=True)
    return {
        "DATABASE_URL": url,
        "AUTH_MODE": "none",
        "LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
    }


def load(url: str, workdir: Path) -> str:
    """Migrate the database and write one document with its annotations and links;
    returns the document's id."""
    from service import migrate
    from service.app import create_app
    from service.db import make_engine

    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    client = create_app(_settings(url, workdir)).test_client()
    document = corpus(1)[0]
    created = client.post("/v1/documents", json={"text": document.text, "language": "en"})
    assert created.status_code == 201, created.get_json()
    document_id: str = created.get_json()["id"]
    batch = client.post(
        f"/v1/documents/{document_id}/annotations/batch",
        json={"annotations": document.annotations, "links": document.links},
    )
    assert batch.status_code == 201, batch.get_json()
    return document_id


def serve(path: str, url: str, workdir: Path, count: int) -> None:
    """The requests counted (run under valgrind): WARM_UP, then ``count``, each through
    the app's WSGI callable as gunicorn would call it."""
    from werkzeug.test import EnvironBuilder

    if path == "/hello":
        from bench.hello import app as hello_app

        app: Any = hello_app
    else:
        from service.app import create_app

        app = create_app(_settings(url, workdir))
    environ = EnvironBuilder(path=path, base_url="http://127.0.0.1:8000").get_environ()

    def start_response(status: str, _headers: Any, _exc_info: Any = None) -> None:
        if not status.startswith("200"):
            raise RuntimeError(f"{path}: {status}")

    for _ in range(WARM_UP + count):
        body = app(dict(environ), start_response)
        b"".join(body)
        getattr(body, "close", lambda: None)()


def instructions(path: str, url: str, workdir: Path, count: int) -> int:
    """All the instructions of a process serving ``count`` requests after the warm-up."""
    run = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "bench.instructions",
            "--serve",
            json.dumps([path, url, str(workdir), count]),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return int(re.search(r"Collected : (\d+)", run.stderr).group(1))  # type: ignore[union-attr]


def per_request(path: str, url: str, workdir: Path) -> float:
    none = instructions(path, url, workdir, 0)
    return (instructions(path, url, workdir, REQUESTS) - none) / REQUESTS


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--databases", default="sqlite")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        path, url, workdir, count = json.loads(args.serve)
        serve(path, url, Path(workdir), count)
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is needed: apt-get install valgrind")
    workdir = Path(tempfile.mkdtemp(prefix="bench-instructions-"))
    try:
        hello = per_request("/hello", "", workdir)
        print(f"{'hello-world':12} {'':32} {hello:>12,.0f} instructions/request", flush=True)
        for kind in args.databases.split(","):
            database = Database(kind, workdir, "instructions")
            try:
                document_id = load(database.url, workdir)
                for name, template in READS.items():
                    path = template.format(id=document_id)
                    count = per_request(path, database.url, workdir)
                    print(
                        f"{kind:12} {name:32} {count:>12,.0f} instructions/request  "
                        f"{count / hello:5.1f}x the hello-world",
                        flush=True,
                    )
            finally:
                database.drop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")  # the same dict layouts run after run
    main()
