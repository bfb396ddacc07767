from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

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
