"""The benchmark: ingest and read performance at ~10,000 and ~1,000,000 annotations, on
SQLite and PostgreSQL, against yardsticks measured in the same run.

    make bench                          # both sizes, both databases (about 40 minutes)
    .venv/bin/python -m bench.run --sizes 10000 --databases sqlite   # a quick look

For each database and each size it
1. loads a synthetic corpus shaped like the seed article through the batch endpoint
   (gunicorn, 2 workers) into a database of its own, and reports annotations/s,
   beside SQLAlchemy Core ``executemany`` of the same rows into the same database;
2. drives the served app with wrk from another process — the document bundle, one
   document's 60 annotations, an overlap query, a full-text search — and reports
   requests/s, p50 and p99 (the best of five runs; the growth of p50 from one size
   to the other compares the median of each size's five), beside a hello-world Flask
   app on the same gunicorn settings measured the same way. The yardstick and every
   size are run in turn, so that the machine's drift reaches them all alike, and the
   ratio of each run to the yardstick's beside it is shown too (lowest to highest).
   Every read is served for a while first (the warm-up); the workers' memory is taken
   before it, after it and at the end. One document's annotations are also read from
   ``bench.plain`` (one Flask view: SQLAlchemy Core rows written by orjson, nothing
   else) on the same database, a second yardstick for that measure.
It prints one table at the end. On PostgreSQL each size has a database of its own,
dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import MetaData, create_engine, insert, text
from sqlalchemy.engine import make_url

from bench.corpus import Document, corpus
from service.db import make_engine
from service.models import Annotation
from service.models import Document as DocumentModel
from tests.live import LiveServer, live_server

PG_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
WORKERS = 2
LOADERS = 4  # concurrent clients writing batches
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "5"))
# wrk opens its connections at once, and now and then every one of them lands on the
# same gunicorn worker: that run measures one process, at about half the throughput.
# Each figure, the yardstick's too, is the best of this many runs.
WRK_RUNS = int(os.environ.get("BENCH_WRK_RUNS", "5"))
WRK_CONNECTIONS = int(os.environ.get("BENCH_WRK_CONNECTIONS", "8"))
# Before the reads are measured, each is served this long on every server: the caches
# of the workers and the database fill, so that the first measure pays no more for
# them than the last, and the memory taken after it shows what stays.
WARM_SECONDS = int(os.environ.get("BENCH_WARM_SECONDS", "2"))
ANNOTATIONS_PER_DOCUMENT = 60

LUA = """
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local index = 0
function init(args) index = math.random(#paths) end
function request()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end
"""


@dataclass
class Row:
    database: str
    size: str
    measure: str
    value: str
    yardstick: str = ""
    ratio: float | None = None
    target: str = ""
    # The ratio of each run to the yardstick's run beside it, lowest and highest: how
    # far this machine's drift moves the figure.
    spread: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        print(
            f"  {row.database:10} {row.size:>9}  {row.measure:32} {row.value:>24}  "
            f"{row.yardstick:>24}  {'' if row.ratio is None else f'{row.ratio:.2f}x':>6}",
            flush=True,
        )

    def table(self) -> str:
        header = (
            "database",
            "annotations",
            "measure",
            "value",
            "yardstick",
            "ratio",
            "run by run",
            "target",
        )
        lines = [header] + [
            (
                r.database,
                r.size,
                r.measure,
                r.value,
                r.yardstick,
                "" if r.ratio is None else f"{r.ratio:.2f}x",
                r.spread,
                r.target,
            )
            for r in self.rows
        ]
        widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
        out = []
        for number, line in enumerate(lines):
            out.append(" | ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(line)))
            if number == 0:
                out.append("-+-".join("-" * w for w in widths))
        return "\n".join(out)


# --- databases -------------------------------------------------------------------------


class Database:
    def __init__(self, kind: str, workdir: Path, suffix: str) -> None:
        self.kind = kind
        self.name = f"annotation_bench_{os.getpid()}_{suffix}"
        if kind == "sqlite":
            self.url = f"sqlite:///{workdir / 'bench.db'}"
        else:
            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
            admin.dispose()
            self.url = make_url(PG_ADMIN_URL).set(database=self.name).render_as_string(False)

    def drop(self) -> None:
        if self.kind == "postgresql":
            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            admin.dispose()


# --- ingest ----------------------------------------------------------------------------


def load(server: LiveServer, documents: list[Document]) -> tuple[list[str], float, int]:
    """Create the documents, then send their batches from LOADERS clients; returns the
    document ids, the seconds the batches took, and the annotations written."""
    bodies = []
    ids: list[str] = []
    creator = server.client()
    for document in documents:
        created = creator.request(
            "POST", "/v1/documents", {"text": document.text, "language": "en"}
        )
        assert created.status == 201, created.body
        ids.append(created.body["id"])
        bodies.append(
            json.dumps({"annotations": document.annotations, "links": document.links}).encode()
        )
    work = list(zip(ids, bodies, strict=True))
    lock = threading.Lock()

    def loader() -> None:
        client = server.client()
        while True:
            with lock:
                if not work:
                    return
                document_id, body = work.pop()
            client.connection.request(
                "POST",
                f"/v1/documents/{document_id}/annotations/batch",
                body=body,
                headers={"Content-Type": "application/json"},
            )
            response = client.connection.getresponse()
            response.read()
            if response.status != 201:
                raise RuntimeError(f"batch failed: {response.status}")

    started = time.perf_counter()
    with ThreadPoolExecutor(LOADERS) as pool:
        for future in [pool.submit(loader) for _ in range(LOADERS)]:
            future.result()
    seconds = time.perf_counter() - started
    return ids, seconds, sum(len(d.annotations) for d in documents)


def raw_executemany(url: str, documents: list[Document], document_ids: list[str]) -> float:
    """annotations/s of Core executemany of the same rows, in one transaction, into a
    copy of the annotations table in the same database."""
    engine = make_engine(url)
    metadata = MetaData()
    DocumentModel.__table__.to_metadata(metadata)  # type: ignore[attr-defined]  (for the foreign key)
    raw = Annotation.__table__.to_metadata(metadata, name="bench_raw_annotations")  # type: ignore[attr-defined]
    # As the models make them on this database (a copy forgets .ddl_if(dialect=...)).
    only_on = {index.name: index._ddl_if for index in Annotation.__table__.indexes}  # type: ignore[attr-defined]
    for index in raw.indexes:
        index._ddl_if = only_on[index.name]
    for item in (*raw.indexes, *raw.constraints):
        if item.name:
            item.name = f"bench_{item.name}"
    metadata.create_all(engine, tables=[raw])
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "document_id": uuid.UUID(document_id),
            "type": a["type"],
            "label": a["label"],
            "start_offset": a["start"],
            "end_offset": a["end"],
            "text": document.text[a["start"] : a["end"]],
            "attributes": a.get("attributes", {}),
            "confidence": None,
            "status": "accepted",
            "created_by": "bench",
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for document, document_id in zip(documents, document_ids, strict=True)
        for a in document.annotations
    ]
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(insert(raw), rows)
    seconds = time.perf_counter() - started
    metadata.drop_all(engine, tables=[raw])
    engine.dispose()
    return len(rows) / seconds


# --- reads -----------------------------------------------------------------------------


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    # wrk's count of each kind: responses other than 2xx and 3xx ("non-2xx"), and
    # socket errors ("connect", "read", "write", "timeout": no answer in 2 s).
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def error_kinds(self) -> str:
        return ", ".join(f"{kind} {count}" for kind, count in self.errors.items() if count)


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


@dataclass
class Runs:
    """The runs of one measure on one server, in order: the best of them (the most
    requests/s) with the errors of all."""

    loads: list[Load]

    @property
    def best(self) -> Load:
        best = max(self.loads, key=lambda run: run.rps)
        errors: dict[str, int] = {}
        for run in self.loads:
            for kind, count in run.errors.items():
                errors[kind] = errors.get(kind, 0) + count
        return Load(best.rps, best.p50_ms, best.p99_ms, errors)

    @property
    def median_p50_ms(self) -> float:
        """The middle of the runs' p50s: what the growth with size compares. The p50 of
        the best run alone moves with how wrk's connections fell on the workers in
        that run (one worker with a single connection answers it at once, half the
        requests), and has come out below the hello-world's."""
        return statistics.median(run.p50_ms for run in self.loads)

    def spread(self, yardstick: Runs) -> str:
        """The lowest and highest ratio of a run to the yardstick's run beside it."""
        ratios = [
            mine.rps / theirs.rps for mine, theirs in zip(self.loads, yardstick.loads, strict=True)
        ]
        return f"{min(ratios):.2f}-{max(ratios):.2f}x"


def wrk_beside(
    hello_port: int, targets: dict[str, tuple[int, list[str]]], workdir: Path
) -> tuple[Runs, dict[str, Runs]]:
    """The yardstick and the measure on each target server (one per corpus size), run
    in turn WRK_RUNS times each: this machine's speed drifts from minute to minute, and
    so every figure, of every size, sees the same drift."""
    yardstick = Runs([])
    runs = {name: Runs([]) for name in targets}
    for _ in range(WRK_RUNS):
        yardstick.loads.append(wrk_once(hello_port, ["/hello"], workdir))
        for name, (port, paths) in targets.items():
            runs[name].loads.append(wrk_once(port, paths, workdir))
    return yardstick, runs


def wrk_once(port: int, paths: list[str], workdir: Path, seconds: int = WRK_SECONDS) -> Load:
    paths_file = workdir / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    script = workdir / "rotate.lua"
    script.write_text(LUA)
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{WRK_CONNECTIONS}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        env={**os.environ, "BENCH_PATHS": str(paths_file)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return parse_wrk(output)


def parse_wrk(output: str) -> Load:
    """A run's figures from what ``wrk --latency`` printed."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    errors: dict[str, int] = {}
    for kinds, pattern in (
        (("non-2xx",), r"Non-2xx or 3xx responses: (\d+)"),
        (
            ("connect", "read", "write", "timeout"),
            r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
        ),
    ):
        match = re.search(pattern, output)
        if match:
            errors.update(zip(kinds, map(int, match.groups()), strict=True))
    return Load(rps, p50, p99, errors)


def rss_mb(server: LiveServer) -> dict[int, float]:
    """Each worker's resident memory, by process id."""
    sizes = {}
    for pid in server.worker_pids():
        status = Path(f"/proc/{pid}/status").read_text()
        sizes[pid] = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]
    return sizes


def memory_text(start: dict[int, float], warmed: dict[int, float], end: dict[int, float]) -> str:
    """Each worker's memory at the start of the reads, once every read has been served
    for a while (its caches filled), and at the end: "start/warmed/end" in MB. A
    worker that is not there throughout (killed and replaced) says so, as such a
    restart would hide a leak, or a request that failed."""
    figures = []
    points = (start, warmed, end)
    for pid in sorted(start.keys() | warmed.keys() | end.keys()):
        seen = "/".join(f"{at[pid]:.0f}" if pid in at else "-" for at in points)
        throughout = all(pid in at for at in points)
        figures.append(seen if throughout else f"{seen} (pid {pid} not there throughout)")
    return " ".join(figures)


READ_MEASURES = (
    "document bundle",
    "one document's 60 annotations",
    "overlap query",
    "full-text search",
)


def read_paths(ids: list[str]) -> dict[str, list[str]]:
    rng = random.Random(3)
    sample = [rng.choice(ids) for _ in range(2000)]
    return {
        "document bundle": [f"/v1/documents/{d}?include=annotations,links" for d in sample],
        "one document's 60 annotations": [
            f"/v1/documents/{d}/annotations?limit=100" for d in sample
        ],
        "overlap query": [f"/v1/documents/{d}/annotations?overlaps=1000,1400" for d in sample],
        "full-text search": [
            f"/v1/documents?q=artillery%20{w}&limit=10"
            for w in ("kim", "putin", "ukraine", "shells")
        ],
    }


# --- the run ---------------------------------------------------------------------------

READ_TARGETS = {"one document's 60 annotations": 0.45}
# The measure that bench.plain serves too: the same rows, the plain way.
PLAIN_MEASURE = "one document's 60 annotations"


@dataclass
class Served:
    """One corpus size: its server and the ids of its documents."""

    label: str
    server: LiveServer
    plain: LiveServer  # bench.plain on the same database
    ids: list[str]


def run_database(kind: str, sizes: list[int], report: Report, hello: LiveServer) -> None:
    """Each size gets a database and a server of its own, loaded in turn; the reads
    then go to every size in turn, beside the yardstick, so that the sizes are
    compared under the same conditions (the p50 growth above all)."""
    documents = corpus(max(sizes) // ANNOTATIONS_PER_DOCUMENT + 1)
    with ExitStack() as stack:
        served: list[Served] = []
        for size in sizes:
            workdir = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-{size}-"))
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
            database = Database(kind, workdir, f"{size}")
            stack.callback(database.drop)
            server = stack.enter_context(live_server(database.url, workdir, workers=WORKERS))
            batch = documents[: size // ANNOTATIONS_PER_DOCUMENT]
            label = f"{len(batch) * ANNOTATIONS_PER_DOCUMENT:,}"
            print(f"{kind}: loading {len(batch)} documents ({label} annotations)", flush=True)
            ids, seconds, written = load(server, batch)
            rate = written / seconds
            raw = raw_executemany(database.url, batch, ids)
            report.add(
                Row(
                    kind,
                    label,
                    "batch ingest (annotations/s)",
                    f"{rate:,.0f}",
                    f"raw executemany {raw:,.0f}",
                    rate / raw,
                    ">= 0.25x raw",
                )
            )
            if kind == "postgresql":
                # As after any bulk load: statistics for the planner, and the rows
                # vacuumed (their hint bits set), as autovacuum would have done them in
                # a served database, so that the reads do not write them on first
                # touch. Autovacuum may be off, as here. VACUUM needs AUTOCOMMIT.
                loaded = create_engine(database.url, isolation_level="AUTOCOMMIT")
                with loaded.connect() as connection:
                    connection.execute(text("VACUUM ANALYZE"))
                loaded.dispose()
            plain = stack.enter_context(
                live_server(
                    database.url,
                    _subdirectory(workdir, "plain"),
                    workers=WORKERS,
                    app="bench.plain:app",
                    migrated=False,
                )
            )
            served.append(Served(label, server, plain, ids))
        measure_reads(kind, served, report, hello)


def measure_reads(kind: str, served: list[Served], report: Report, hello: LiveServer) -> None:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-reads-"))
    try:
        paths = {one.label: read_paths(one.ids) for one in served}
        start = {one.label: rss_mb(one.server) for one in served}
        warming = {one.label: warm_up(one.server, paths[one.label], workdir) for one in served}
        warmed = {one.label: rss_mb(one.server) for one in served}
        p50: dict[str, dict[str, float]] = {}
        rows: dict[str, list[Row]] = {one.label: [] for one in served}
        for name in READ_MEASURES:
            targets = {one.label: (one.server.port, paths[one.label][name]) for one in served}
            if name == PLAIN_MEASURE:
                targets.update(
                    {_plain(one): (one.plain.port, paths[one.label][name]) for one in served}
                )
            hello_runs, runs = wrk_beside(hello.port, targets, workdir)
            yardstick = hello_runs.best
            target = READ_TARGETS.get(name)
            for one in served:
                result = runs[one.label].best
                p50.setdefault(name, {})[one.label] = runs[one.label].median_p50_ms
                rows[one.label] += [
                    Row(
                        kind,
                        one.label,
                        f"{name} (req/s)",
                        f"{result.rps:,.0f}",
                        f"hello-world {yardstick.rps:,.0f}",
                        result.rps / yardstick.rps,
                        f">= {target}x hello" if target else "",
                        runs[one.label].spread(hello_runs),
                    ),
                    Row(
                        kind,
                        one.label,
                        f"{name} p50 / p99 (ms)",
                        f"{result.p50_ms:.2f} / {result.p99_ms:.2f}",
                        f"hello {yardstick.p50_ms:.2f} / {yardstick.p99_ms:.2f}",
                    ),
                ]
                if name == PLAIN_MEASURE:
                    plain = runs[_plain(one)].best
                    rows[one.label].append(
                        Row(
                            kind,
                            one.label,
                            "the same, plain Core + orjson (req/s)",
                            f"{plain.rps:,.0f}",
                            f"hello-world {yardstick.rps:,.0f}",
                            plain.rps / yardstick.rps,
                            "",
                            runs[_plain(one)].spread(hello_runs),
                        )
                    )
                    rows[one.label] += _complaints(
                        kind, one.label, "plain Core + orjson", plain, one.plain
                    )
                rows[one.label] += _complaints(kind, one.label, name, result, one.server)
        for one in served:
            warm = warming[one.label].best
            rows[one.label] += _complaints(kind, one.label, "warm-up", warm, one.server)
            rows[one.label].append(
                Row(
                    kind,
                    one.label,
                    "worker RSS start / warmed / end (MB)",
                    memory_text(start[one.label], warmed[one.label], rss_mb(one.server)),
                    target="flat from warmed to end",
                )
            )
            for row in rows[one.label]:
                report.add(row)
        if len(served) > 1:
            small, large = served[0].label, served[-1].label
            for name in ("document bundle", "overlap query"):
                ratio = p50[name][large] / p50[name][small]
                report.add(
                    Row(
                        kind,
                        f"{large} vs {small}",
                        f"{name} p50 growth (median of runs)",
                        f"{p50[name][large]:.2f} vs {p50[name][small]:.2f} ms",
                        "",
                        ratio,
                        "<= 1.5x",
                    )
                )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def warm_up(server: LiveServer, paths: dict[str, list[str]], workdir: Path) -> Runs:
    """Every read served for WARM_SECONDS, one after the other."""
    return Runs(
        [
            wrk_once(server.port, paths[name], workdir, seconds=WARM_SECONDS)
            for name in READ_MEASURES
        ]
    )


def _complaints(kind: str, size: str, measure: str, load: Load, server: LiveServer) -> list[Row]:
    """A row naming the errors a measure saw, with the server's log printed; none
    when it saw none."""
    if not load.error_count:
        return []
    _print_complaints(server)
    return [Row(kind, size, f"{measure} ERRORS", load.error_kinds())]


def _print_complaints(server: LiveServer) -> None:
    """What the server logged at WARNING or above (the benchmark's level), for a
    measure that saw errors: its log goes with its working directory."""
    lines = server.log.read_text(errors="replace").splitlines()
    print(f"  server log ({server.log}), {len(lines)} lines; the last 40:", flush=True)
    for line in lines[-40:]:
        print(f"    {line}", flush=True)


def _plain(one: Served) -> str:
    return f"{one.label} plain"


def _subdirectory(parent: Path, name: str) -> Path:
    made = parent / name
    made.mkdir()
    return made


@contextmanager
def hello_server() -> Iterator[LiveServer]:
    """The hello-world yardstick, on the same gunicorn settings, for the whole run."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-hello-"))
    try:
        with live_server(
            f"sqlite:///{workdir / 'unused.db'}",
            workdir,
            workers=WORKERS,
            app="bench.hello:app",
            ready_path="/hello",
            migrated=False,
        ) as server:
            yield server
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk (make bench installs it)")
    sizes = sorted(int(size) for size in args.sizes.split(","))
    report = Report()
    with hello_server() as hello:
        for kind in args.databases.split(","):
            run_database(kind, sizes, report, hello)
    print()
    print(
        f"gunicorn: {WORKERS} workers x 4 threads; wrk: 2 threads, {WRK_CONNECTIONS} "
        f"connections, best of {WRK_RUNS} runs of {WRK_SECONDS} s per endpoint; {LOADERS} "
        "loading clients; "
        f"{os.cpu_count()} CPUs"
    )
    print(report.table())


if __name__ == "__main__":
    main()
