"""Database plumbing: the declarative base, portable column types, engines and the
per-request session."""

from __future__ import annotations

import fcntl
import functools
import os
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import flask
import orjson
import psycopg
from psycopg import pq
from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Engine,
    MetaData,
    Select,
    Table,
    create_engine,
    event,
    exc,
    insert,
    inspect,
    make_url,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, Pool, PoolProxiedConnection, QueuePool
from sqlalchemy.types import TypeDecorator

from service import current, libpq

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSONB on PostgreSQL (indexable, compact); JSON text on SQLite.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


_COUNTER_BITS = 74  # rand_a (12 bits) and rand_b (62 bits) of a version 7 UUID
_last = (0, 0)  # (milliseconds, counter) of the last id made in this process
_last_lock = threading.Lock()


def new_id() -> uuid.UUID:
    """A UUID version 7: time-ordered, so new rows land at the end of id-ordered lists
    and indexes stay compact. Within one process ids always increase: in the same
    millisecond the next one counts up from the last (RFC 9562, method 2), so id order
    is creation order there."""
    global _last
    millis = time.time_ns() // 1_000_000
    with _last_lock:
        last_millis, last_counter = _last
        if millis <= last_millis:
            millis, counter = last_millis, last_counter + 1
            if counter >> _COUNTER_BITS:
                millis, counter = millis + 1, 0
        else:  # a new millisecond: a random start (drawn only then: it costs a syscall)
            counter = secrets.randbits(_COUNTER_BITS)
        _last = (millis, counter)
    value = (
        (millis & (2**48 - 1)) << 80
        | 0x7 << 76  # version 7
        | (counter >> 62) << 64
        | 0x2 << 62  # RFC 9562 variant
        | (counter & (2**62 - 1))
    )
    return uuid.UUID(int=value)


def insert_as_is(session: Session, model: type[Base], values: dict[str, Any]) -> None:
    """Insert a row with exactly these attribute values, its version included (the ORM
    would start the version over at 1): for restoring a deleted row as it was."""
    mapper = inspect(model)
    row = {mapper.attrs[name].columns[0].name: value for name, value in values.items()}
    session.execute(insert(cast(Table, model.__table__)).values(**row))


@dataclass(frozen=True)
class Rows:
    """Rows made ready to INSERT into one table: on SQLite the statement and its
    parameters, every value converted; on PostgreSQL the rows themselves, for COPY.
    Made before a write transaction, they spare it the conversion (SQLite has one
    writer at a time)."""

    table: Table
    names: tuple[str, ...]
    rows: Sequence[Mapping[str, Any]]
    statement: str | None = None
    parameters: list[tuple[Any, ...]] = field(default_factory=list)


def prepare_rows(dialect: Dialect, table: Table, rows: Sequence[Mapping[str, Any]]) -> Rows:
    """Rows (dicts keyed by column name, all with the same keys) ready for
    ``insert_prepared`` on this database. On SQLite each value is converted for the
    database once: a value repeated across the rows (the document id, the creator, the
    time) is converted once, not per row.

    Core's executemany runs every column of every row through its type's bind
    processor and builds a parameter dict per row; for the thousands of rows of a
    batch that costs more than the database takes to write them."""
    if not rows:
        return Rows(table, (), rows)
    names = tuple(rows[0])
    _check_columns(table, names)
    if dialect.name == "postgresql":
        return Rows(table, names, rows)
    compiled = _compiled_insert(table, dialect, names)
    converters = []
    for name in names:
        process = table.c[name].type._cached_bind_processor(dialect)
        converters.append(_memoized(process) if process is not None else None)
    # pysqlite's parameters are positional, in the compiled statement's order.
    order = [names.index(key) for key in compiled.positiontup or ()]
    at = [(i, converters[i]) for i in order]
    parameters = [
        tuple(values[i] if convert is None else convert(values[i]) for i, convert in at)
        for values in ([row[name] for name in names] for row in rows)
    ]
    return Rows(table, names, rows, compiled.string, parameters)


def insert_prepared(session: Session, prepared: Rows) -> None:
    """INSERT rows made ready by ``prepare_rows``: one executemany on SQLite, COPY on
    PostgreSQL."""
    if not prepared.rows:
        return
    connection = session.connection()
    if prepared.statement is None:
        _copy_rows(connection, prepared.table, list(prepared.names), prepared.rows)
    else:
        connection.exec_driver_sql(prepared.statement, prepared.parameters)


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT many rows (dicts keyed by column name, all with the same keys)."""
    insert_prepared(session, prepare_rows(session.get_bind().dialect, table, rows))


def _copy_rows(
    connection: Connection, table: Table, names: list[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """PostgreSQL's COPY: the fastest way in, inside the current transaction."""
    as_json = [isinstance(table.c[name].type, JSON) for name in names]
    columns = ", ".join(connection.dialect.identifier_preparer.quote(name) for name in names)
    target = connection.dialect.identifier_preparer.format_table(table)
    driver = connection.connection.driver_connection
    assert driver is not None
    statement = f"COPY {target} ({columns}) FROM STDIN"
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(
                    [
                        _json_text(value) if json and value is not None else value
                        for json, value in zip(as_json, (row[name] for name in names), strict=True)
                    ]
                )
    except psycopg.Error as error:
        # As SQLAlchemy raises the driver's errors (IntegrityError for a row whose
        # annotation was deleted meanwhile, OperationalError for a deadlock), so that
        # they are answered as those of any other statement.
        raise exc.DBAPIError.instance(statement, None, error, psycopg.Error) from error


@functools.lru_cache(maxsize=64)
def _check_columns(table: Table, names: tuple[str, ...]) -> None:
    """The rows carry every column the ORM would fill in itself: no default is skipped."""
    defaulted = {column.name for column in table.c if column.default is not None}
    if not defaulted <= set(names):
        raise ValueError(f"insert_rows needs values for {sorted(defaulted - set(names))}")


@functools.lru_cache(maxsize=64)
def _compiled_insert(table: Table, dialect: Dialect, names: tuple[str, ...]) -> Any:
    return insert(table).compile(dialect=dialect, column_keys=list(names))


def _memoized(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``process``, remembering its answer for the last value it was given (by
    identity): rows of one batch share their provenance objects."""
    last: list[Any] = [_UNSEEN, None]

    def convert(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, process(value)
        return last[1]

    return convert


_UNSEEN = object()


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str, **options: Any) -> Engine:
    """An engine configured for this service on SQLite or PostgreSQL."""
    # orjson writes and reads the JSON columns several times faster than json does.
    options.setdefault("json_serializer", _json_text)
    options.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        return _make_sqlite_engine(url, **options)
    # A database that does not answer fails fast instead of holding a worker.
    connect_args = options.setdefault("connect_args", {})
    connect_args.setdefault("connect_timeout", 5)
    # Requests read tens of rows by index; a parallel plan, which the planner may pick
    # when statistics are missing or stale (right after a bulk import, say), costs
    # milliseconds of worker start-up for nothing.
    # Added to any options the URL itself carries (connect_args would replace them).
    given = make_url(url).query.get("options", "")
    given = " ".join(given) if isinstance(given, tuple) else given
    connect_args.setdefault("options", f"{given} -c max_parallel_workers_per_gather=0".strip())
    engine = create_engine(url, **options)
    _ping_when_idle(engine)
    return engine


# A pooled connection unused for this long is pinged before it is handed out.
PING_AFTER_IDLE = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection that has been idle before it is used, so that a
    restarted database costs no request: a dead one is replaced at once. Unlike
    pool_pre_ping, a connection in steady use is not pinged (a round trip for every
    request); one the database drops mid-use fails that request with a 503, and the
    pool replaces it."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["returned"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _handed_out(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        returned = record.info.get("returned")
        if returned is not None and time.monotonic() - returned >= PING_AFTER_IDLE:
            _ping(engine, dbapi_connection)  # the pool drops a dead one, hands out another


def _ping(engine: Engine, dbapi_connection: Any) -> None:
    """A round trip on the connection; DisconnectionError if it is dead."""
    try:
        engine.dialect.do_ping(dbapi_connection)
    except engine.dialect.loaded_dbapi.Error as error:
        raise exc.DisconnectionError(f"pooled connection is dead: {error}") from error


class _WriterQueue:
    """The writers to one SQLite file, served in turn.

    SQLite's own lock makes a writer that finds it taken sleep and try again (1 ms,
    then longer, up to 100 ms a try), so with several writers waiting the database
    stands idle between one commit and the next writer's wake-up. Here they wait on
    locks that hand over as soon as the last one commits: a thread lock among the
    threads of a process, then an flock on a file beside the database among processes
    (gunicorn's workers, the CLI), tried every half millisecond. Both time out as
    SQLite would."""

    def __init__(self, database: str, timeout: float) -> None:
        self.path = os.path.abspath(database) + "-writer.lock"
        self.timeout = timeout
        self.threads = threading.Lock()

    def acquire(self) -> int:
        deadline = time.monotonic() + self.timeout
        if not self.threads.acquire(timeout=self.timeout):
            raise sqlite3.OperationalError("database is locked (no turn to write)")
        try:
            # Opened for each turn: an flock belongs to the open file, which forked
            # workers would otherwise share.
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                self._flock(descriptor, deadline)
            except BaseException:
                os.close(descriptor)
                raise
        except BaseException:
            self.threads.release()
            raise
        return descriptor

    @staticmethod
    def _flock(descriptor: int, deadline: float) -> None:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise sqlite3.OperationalError(
                        "database is locked (another process kept its turn to write)"
                    ) from None
                time.sleep(0.0005)

    def release(self, descriptor: int) -> None:
        os.close(descriptor)  # and with it the flock
        self.threads.release()


class _QueuedConnection(sqlite3.Connection):
    """A sqlite3 connection whose write transactions (BEGIN IMMEDIATE) take their turn
    in a _WriterQueue, and give it back once COMMIT or ROLLBACK is done."""

    queue: _WriterQueue | None = None
    turn: int | None = None

    def begin(self, mode: str) -> None:
        if mode == "IMMEDIATE" and self.queue is not None and self.turn is None:
            self.turn = self.queue.acquire()
        try:
            self.execute(f"BEGIN {mode}")
        except BaseException:
            self._end_turn()
            raise

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._end_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._end_turn()

    def _end_turn(self) -> None:
        if self.turn is not None and self.queue is not None:
            turn, self.turn = self.turn, None
            self.queue.release(turn)


def _make_sqlite_engine(url: str, **options: Any) -> Engine:
    parsed = make_url(url)
    database = parsed.database or ""
    on_disk = bool(database) and database != ":memory:" and not database.startswith("file:")
    if on_disk:
        Path(os.path.dirname(os.path.abspath(database))).mkdir(parents=True, exist_ok=True)
    connect_args = options.setdefault("connect_args", {})
    # How long a writer waits for its turn: ?timeout= in the URL (seconds), else 30.
    given = parsed.query.get("timeout")
    connect_args.setdefault("timeout", float(given) if isinstance(given, str) else 30)
    connect_args["factory"] = _QueuedConnection
    queue = _WriterQueue(database, connect_args["timeout"]) if on_disk else None
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin, so that
        # SAVEPOINTs and BEGIN IMMEDIATE work as written.
        dbapi_connection.isolation_level = None
        dbapi_connection.queue = queue
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that reads and
        # then writes fails at once, without waiting, if another writer got in between.
        # Straight to the driver: every request begins one, and the statement needs
        # none of SQLAlchemy's execution machinery.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        try:
            connection.connection.dbapi_connection.begin(mode)
        except sqlite3.Error as error:  # as SQLAlchemy would have wrapped it (503)
            raise exc.OperationalError(f"BEGIN {mode}", None, error) from error

    return engine


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# Runs a SELECT with its parameters and returns its rows: Database.read outside any
# transaction, or session_reader inside the request's.
Read = Callable[[Select[Any], Mapping[str, Any]], Sequence[Sequence[Any]]]
# Runs SELECTs from one snapshot: Database.read_together.
ReadTogether = Callable[[Sequence[tuple[Select[Any], Mapping[str, Any]]]], list[list[Any]]]


# How many compiled statements Database.read keeps.
PREPARED_STATEMENTS = 1024
# The key, in the pool's record of a PostgreSQL connection (``info``), of the statements
# libpq has prepared on it.
PREPARED_ON_CONNECTION = "prepared_statements"


class _Prepared:
    """A SELECT compiled once for one dialect, to run on the driver itself."""

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        # Lists of values (IN) are rendered per execution: SQLAlchemy runs those.
        self.direct = not any(bind.expanding for bind in compiled.binds.values())
        self.positions = compiled.positiontup  # the order of qmark parameters (SQLite)
        self.libpq = libpq.Statement(self.sql) if dialect.name == "postgresql" else None
        self.defaults = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if not bind.required and bind.callable is None
        }
        self.processors = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type._cached_bind_processor(dialect)) is not None
        }

    def parameters(self, given: Mapping[str, Any]) -> Any:
        values = {**self.defaults, **given}
        for name, process in self.processors.items():
            if name in values:
                values[name] = process(values[name])
        if self.positions is None:
            return values
        return tuple(values[name] for name in self.positions)


@contextmanager
def _transaction(driver: Any, postgresql: bool, snapshot: bool) -> Iterator[None]:
    """Around reads on the driver's cursor: each statement on its own, or (``snapshot``)
    all in one read-only transaction that sees one snapshot. The connection is left as
    the pool gave it."""
    if not snapshot:
        if not postgresql:  # the engine leaves SQLite's driver in autocommit
            yield
            return
        driver.autocommit = True
        try:
            yield
        finally:
            if not driver.closed:
                driver.autocommit = False
        return
    if postgresql:
        settings = driver.isolation_level, driver.read_only
        driver.isolation_level, driver.read_only = psycopg.IsolationLevel.REPEATABLE_READ, True
    else:
        driver.begin("DEFERRED")
    try:
        yield
    finally:
        if not (postgresql and driver.closed):
            driver.rollback()  # only read: nothing to commit
        if postgresql and not driver.closed:
            driver.isolation_level, driver.read_only = settings


# Connections kept by _KeptConnections and inherited by a forked process: the parent's,
# never to be used, closed or reset (their garbage collection would); kept here.
_INHERITED: list[PoolProxiedConnection] = []


class _KeptConnections:
    """Pooled connections that the hot reads (``Database.read``) keep between one read
    and the next instead of handing them back to the pool: the pool's checkout and
    checkin (its queue, its events, the reset) are a tenth of the instructions of a
    list of 60 annotations (bench.instructions). Each is kept only while it is clean
    (no transaction open); one unused for PING_AFTER_IDLE is pinged before it is used
    again, as the pool pings its own; all are closed when the pool's are, or when one
    of the pool's is found dead.

    A connection is kept by no thread: a reader takes one, or the pool's, and puts it
    back after. So no more are kept than readers ran at once, and at most ``limit``.
    With sessions beside them, a worker's threads may then hold twice their number of
    connections: where the pool cannot give that many, none is kept (``limit`` 0)."""

    def __init__(self, engine: Engine, threads: int) -> None:
        self.engine = engine
        pool = engine.pool
        # QueuePool's bound (pool_size + max_overflow; -1: none); other pools, such as
        # the single connection of an in-memory SQLite database, are left alone.
        overflow = getattr(pool, "_max_overflow", None) if isinstance(pool, QueuePool) else None
        enough = overflow is not None and (
            overflow < 0 or pool.size() + overflow >= 2 * threads  # type: ignore[attr-defined]
        )
        self.limit = threads if enough else 0
        # (connection, its pool, the process that took it, when it was last put back)
        self._kept: list[tuple[PoolProxiedConnection, Pool, int, float]] = []
        event.listen(engine, "engine_disposed", self._close_all)
        # The pool takes a connection found dead for a sign that all are (a restarted
        # server): those it holds are replaced as they are next checked out, the kept
        # ones here and now.
        event.listen(engine, "invalidate", self._close_all)

    def _close_all(self, *_: Any) -> None:
        """Closed with the pool's (Engine.dispose) or as the pool found one dead; but
        a forked process leaves its parent's alone."""
        kept, self._kept = self._kept, []
        while kept:  # popped, as a reader may be taking from it still
            try:
                raw, _pool, pid, _put_back = kept.pop()
            except IndexError:
                break
            if pid == os.getpid():
                raw.invalidate()
            else:
                _INHERITED.append(raw)

    def __len__(self) -> int:
        return len(self._kept)

    def take(self) -> tuple[PoolProxiedConnection, Pool]:
        """A kept connection, or else one from the pool, and the pool it belongs to."""
        while self._kept:
            try:
                raw, pool, pid, put_back = self._kept.pop()
            except IndexError:  # another reader took the last one
                break
            if pid != os.getpid():
                _INHERITED.append(raw)
                continue
            if pool is not self.engine.pool:  # put back as the pool was disposed
                raw.invalidate()
                continue
            if time.monotonic() - put_back >= PING_AFTER_IDLE:
                try:
                    _ping(self.engine, raw.driver_connection)
                except exc.DisconnectionError:
                    raw.invalidate()
                    continue
            return raw, pool
        pool = self.engine.pool
        return self.engine.raw_connection(), pool

    def put_back(self, raw: PoolProxiedConnection, pool: Pool) -> None:
        """After a read that succeeded: kept if it is clean and there is room, else
        handed back to the pool (which resets it)."""
        if len(self._kept) < self.limit and _clean(raw.driver_connection):
            self._kept.append((raw, pool, os.getpid(), time.monotonic()))
        else:
            raw.close()


def _clean(driver: Any) -> bool:
    """No transaction open on the driver's connection, which is usable."""
    if isinstance(driver, psycopg.Connection):
        return not driver.closed and driver.pgconn.transaction_status == pq.TransactionStatus.IDLE
    return not driver.in_transaction


class Database:
    """The engine and session factory of one app; the session lives for one request.
    ``threads``: how many threads of a process serve requests (THREADS)."""

    def __init__(self, engine: Engine, threads: int = 1) -> None:
        self.engine = engine
        self.kept = _KeptConnections(engine, threads)
        self.sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self.write_sessions = sessionmaker(
            bind=engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False
        )
        self._prepared: dict[Select[Any], _Prepared] = {}

    def read(self, statement: Select[Any], parameters: Mapping[str, Any]) -> list[Any]:
        """The rows of one SELECT, run on a pooled connection outside any transaction
        (one statement sees one snapshot on both databases): no BEGIN and ROLLBACK
        round trips, none of SQLAlchemy's per-execution work. For the hot reads;
        ``statement`` should be built once and reused, as its compiled form is kept.
        Driver errors come out as SQLAlchemy's, as from a session."""
        return self._read([(statement, parameters)], snapshot=False)[0]

    def read_together(
        self, reads: Sequence[tuple[Select[Any], Mapping[str, Any]]]
    ) -> list[list[Any]]:
        """The rows of each SELECT, as ``read`` gives them, all from one snapshot of the
        database: on PostgreSQL a REPEATABLE READ, READ ONLY transaction sent in one
        round trip; on SQLite one read transaction (WAL keeps its snapshot)."""
        return self._read(reads, snapshot=True)

    def _read(
        self, reads: Sequence[tuple[Select[Any], Mapping[str, Any]]], snapshot: bool
    ) -> list[list[Any]]:
        """``read_together``; or, without ``snapshot``, ``read`` of a single statement."""
        compiled = [(self._compiled(statement), values) for statement, values in reads]
        if not all(prepared.direct for prepared, _ in compiled):
            return self._read_by_sqlalchemy(reads, snapshot)
        dialect = self.engine.dialect
        postgresql = dialect.name == "postgresql"
        raw = driver = cursor = pool = None
        # The statement an error names: the one that failed.
        failed_sql, failed_values = compiled[0][0].sql, reads[0][1]
        succeeded = False
        try:
            raw, pool = self.kept.take()
            driver = raw.driver_connection
            values = [prepared.parameters(given) for prepared, given in compiled]
            if postgresql:
                statements = [
                    (cast(libpq.Statement, prepared.libpq), given)
                    for (prepared, _), given in zip(compiled, values, strict=True)
                ]
                connection = cast("psycopg.Connection[Any]", driver)
                # Kept in the pool's record of the connection, beside what others keep.
                on_connection = raw.info.setdefault(PREPARED_ON_CONNECTION, {})
                if snapshot:
                    together = libpq.run_together(connection, statements, on_connection)
                    if together is not None:
                        succeeded = True
                        return together
                else:
                    alone = libpq.run(connection, *statements[0], on_connection)
                    if alone is not None:
                        succeeded = True
                        return [alone]
            cursor = driver.cursor()  # type: ignore[union-attr]
            with _transaction(driver, postgresql, snapshot):
                found = []
                for (prepared, given), parameters in zip(compiled, values, strict=True):
                    failed_sql, failed_values = prepared.sql, given
                    cursor.execute(prepared.sql, parameters)
                    found.append(cursor.fetchall())
            cursor.close()
            succeeded = True
            return found
        except dialect.loaded_dbapi.Error as error:
            gone = dialect.is_disconnect(error, driver, cursor)
            if gone and raw is not None:  # as SQLAlchemy does: the whole pool is suspect
                self.engine.pool._invalidate(raw, error)
            failed = getattr(error, libpq.FAILED_STATEMENT, None)
            if failed is not None:
                failed_sql, failed_values = compiled[failed][0].sql, reads[failed][1]
            raise exc.DBAPIError.instance(
                failed_sql,
                dict(failed_values),
                error,
                dialect.loaded_dbapi.Error,
                connection_invalidated=gone,
                dialect=dialect,
            ) from error
        finally:
            if raw is not None:
                if succeeded:
                    self.kept.put_back(raw, cast(Pool, pool))
                else:
                    raw.close()

    def _compiled(self, statement: Select[Any]) -> _Prepared:
        prepared = self._prepared.get(statement)
        if prepared is None:
            if len(self._prepared) >= PREPARED_STATEMENTS:  # bounded, whatever callers do
                self._prepared.clear()
            prepared = self._prepared[statement] = _Prepared(statement, self.engine.dialect)
        return prepared

    def _read_by_sqlalchemy(
        self, reads: Sequence[tuple[Select[Any], Mapping[str, Any]]], snapshot: bool
    ) -> list[list[Any]]:
        """Statements SQLAlchemy must render per execution (lists of values)."""
        with self.engine.connect() as connection:
            if snapshot and self.engine.dialect.name == "postgresql":
                connection = connection.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
            with connection.begin() if snapshot else nullcontext():
                return [list(connection.execute(s, values).all()) for s, values in reads]

    def init_app(self, app: flask.Flask) -> None:
        app.extensions["db"] = self
        app.teardown_appcontext(self._close_session)

    @staticmethod
    def _close_session(_error: BaseException | None) -> None:
        session = current.g().pop("db_session", None)
        if session is not None:
            session.close()


def reader() -> Read:
    """The current app's Database.read."""
    database: Database = current.app().extensions["db"]
    return database.read


def snapshot_reader() -> ReadTogether:
    """The current app's Database.read_together."""
    database: Database = current.app().extensions["db"]
    return database.read_together


def is_postgresql() -> bool:
    database: Database = current.app().extensions["db"]
    return database.engine.dialect.name == "postgresql"


def session_reader(session: Session) -> Read:
    """Reads inside the session's transaction, beside its other reads and writes."""

    def read(statement: Select[Any], parameters: Mapping[str, Any]) -> list[Any]:
        return list(session.connection().execute(statement, parameters).all())

    return read


@contextmanager
def read_session() -> Iterator[Session]:
    """A session of its own for reading before the request's session starts: on
    SQLite a write request's session takes the write lock with its first statement,
    and holds it to the end."""
    database: Database = flask.current_app.extensions["db"]
    with database.sessions() as session:
        yield session


def get_session() -> Session:
    """The current request's session, opened on first use."""
    session: Session | None = flask.g.get("db_session")
    if session is None:
        database: Database = flask.current_app.extensions["db"]
        factory = database.sessions
        if flask.has_request_context() and flask.request.method in WRITE_METHODS:
            factory = database.write_sessions
        session = factory()
        flask.g.db_session = session
    return session
