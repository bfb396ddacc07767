"""Columns selected as the database keeps them, as text: ids (32 hex digits on
SQLite, dashed on PostgreSQL), UTC timestamps as "YYYY-MM-DD HH:MM:SS.ffffff"
(PostgreSQL leaves out the fraction's trailing zeros), JSON objects as JSON text.
The hot lists (a document's annotations, the one-request bundle) read these and
finish them in formats.native without making UUID, datetime or dict objects per
row; a test holds the result equal to the presenters there."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

from sqlalchemy import JSON, Row, Select, Text, Uuid, cast, func, type_coerce
from sqlalchemy.orm import InstrumentedAttribute, Session

from service.db import UTCDateTime


def columns(session: Session, attributes: tuple[InstrumentedAttribute[Any], ...]) -> list[Any]:
    """Select expressions, labelled by attribute name, for the current database."""
    return columns_for(session.get_bind().dialect.name == "postgresql", attributes)


def rows_of_document(
    session: Session, statement_for: Callable[[bool], Select[Any]], document_id: uuid.UUID
) -> list[Row[Any]]:
    """The wire rows of one document: ``statement_for(postgresql)`` is the statement for
    the current database, built once, with a ``document_id`` parameter."""
    statement = statement_for(session.get_bind().dialect.name == "postgresql")
    return list(session.execute(statement, {"document_id": document_id}).all())


@cache
def columns_for(postgresql: bool, attributes: tuple[InstrumentedAttribute[Any], ...]) -> list[Any]:
    render = _postgresql if postgresql else _sqlite
    return [render(attribute).label(attribute.key) for attribute in attributes]


def _postgresql(attribute: InstrumentedAttribute[Any]) -> Any:
    kind = attribute.type
    if isinstance(kind, UTCDateTime):
        # "YYYY-MM-DD HH:MM:SS[.f...]" in UTC; cheaper than to_char's fixed form.
        return cast(func.timezone("UTC", attribute), Text)
    if isinstance(kind, Uuid | JSON):
        return cast(attribute, Text)
    return attribute


def _sqlite(attribute: InstrumentedAttribute[Any]) -> Any:
    if isinstance(attribute.type, Uuid | UTCDateTime | JSON):
        return type_coerce(attribute, Text)  # what SQLite holds, unconverted
    return attribute
