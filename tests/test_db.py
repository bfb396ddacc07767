from __future__ import annotations

import fcntl
import os
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import BigInteger, Float, bindparam, event, func, literal_column, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from service import db, metrics, migrate
from service.app import create_app
from service.config import Settings
from service.db import PREPARED_ON_CONNECTION, UTCDateTime, insert_rows, make_engine, new_id
from service.models import Annotation, Document
from tests.conftest import scratch_database
from tests.factories import make_document


def test_new_ids_are_uuid7_and_increase():
    ids = [new_id() for _ in range(1000)]
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert len(set(ids)) == len(ids)
    # Made one after another, they sort in the order they were made.
    assert ids == sorted(ids)


def test_sqlite_engine_turns_on_foreign_keys_and_wal(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()
    assert (tmp_path / "sub" / "x.db").exists()


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2024, 1, 1), make_engine("sqlite://").dialect)  # noqa: DTZ001 (the naive value under test)


def test_postgresql_connections_plan_serially_and_keep_the_url_options(engine, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    with engine.connect() as connection:
        workers = connection.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar()
        search_path = connection.exec_driver_sql("SHOW search_path").scalar()
    assert workers == "0"
    assert search_path.startswith("test_")  # the scratch schema the URL's options name


def test_insert_rows_stores_each_value_as_the_orm_would(session):
    """Shared provenance objects are converted once, yet every row keeps its own values;
    ids, times, JSON and NULLs arrive as the ORM reads them back."""
    document = make_document(session, "Kim met Putin.")
    now = datetime(2026, 11, 27, 10, 30, 0, 123456, tzinfo=UTC)
    shared = {"document_id": document.id, "created_by": "loader", "created_at": now}
    rows = [
        {
            "id": new_id(),
            "type": "entity",
            "label": label,
            "start_offset": start,
            "end_offset": end,
            "text": document.text[start:end],
            "attributes": attributes,
            "confidence": confidence,
            "status": "accepted",
            "anchor": "exact",
            "updated_at": now,
            "version": 1,
            **shared,
        }
        for label, start, end, attributes, confidence in (
            ("PERSON", 0, 3, {"wikidata": "Q56226", "é": [1, None]}, 0.1),
            ("PERSON", 8, 13, {}, None),
        )
    ]
    insert_rows(session, Annotation.__table__, rows)
    stored = session.scalars(select(Annotation).order_by(Annotation.start)).all()
    assert [(a.id, a.label, a.start, a.end, a.text) for a in stored] == [
        (rows[0]["id"], "PERSON", 0, 3, "Kim"),
        (rows[1]["id"], "PERSON", 8, 13, "Putin"),
    ]
    assert [a.attributes for a in stored] == [{"wikidata": "Q56226", "é": [1, None]}, {}]
    assert [a.confidence for a in stored] == [0.1, None]
    assert {(a.document_id, a.created_by, a.created_at, a.updated_at) for a in stored} == {
        (document.id, "loader", now, now)
    }


def test_insert_rows_refuses_rows_missing_a_column_with_a_default(session):
    row = {"type": "entity", "label": "PERSON", "start_offset": 0, "end_offset": 3}
    with pytest.raises(ValueError, match=r"insert_rows needs values for .*'id'"):
        insert_rows(session, Annotation.__table__, [row])


def test_insert_rows_raises_the_driver_s_errors_as_sqlalchemy_does(session):
    """A row whose document does not exist: IntegrityError on both databases (COPY on
    PostgreSQL went round SQLAlchemy, and its errors were answered as a 500)."""
    document = make_document(session, "Kim met Putin.")
    now = datetime(2026, 11, 27, tzinfo=UTC)
    row = {
        "id": new_id(),
        "document_id": new_id(),  # no such document
        "type": "entity",
        "label": "PERSON",
        "start_offset": 0,
        "end_offset": 3,
        "text": document.text[:3],
        "attributes": {},
        "confidence": None,
        "status": "accepted",
        "anchor": "exact",
        "created_by": "loader",
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    with pytest.raises(IntegrityError):
        insert_rows(session, Annotation.__table__, [row])


def _turn_is_free(database: Path) -> bool:
    """Whether another process could take the turn to write to ``database`` now."""
    descriptor = os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)
    return True


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_sqlite_write_transactions_hold_the_turn_to_write_until_they_end(tmp_path, end):
    database = tmp_path / "w.db"
    engine = make_engine(f"sqlite:///{database}")
    writer = engine.execution_options(sqlite_begin="IMMEDIATE")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        assert _turn_is_free(database)  # readers and deferred transactions take no turn
    connection = writer.connect()
    transaction = connection.begin()
    connection.exec_driver_sql("INSERT INTO t VALUES (1)")
    assert not _turn_is_free(database)
    if end == "commit":
        transaction.commit()
    elif end == "rollback":
        transaction.rollback()
    connection.close()
    assert _turn_is_free(database)
    engine.dispose()


def test_sqlite_writers_of_one_process_write_in_turn(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    writer = engine.execution_options(sqlite_begin="IMMEDIATE")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    inside = threading.Event()
    order: list[str] = []

    def first() -> None:
        with writer.begin() as connection:
            connection.exec_driver_sql("INSERT INTO t VALUES (1)")
            inside.set()
            time.sleep(0.2)
            order.append("first ends")

    def second() -> None:
        inside.wait()
        with writer.begin() as connection:
            order.append("second begins")
            connection.exec_driver_sql("INSERT INTO t VALUES (2)")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert order == ["first ends", "second begins"]
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 2
    engine.dispose()


def test_a_sqlite_writer_waits_for_another_process_and_gives_up_as_sqlite_would(tmp_path):
    database = tmp_path / "w.db"
    engine = make_engine(f"sqlite:///{database}", connect_args={"timeout": 0.3})
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    other = os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)  # as another worker in its write transaction
    writer = engine.execution_options(sqlite_begin="IMMEDIATE")
    try:
        started = time.monotonic()
        with (
            pytest.raises(OperationalError, match="another process kept its turn to write"),
            writer.begin() as connection,
        ):
            connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert 0.3 <= time.monotonic() - started < 5
    finally:
        os.close(other)
    with writer.begin() as connection:  # its turn, now that the other one ended
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
    engine.dispose()


def test_a_write_that_gets_no_turn_is_a_503_and_writes_nothing(tmp_path):
    database = tmp_path / "w.db"
    url = f"sqlite:///{database}?timeout=0.3"  # the URL sets how long a writer waits
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    client = create_app(Settings(database_url=url, auth_mode="none")).test_client()
    other = os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        response = client.post("/v1/documents", json={"text": "Kim met Putin."})
    finally:
        os.close(other)
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.json["detail"] == "the database is unavailable or busy; try again shortly"
    assert response.headers["Retry-After"] == "1"
    assert client.get("/v1/documents").json["items"] == []
    assert client.post("/v1/documents", json={"text": "Kim met Putin."}).status_code == 201


@pytest.fixture
def committed(tmp_path):
    """An app on a database of its own, whose rows are committed: Database.read runs
    outside any transaction, where the per-test transaction is not seen."""
    with scratch_database(tmp_path) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        app = create_app(Settings(database_url=url, auth_mode="none"))
        yield app
        app.extensions["db"].engine.dispose()


def _spans(app, document_id: str, **params: str) -> list[tuple[int, int]]:
    response = app.test_client().get(
        f"/v1/documents/{document_id}/annotations", query_string=params
    )
    assert response.status_code == 200, response.json
    return [(item["start"], item["end"]) for item in response.json["items"]]


def test_read_runs_a_statement_on_the_driver_with_its_parameters_converted(committed):
    client = committed.test_client()
    document = client.post("/v1/documents", json={"text": "Kim met Putin in Moscow."}).json
    other = client.post("/v1/documents", json={"text": "Kim met Putin in Moscow."}).json
    spans = [(0, 3, "PERSON"), (8, 13, "PERSON"), (17, 23, "GPE")]
    for id_ in (document["id"], other["id"]):
        body = {
            "annotations": [
                {"type": "entity", "label": label, "start": s, "end": e} for s, e, label in spans
            ]
        }
        assert client.post(f"/v1/documents/{id_}/annotations/batch", json=body).status_code == 201
    database = committed.extensions["db"]
    statement = (
        select(Annotation.start, Annotation.end)
        .where(
            Annotation.document_id == bindparam("document_id"),
            Annotation.start >= bindparam("from"),
        )
        .order_by(Annotation.start)
    )
    with committed.app_context():
        # A UUID turned into what the column holds (32 hex digits on SQLite), an int as is.
        rows = database.read(statement, {"document_id": uuid.UUID(document["id"]), "from": 5})
        assert [tuple(row) for row in rows] == [(8, 13), (17, 23)]
        assert database._prepared[statement].direct
        # Through the API: a page (LIMIT with its rendered OFFSET), a cursor, a filter.
        assert _spans(committed, document["id"]) == [(0, 3), (8, 13), (17, 23)]
        page = client.get(f"/v1/documents/{document['id']}/annotations?limit=2").json
        assert page["next_cursor"]
        rest = _spans(committed, document["id"], cursor=page["next_cursor"])
        assert rest == [(17, 23)]
        assert _spans(committed, document["id"], overlaps="10,20") == [(8, 13), (17, 23)]


def test_read_leaves_lists_of_values_to_sqlalchemy(committed):
    client = committed.test_client()
    document = client.post("/v1/documents", json={"text": "Kim met Putin in Moscow."}).json
    body = {
        "annotations": [
            {"type": "entity", "label": "PERSON", "start": 0, "end": 3},
            {"type": "entity", "label": "GPE", "start": 17, "end": 23},
        ]
    }
    client.post(f"/v1/documents/{document['id']}/annotations/batch", json=body)
    statement = select(Annotation.label).where(
        Annotation.label.in_(bindparam("labels", expanding=True))
    )
    database = committed.extensions["db"]
    assert [row[0] for row in database.read(statement, {"labels": ["GPE", "ORG"]})] == ["GPE"]
    assert not database._prepared[statement].direct
    assert _spans(committed, document["id"], label="GPE,PERSON") == [(0, 3), (17, 23)]


def test_read_raises_driver_errors_as_sqlalchemy_does(committed):
    database = committed.extensions["db"]
    statement = select(func.abs(bindparam("n", type_=BigInteger)))
    with pytest.raises(DBAPIError) as raised:  # integer overflow, on both databases
        database.read(statement, {"n": -(2**63)})
    assert raised.value.statement == database._prepared[statement].sql
    # The connection went back to the pool in working order.
    assert [tuple(row) for row in database.read(statement, {"n": -2})] == [(2,)]


def test_read_keeps_a_bounded_number_of_compiled_statements(committed, monkeypatch):
    database = committed.extensions["db"]
    monkeypatch.setattr(db, "PREPARED_STATEMENTS", 2)
    statements = [select(func.abs(bindparam("n", type_=BigInteger)) + k) for k in range(5)]
    for k, statement in enumerate(statements):
        assert [tuple(row) for row in database.read(statement, {"n": -1})] == [(1 + k,)]
        assert len(database._prepared) <= 2


DOCUMENTS = select(func.count()).select_from(Document)


def _pause_in_a_statement(database: db.Database) -> Any:
    """A statement that takes ``seconds`` to run, and returns 1."""
    if database.engine.dialect.name == "postgresql":
        return select(literal_column("1")).select_from(
            func.pg_sleep(bindparam("seconds", type_=Float))
        )

    @event.listens_for(database.engine, "connect")
    def _sleep(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("pause", 1, lambda s: time.sleep(s) or 1)

    database.engine.dispose()
    return select(func.pause(bindparam("seconds", type_=Float)))


@pytest.mark.parametrize("by_cursor", [False, True], ids=["driver", "cursor"])
def test_read_together_reads_every_statement_from_one_snapshot(committed, by_cursor):
    """A document written while the statements run is seen by none of them: the count
    after the pause is the count before it. (Each statement alone would see it.) On
    PostgreSQL through libpq's pipeline and, for a pooler without prepared statements,
    through the cursor."""
    database = committed.extensions["db"]
    if by_cursor and database.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite reads by its cursor already")
    pause = _pause_in_a_statement(database)
    if by_cursor:
        event.listen(
            database.engine, "connect", lambda dbapi, _r: setattr(dbapi, "prepare_threshold", None)
        )
        database.engine.dispose()
    client = committed.test_client()
    client.post("/v1/documents", json={"text": "before"})

    def write_meanwhile() -> None:
        time.sleep(0.3)
        assert client.post("/v1/documents", json={"text": "meanwhile"}).status_code == 201

    writer = threading.Thread(target=write_meanwhile)
    writer.start()
    before, paused, after = database.read_together(
        [(DOCUMENTS, {}), (pause, {"seconds": 1.0}), (DOCUMENTS, {})]
    )
    writer.join()
    assert [tuple(row) for row in (before + paused + after)] == [(1,), (1,), (1,)]
    assert [tuple(row) for row in database.read(DOCUMENTS, {})] == [(2,)]
    if database.engine.dialect.name == "postgresql":
        raw, pool = database.kept.take()  # the connection those reads used
        try:  # and it was put back as the pool gave it
            driver = raw.driver_connection
            assert (driver.autocommit, driver.isolation_level, driver.read_only) == (
                False,
                None,
                None,
            )
            prepared = raw.info.get(PREPARED_ON_CONNECTION, {})
            assert (database._prepared[DOCUMENTS].libpq.name in prepared) != by_cursor
        finally:
            database.kept.put_back(raw, pool)


def test_read_together_raises_the_failing_statement_s_error_and_goes_on(committed):
    database = committed.extensions["db"]
    overflow = select(func.abs(bindparam("n", type_=BigInteger)))
    with pytest.raises(DBAPIError) as raised:
        database.read_together([(DOCUMENTS, {}), (overflow, {"n": -(2**63)}), (DOCUMENTS, {})])
    assert raised.value.statement == database._prepared[overflow].sql
    assert not raised.value.connection_invalidated
    # No transaction left behind: the next reads work, together and alone.
    found = database.read_together([(overflow, {"n": -2}), (DOCUMENTS, {})])
    assert [[tuple(row) for row in rows] for rows in found] == [[(2,)], [(0,)]]
    assert [tuple(row) for row in database.read(overflow, {"n": -3})] == [(3,)]


def test_read_together_leaves_lists_of_values_to_sqlalchemy(committed):
    database = committed.extensions["db"]
    client = committed.test_client()
    for title in ("a", "b", "c"):
        client.post("/v1/documents", json={"text": "x", "title": title})
    titled = (
        select(Document.title)
        .where(Document.title.in_(bindparam("titles", expanding=True)))
        .order_by(Document.title)
    )
    found = database.read_together([(titled, {"titles": ["a", "c"]}), (DOCUMENTS, {})])
    assert [[tuple(row) for row in rows] for rows in found] == [[("a",), ("c",)], [(3,)]]


def test_read_on_postgresql_leaves_no_transaction_and_gives_the_connection_back_as_it_was(
    committed,
):
    database = committed.extensions["db"]
    if database.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    statement = select(Annotation.id).where(Annotation.start == bindparam("start"))
    database.read(statement, {"start": 0})
    with database.engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert driver.autocommit is False
        # No transaction was left open by the read: only this one's is seen.
        open_transactions = connection.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%%' AND pid <> pg_backend_pid()"
        ).scalar()
        assert open_transactions == 0


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(committed, monkeypatch):
    """A pooled connection idle for PING_AFTER_IDLE is checked before use: a database
    restarted meanwhile costs no request. One in steady use is not checked."""
    database = committed.extensions["db"]
    if database.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: a SQLite file does not go away")
    pings = []
    monkeypatch.setattr(
        database.engine.dialect, "do_ping", lambda connection: pings.append(1) or True
    )
    client = committed.test_client()
    assert client.get("/v1/documents").status_code == 200
    assert client.get("/v1/documents").status_code == 200
    assert pings == []  # used a moment ago
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)
    assert client.get("/v1/documents").status_code == 200
    assert pings == [1]

    def dead(connection):
        raise database.engine.dialect.loaded_dbapi.OperationalError("server closed the connection")

    monkeypatch.setattr(database.engine.dialect, "do_ping", dead)
    connects = []
    event.listen(database.engine, "connect", lambda *_: connects.append(1))
    assert client.get("/v1/documents").status_code == 200
    assert connects == [1]  # the dead one was replaced by a new connection


# --- connections kept between hot reads (db._KeptConnections) -------------------------


def _checkouts(engine) -> list[int]:
    seen: list[int] = []
    event.listen(engine, "checkout", lambda *_: seen.append(1))
    return seen


def test_reads_keep_their_connection_for_the_next_read(committed):
    """The pool's checkout and checkin are spared: one connection serves read after
    read, kept out of the pool between them, and the in-use gauge leaves it out."""
    database = committed.extensions["db"]
    assert database.kept.limit == committed.extensions["settings"].threads == 4
    checkouts = _checkouts(database.engine)
    for _ in range(20):
        assert [tuple(row) for row in database.read(DOCUMENTS, {})] == [(0,)]
    assert checkouts == [1]
    assert len(database.kept) == 1
    assert database.engine.pool.checkedout() == 1
    metrics.flush()
    kept_aside = metrics.POOL_IN_USE._value.get()
    raw, pool = database.kept.take()  # as a read does: now in use
    metrics.flush()
    assert metrics.POOL_IN_USE._value.get() == kept_aside + 1
    database.kept.put_back(raw, pool)


def test_readers_at_once_keep_no_more_connections_than_ran_at_once(committed):
    database = committed.extensions["db"]
    started = threading.Barrier(3)
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            started.wait()
            for _ in range(30):
                database.read(DOCUMENTS, {})
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert 1 <= len(database.kept) <= 3
    assert database.engine.pool.checkedout() == len(database.kept)


def test_a_failed_read_hands_its_connection_back_to_the_pool(committed):
    database = committed.extensions["db"]
    statement = select(func.abs(bindparam("n", type_=BigInteger)))
    database.read(statement, {"n": 1})
    assert len(database.kept) == 1
    with pytest.raises(DBAPIError):  # integer overflow, on both databases
        database.read(statement, {"n": -(2**63)})
    assert len(database.kept) == 0
    assert database.engine.pool.checkedout() == 0


def test_a_connection_left_in_a_transaction_is_not_kept(committed):
    database = committed.extensions["db"]
    raw, pool = database.kept.take()
    cursor = raw.driver_connection.cursor()
    cursor.execute("BEGIN")
    cursor.close()
    rolled_back = []
    event.listen(database.engine, "reset", lambda *_: rolled_back.append(1))
    database.kept.put_back(raw, pool)
    assert len(database.kept) == 0
    assert rolled_back == [1]  # the pool reset it
    assert database.engine.pool.checkedout() == 0


def test_a_kept_connection_idle_is_pinged_and_a_dead_one_replaced(committed, monkeypatch):
    database = committed.extensions["db"]
    dialect = database.engine.dialect
    database.read(DOCUMENTS, {})
    pings: list[int] = []
    monkeypatch.setattr(dialect, "do_ping", lambda connection: pings.append(1) or True)
    database.read(DOCUMENTS, {})
    assert pings == []  # put back a moment ago
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)
    database.read(DOCUMENTS, {})
    assert pings == [1]
    (dead_one,) = [entry[0] for entry in database.kept._kept]

    def dead(connection):
        raise dialect.loaded_dbapi.OperationalError("server closed the connection")

    monkeypatch.setattr(dialect, "do_ping", dead)
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 1.0)
    raw, pool, pid, _ = database.kept._kept[0]
    database.kept._kept[0] = (raw, pool, pid, time.monotonic() - 10)  # idle for 10 s
    assert [tuple(row) for row in database.read(DOCUMENTS, {})] == [(0,)]
    assert dead_one.dbapi_connection is None  # invalidated: closed and dropped
    (kept,) = [entry[0] for entry in database.kept._kept]
    assert kept is not dead_one


def test_kept_connections_are_closed_with_the_pool_s(committed):
    database = committed.extensions["db"]
    database.read(DOCUMENTS, {})
    (old,) = [entry[0] for entry in database.kept._kept]
    driver = old.driver_connection
    database.engine.dispose()
    assert len(database.kept) == 0
    assert old.dbapi_connection is None
    assert _is_closed(driver)
    assert [tuple(row) for row in database.read(DOCUMENTS, {})] == [(0,)]
    assert [entry[1] for entry in database.kept._kept] == [database.engine.pool]


def test_a_connection_found_dead_takes_the_kept_ones_down_with_it(committed):
    """As the pool does with its own: one dead is a sign that all are (a restarted
    server), and no request should be the one to find the next."""
    database = committed.extensions["db"]
    first, pool = database.kept.take()
    second, _ = database.kept.take()
    database.kept.put_back(second, pool)
    driver = second.driver_connection
    error = database.engine.dialect.loaded_dbapi.OperationalError("server closed")
    database.engine.pool._invalidate(first, error)  # as a request that found it dead
    assert len(database.kept) == 0
    assert _is_closed(driver)
    first.close()
    assert [tuple(row) for row in database.read(DOCUMENTS, {})] == [(0,)]


def test_a_connection_put_back_as_its_pool_was_disposed_is_closed(committed):
    database = committed.extensions["db"]
    raw, pool = database.kept.take()
    driver = raw.driver_connection
    database.engine.dispose()
    database.kept.put_back(raw, pool)  # a read that ended meanwhile
    assert [tuple(row) for row in database.read(DOCUMENTS, {})] == [(0,)]
    assert _is_closed(driver)
    assert [entry[1] for entry in database.kept._kept] == [database.engine.pool]


def _is_closed(driver) -> bool:
    if hasattr(driver, "closed"):  # psycopg
        return bool(driver.closed)
    try:  # sqlite3
        driver.execute("SELECT 1")
    except Exception:
        return True
    return False


def test_a_kept_connection_inherited_by_a_fork_is_left_untouched(committed, monkeypatch):
    """A forked process must not use, reset or close its parent's connection: the
    parent is still using it."""
    database = committed.extensions["db"]
    database.read(DOCUMENTS, {})
    (inherited,) = [entry[0] for entry in database.kept._kept]
    driver = inherited.driver_connection
    parent = os.getpid()
    monkeypatch.setattr(db.os, "getpid", lambda: parent + 1)
    monkeypatch.setattr(db, "_INHERITED", [])
    assert [tuple(row) for row in database.read(DOCUMENTS, {})] == [(0,)]
    assert [inherited] == db._INHERITED
    assert inherited.driver_connection is driver  # neither invalidated nor handed back
    assert database.engine.pool.checkedout() == 2  # the inherited one is never checked in
    database.engine.dispose(close=False)  # as gunicorn's post_fork does
    assert [inherited] == db._INHERITED  # the one kept in the "child" is not closed either
    assert inherited.driver_connection is driver
    monkeypatch.setattr(db.os, "getpid", lambda: parent)
    inherited.invalidate()


def test_no_connection_is_kept_where_the_pool_could_run_short(tmp_path):
    """Each thread may hold a kept connection and a session's: a pool that cannot lend
    twice the threads keeps none, and every read hands its connection back."""
    url = f"sqlite:///{tmp_path / 'small.db'}"
    small = db.Database(make_engine(url, pool_size=3, max_overflow=4), threads=4)
    assert small.kept.limit == 0
    assert small.read(select(literal_column("1")), {}) == [(1,)]
    assert len(small.kept) == 0
    assert small.engine.pool.checkedout() == 0
    enough = db.Database(make_engine(url, pool_size=3, max_overflow=5), threads=4)
    unbounded = db.Database(make_engine(url, pool_size=1, max_overflow=-1), threads=4)
    in_memory = db.Database(make_engine("sqlite://"), threads=4)  # one shared connection
    assert (enough.kept.limit, unbounded.kept.limit, in_memory.kept.limit) == (4, 4, 0)
    for database in (small, enough, unbounded, in_memory):
        database.engine.dispose()
