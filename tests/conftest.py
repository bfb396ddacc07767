"""Fixtures: one migrated database per session, SQLite by default or PostgreSQL when
TEST_DATABASE_URL is set (in a scratch schema that is dropped at the end), and one
rolled-back transaction per test."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import flask
import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from service import migrate
from service.app import create_app
from service.config import Settings
from service.db import make_engine


@contextmanager
def scratch_database(tmp_dir: Path) -> Iterator[str]:
    """The URL of an empty database that disappears afterwards."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_dir / f'{secrets.token_hex(4)}.db'}"
        return
    schema = f"test_{secrets.token_hex(6)}"
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(Settings.from_env({"DATABASE_URL": base}).database_url)
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with scratch_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


def _sessions(connection: Connection) -> sessionmaker[Session]:
    # The code under test commits; here a commit only releases a SAVEPOINT.
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    with _sessions(connection)() as session:
        yield session


@pytest.fixture
def make_app(database_url: str, connection: Connection) -> Callable[..., flask.Flask]:
    """An app with these settings, its sessions joined to the test's transaction."""

    def make(**overrides: Any) -> flask.Flask:
        app = create_app(
            Settings(**{"database_url": database_url, "auth_mode": "none", **overrides})
        )
        database = app.extensions["db"]
        database.engine.dispose()
        database.sessions = database.write_sessions = _sessions(connection)
        # Reads outside a transaction would not see the test's; tests/test_db.py tries
        # Database.read and read_together themselves on committed rows.
        database.read = lambda statement, parameters: list(
            connection.execute(statement, parameters).all()
        )
        database.read_together = lambda reads: [
            list(connection.execute(statement, parameters).all()) for statement, parameters in reads
        ]
        return app

    return make


@pytest.fixture
def app(make_app: Callable[..., flask.Flask]) -> flask.Flask:
    return make_app()


@pytest.fixture
def client(app: flask.Flask) -> flask.testing.FlaskClient:
    return app.test_client()
