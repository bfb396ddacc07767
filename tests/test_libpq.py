"""Hot reads on PostgreSQL through libpq itself (service.libpq): the same rows as
psycopg's cursor gives, its errors, and the cases it leaves to the cursor."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from psycopg import pq
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    Uuid,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError, OperationalError

from service import libpq, migrate
from service.db import PREPARED_ON_CONNECTION, Database, make_engine
from tests.conftest import scratch_database


def test_a_statement_numbers_its_parameters_in_order_of_first_use():
    statement = libpq.Statement(
        "SELECT %(b)s, %(a)s WHERE x = %(b)s AND y LIKE 'a%%' LIMIT %(limit)s"
    )
    assert statement.sql == b"SELECT $1, $2 WHERE x = $1 AND y LIKE 'a%' LIMIT $3"
    assert statement.names == ("b", "a", "limit")
    # Named by its text: the same on every connection and in every worker.
    assert (
        statement.name
        == libpq.Statement(
            "SELECT %(b)s, %(a)s WHERE x = %(b)s AND y LIKE 'a%%' LIMIT %(limit)s"
        ).name
    )
    assert statement.name != libpq.Statement("SELECT 1").name


@pytest.fixture
def database(tmp_path):
    with scratch_database(tmp_path) as url:
        if not url.startswith("postgresql"):
            pytest.skip("PostgreSQL only")
        engine = make_engine(url)
        migrate.upgrade(engine)
        yield Database(engine)
        engine.dispose()


EVERY_TYPE = select(
    cast(bindparam("flag", type_=Boolean), Boolean),
    cast(bindparam("small", type_=Integer), Integer),
    cast(bindparam("big", type_=BigInteger), BigInteger),
    cast(bindparam("real", type_=Float), Float),
    cast(bindparam("words", type_=Text), Text),
    cast(bindparam("short", type_=String), String(8)),
    bindparam("id", type_=Uuid),
    cast(literal(None), Text),
    cast(bindparam("at", type_=Text), DateTime(timezone=True)),
    cast(bindparam("document", type_=Text), JSONB),
)
VALUES = {
    "flag": True,
    "small": -7,
    "big": 2**62,
    "real": 0.30000000000000004,
    "words": 'é "quoted" \\ 🙂',
    "short": "",
    "id": uuid.UUID("01a21f8e-42a6-744f-80ee-dfc23c2fc3aa"),
    "at": "2026-11-28 01:02:03+00",
    "document": '{"a": [1, 2.5], "b": "é"}',
}


# A parameter libpq's path does not send (it sends text, ints, floats, bools, UUIDs).
AT = datetime(2026, 11, 28, 1, 2, 3, tzinfo=UTC)
BY_AT = select(bindparam("at", type_=DateTime(timezone=True)))
AT_SQL = libpq.Statement("SELECT %(at)s::timestamptz")


def _cursor_rows(database: Database, statement, values) -> list[tuple]:
    with database.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(statement, values)]


def test_reads_every_type_as_psycopg_s_cursor_does(database):
    rows = database.read(EVERY_TYPE, VALUES)
    assert rows == _cursor_rows(database, EVERY_TYPE, VALUES)
    assert rows[0][:2] == (True, -7)
    assert rows[0][3] == 0.30000000000000004
    assert rows[0][6] == VALUES["id"]
    assert rows[0][7] is None
    assert rows[0][8] == AT
    assert rows[0][9] == {"a": [1, 2.5], "b": "é"}
    # And through libpq indeed: prepared on the connection.
    with _reads_connection(database) as raw:
        assert database._prepared[EVERY_TYPE].libpq.name in raw.info[PREPARED_ON_CONNECTION]


def test_leaves_to_the_cursor_a_parameter_it_does_not_send(database):
    raw = database.engine.raw_connection()
    try:
        assert libpq.run(raw.driver_connection, AT_SQL, {"at": AT}, {}) is None
    finally:
        raw.close()
    assert database.read(BY_AT, {"at": AT}) == _cursor_rows(database, BY_AT, {"at": AT})
    assert database.read(BY_AT, {"at": AT})[0][0] == AT


def test_leaves_to_the_cursor_a_transaction_in_course_and_a_pooler(database):
    statement = libpq.Statement("SELECT 1")
    raw = database.engine.raw_connection()
    try:
        driver = raw.driver_connection
        driver.execute("SELECT 0")  # begins a transaction (autocommit is off)
        assert libpq.run(driver, statement, {}, {}) is None
        driver.rollback()
        assert libpq.run(driver, statement, {}, {}) == [(1,)]
        driver.prepare_threshold = None  # as for PgBouncer in transaction mode
        assert libpq.run(driver, statement, {}, {}) is None
    finally:
        raw.driver_connection.prepare_threshold = 5
        raw.close()


def test_lets_go_of_its_prepared_statements_past_a_bound_and_of_no_others(database, monkeypatch):
    monkeypatch.setattr(libpq, "PER_CONNECTION", 2)
    raw = database.engine.raw_connection()
    try:
        driver = raw.driver_connection
        driver.autocommit = True
        # psycopg prepares a statement run often enough: that one must stay.
        for _ in range(6):
            driver.execute("SELECT 41 + %s", (1,), prepare=True)
        prepared: dict = {}
        for k in range(5):
            statement = libpq.Statement(f"SELECT {k}")
            assert libpq.run(driver, statement, {}, prepared) == [(k,)]
            assert len(prepared) <= 2
        names = [row[0] for row in driver.execute("SELECT name FROM pg_prepared_statements")]
        assert len([name for name in names if name.startswith("store_")]) <= 2
        assert driver.execute("SELECT 41 + %s", (1,), prepare=True).fetchone() == (42,)
        assert len(names) > len([name for name in names if name.startswith("store_")])
    finally:
        raw.driver_connection.autocommit = False
        raw.close()


def test_lets_go_of_its_prepared_statements_on_a_pooled_connection(database, monkeypatch):
    """The pool's record of a connection holds more than these statements (the time it
    was returned, say): the bound counts, and lets go of, only the statements."""
    monkeypatch.setattr(libpq, "PER_CONNECTION", 2)
    assert database.read(select(literal_column("0::int8")), {}) == [(0,)]
    with _reads_connection(database) as raw:
        raw.info["returned"] = 0.0
    for k in range(1, 5):
        # The same connection each time, put back in between.
        assert database.read(select(literal_column(f"{k}::int8")), {}) == [(k,)]
    with _reads_connection(database) as raw:
        assert raw.info["returned"] == 0.0
        names = [
            row[0]
            for row in raw.driver_connection.execute("SELECT name FROM pg_prepared_statements")
        ]
        raw.driver_connection.rollback()
        assert 1 <= len([name for name in names if name.startswith("store_")]) <= 2


def test_prepares_again_what_a_rollback_let_go_of(database):
    """psycopg lets go of every prepared statement of its connection (DEALLOCATE ALL)
    when it rolls a transaction back, once it has prepared one of its own."""
    raw = database.engine.raw_connection()
    try:
        driver, prepared = raw.driver_connection, {}
        first, second = libpq.Statement("SELECT 1"), libpq.Statement("SELECT 2")
        assert libpq.run(driver, first, {}, prepared) == [(1,)]
        assert libpq.run(driver, second, {}, prepared) == [(2,)]
        driver.execute("SELECT %s", (3,), prepare=True)
        driver.rollback()
        names = [row[0] for row in driver.execute("SELECT name FROM pg_prepared_statements")]
        driver.rollback()
        assert not [name for name in names if name.startswith("store_")]
        assert libpq.run(driver, first, {}, prepared) == [(1,)]
        assert libpq.run(driver, second, {}, prepared) == [(2,)]
        # And where the record of them is lost but they are still there.
        prepared.clear()
        assert libpq.run(driver, first, {}, prepared) == [(1,)]
    finally:
        raw.close()


@contextmanager
def _reads_connection(database):
    """The connection the next read takes: the one kept since the last read."""
    raw, pool = database.kept.take()
    try:
        yield raw
    finally:
        database.kept.put_back(raw, pool)


def _end_the_reads_connection(database):
    """The server ends the connection the reads use; they cannot know."""
    with _reads_connection(database) as raw:
        pid = raw.driver_connection.info.backend_pid
    admin = make_engine(database.engine.url.render_as_string(False))
    with admin.connect() as connection:
        connection.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
    admin.dispose()


def test_errors_come_as_sqlalchemy_errors_and_a_dead_connection_is_replaced(database):
    statement = select(func.abs(bindparam("n", type_=BigInteger)))
    with pytest.raises(DBAPIError, match="out of range") as raised:
        database.read(statement, {"n": -(2**63)})
    assert not raised.value.connection_invalidated
    assert database.read(statement, {"n": -2}) == [(2,)]
    # The server ends the reads' connection: the next read fails (it cannot know), is
    # marked a disconnect, and the one after it works.
    _end_the_reads_connection(database)
    with pytest.raises(OperationalError) as raised:  # 503, as a lost connection is
        database.read(statement, {"n": -3})
    assert raised.value.connection_invalidated
    assert database.read(statement, {"n": -4}) == [(4,)]


SETTING = "SELECT current_setting(%(name)s)"
NOW = "SELECT now()::text"


def test_reads_together_in_one_read_only_repeatable_read_transaction(database):
    raw = database.engine.raw_connection()
    try:
        driver, prepared = raw.driver_connection, {}
        reads = [
            (libpq.Statement(NOW), {}),
            (libpq.Statement(SETTING), {"name": "transaction_isolation"}),
            (libpq.Statement(SETTING), {"name": "transaction_read_only"}),
            (libpq.Statement(NOW), {}),
        ]
        first, isolation, read_only, last = libpq.run_together(driver, reads, prepared)
        assert first == last  # the transaction's start: one transaction
        assert (isolation, read_only) == ([("repeatable read",)], [("on",)])
        assert driver.pgconn.transaction_status == pq.TransactionStatus.IDLE
        assert driver.pgconn.pipeline_status == pq.PipelineStatus.OFF
        # Then a statement on its own is no longer in it.
        alone = libpq.run(driver, reads[2][0], reads[2][1], prepared)
        assert alone == [("off",)]
    finally:
        raw.close()


def test_reads_together_prepare_again_what_a_rollback_let_go_of(database):
    raw = database.engine.raw_connection()
    try:
        driver, prepared = raw.driver_connection, {}
        reads = [(libpq.Statement("SELECT 1"), {}), (libpq.Statement("SELECT 2"), {})]
        assert libpq.run_together(driver, reads, prepared) == [[(1,)], [(2,)]]
        driver.execute("SELECT %s", (3,), prepare=True)
        driver.rollback()  # DEALLOCATE ALL
        assert libpq.run_together(driver, reads, prepared) == [[(1,)], [(2,)]]
    finally:
        raw.close()


def test_reads_together_leave_a_parameter_they_do_not_send_to_the_cursor(database):
    raw = database.engine.raw_connection()
    try:
        driver = raw.driver_connection
        reads = [(libpq.Statement("SELECT 1"), {}), (AT_SQL, {"at": AT})]
        assert libpq.run_together(driver, reads, {}) is None
        assert driver.pgconn.transaction_status == pq.TransactionStatus.IDLE
    finally:
        raw.close()
    (rows,) = database.read_together([(BY_AT, {"at": AT})])
    assert rows == _cursor_rows(database, BY_AT, {"at": AT})


def test_reads_together_on_a_dead_connection_fail_and_the_pool_replaces_it(database):
    statement = select(func.abs(bindparam("n", type_=BigInteger)))
    assert database.read_together([(statement, {"n": -1})]) == [[(1,)]]
    _end_the_reads_connection(database)
    with pytest.raises(OperationalError) as raised:
        database.read_together([(statement, {"n": -2}), (statement, {"n": -3})])
    assert raised.value.connection_invalidated
    assert database.read_together([(statement, {"n": -4})]) == [[(4,)]]
