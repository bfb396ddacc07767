from __future__ import annotations

import fcntl
import os
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from service import migrate
from service.app import create_app
from service.config import Settings
from service.db import UTCDateTime, insert_rows, make_engine, new_id
from service.models import Annotation
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
