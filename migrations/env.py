"""Alembic environment: migrates the connection it is handed, or DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context

from service import models  # noqa: F401  (registers the tables on Base.metadata)
from service.config import Settings
from service.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


# Full-text search lives outside the models (migration 0004): an FTS5 table and its
# shadow tables on SQLite, a generated tsvector column and its index on PostgreSQL.
SEARCH_OBJECTS = ("documents_fts", "search_vector", "ix_documents_search")


def objects_of(dialect: str):
    """What to compare: not search, nor what the models make on another database only
    (``.ddl_if(dialect=...)``)."""

    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        only_on = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
        if not reflected and only_on is not None and only_on != dialect:
            return False
        return not (name or "").startswith(SEARCH_OBJECTS)

    return include_object


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=objects_of(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or Settings.from_env(os.environ).database_url
    engine = make_engine(url)
    with engine.connect() as new_connection:
        run(new_connection)
        new_connection.commit()
    engine.dispose()
