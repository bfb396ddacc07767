from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from service.db import UTCDateTime, make_engine, new_id


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
