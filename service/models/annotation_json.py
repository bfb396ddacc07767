"""Each annotation's API form, as the database writes it: the generated column
``annotations.api_json``, the JSON text of ``formats.native.annotation()`` (the same
members in the same order, the same values), so that the hot lists send what they read
without making a Python object per value. On SQLite all but ``confidence``, which is
null there: SQLite cannot write every double exactly (its printf and its text-to-real
conversion are off in the last digit now and then), so the reader writes a confidence
that is not null (``formats.native.json_array``). PostgreSQL writes it too.

The database computes it whenever a row is written, by any statement, so it cannot fall
behind the columns it is made of. SQLite keeps it VIRTUAL and stores it in the covering
index ``ix_annotations_document_api_json`` (an added column cannot be STORED there);
PostgreSQL keeps it STORED, through ``annotation_json()``, an IMMUTABLE function, as a
generated column may only call those. A change to either expression needs a migration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Computed
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import Text


def _sqlite_uuid(column: str) -> str:
    """SQLite keeps 32 hex digits; the API writes the dashed form."""
    return (
        f"substr({column}, 1, 8) || '-' || substr({column}, 9, 4) || '-' || "
        f"substr({column}, 13, 4) || '-' || substr({column}, 17, 4) || '-' || "
        f"substr({column}, 21)"
    )


def _sqlite_time(column: str) -> str:
    """ "YYYY-MM-DD HH:MM:SS.ffffff" in UTC as RFC 3339 with a Z, the fraction left out
    when it is zero, as datetime.isoformat() does."""
    return (
        f"CASE WHEN length({column}) = 19 OR {column} LIKE '%.000000' "
        f"THEN substr({column}, 1, 10) || 'T' || substr({column}, 12, 8) || 'Z' "
        f"ELSE substr({column}, 1, 10) || 'T' || substr({column}, 12) || "
        f"substr('000000', 1, 26 - length({column})) || 'Z' END"
    )


SQLITE = (
    "json_object("
    f"'id', {_sqlite_uuid('id')}, "
    f"'document_id', {_sqlite_uuid('document_id')}, "
    "'type', type, 'label', label, 'start', start_offset, 'end', end_offset, "
    "'text', text, 'attributes', json(attributes), "
    "'confidence', NULL, "
    "'status', status, 'anchor', anchor, 'created_by', created_by, "
    f"'created_at', {_sqlite_time('created_at')}, "
    f"'updated_at', {_sqlite_time('updated_at')}, "
    "'version', version)"
)

# to_json and to_char are STABLE, as their output may follow the session's settings:
# these functions use none that could (times are taken in UTC, the pattern has no locale
# part), and so may be declared IMMUTABLE. In PL/pgSQL, because a SQL function declared
# IMMUTABLE over STABLE ones is not inlined, and runs as a query of its own for every
# row (ten times slower). status and anchor are words of a vocabulary (CHECK
# constraints), with nothing to escape. Each version as its migration made it.
_MEMBERS = """'{"id":"' || id || '","document_id":"' || document_id
        || '","type":' || to_json(type) || ',"label":' || to_json(label)
        || ',"start":' || start_offset || ',"end":' || end_offset
        || ',"text":' || to_json(text) || ',"attributes":' || attributes
        || ',"confidence":' || CONFIDENCE || ',"status":"' || status
        || '","anchor":"' || anchor || '","created_by":' || to_json(created_by)
        || ',"created_at":"' || replace(
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            '.000000Z', 'Z')
        || '","updated_at":"' || replace(
            to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            '.000000Z', 'Z')
        || '","version":' || version || '}'"""


@dataclass(frozen=True)
class Version:
    """The function and the column's expression, as one migration made them."""

    create: str
    drop: str
    expression: str


# Migration 0006: the confidence null, written by the reader.
VERSION_1 = Version(
    create=f"""
CREATE OR REPLACE FUNCTION annotation_json(
    id uuid, document_id uuid, type text, label text, start_offset integer,
    end_offset integer, text text, attributes jsonb, status text, anchor text,
    created_by text, created_at timestamptz, updated_at timestamptz, version integer
) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    RETURN {_MEMBERS.replace("CONFIDENCE", "'null'")};
END
$$
""",
    drop="DROP FUNCTION IF EXISTS annotation_json("
    "uuid, uuid, text, text, integer, integer, text, jsonb, text, text, text, timestamptz, "
    "timestamptz, integer)",
    expression="annotation_json(id, document_id, type, label, start_offset, end_offset, "
    "text, attributes, status, anchor, created_by, created_at, updated_at, version)",
)
# Migration 0008: the confidence written too. A double's text follows the session's
# extra_float_digits; the function sets it to 1 for itself, with which PostgreSQL writes
# the shortest text that reads back as the same double (as Python's repr does), so that
# the function is IMMUTABLE in truth. ".0" is added to a whole number, as repr does,
# so that a JSON reader takes 0 and 1 for floats too.
VERSION_2 = Version(
    create=f"""
CREATE OR REPLACE FUNCTION annotation_json(
    id uuid, document_id uuid, type text, label text, start_offset integer,
    end_offset integer, text text, attributes jsonb, confidence double precision,
    status text, anchor text, created_by text, created_at timestamptz,
    updated_at timestamptz, version integer
) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET extra_float_digits = 1
AS $$
DECLARE
    written text := confidence::text;
BEGIN
    IF written ~ '^-?[0-9]+$' THEN
        written := written || '.0';
    END IF;
    RETURN {_MEMBERS.replace("CONFIDENCE", "coalesce(written, 'null')")};
END
$$
""",
    drop="DROP FUNCTION IF EXISTS annotation_json("
    "uuid, uuid, text, text, integer, integer, text, jsonb, double precision, text, text, "
    "text, timestamptz, timestamptz, integer)",
    expression="annotation_json(id, document_id, type, label, start_offset, end_offset, "
    "text, attributes, confidence, status, anchor, created_by, created_at, updated_at, "
    "version)",
)
POSTGRESQL = VERSION_2.expression


class _Expression(ColumnElement[str]):
    type = Text()
    inherit_cache = True


@compiles(_Expression, "sqlite")
def _sqlite_expression(_element: _Expression, _compiler: Any, **_kw: Any) -> str:
    return SQLITE


@compiles(_Expression, "postgresql")
def _postgresql_expression(_element: _Expression, _compiler: Any, **_kw: Any) -> str:
    return POSTGRESQL


class Generated(Computed):
    """``GENERATED ALWAYS AS (...)``: VIRTUAL on SQLite, STORED on PostgreSQL."""

    def __init__(self) -> None:
        super().__init__(_Expression())

    def _copy(self, *, target_table: Any = None, **kw: Any) -> Generated:
        # Table.to_metadata copies: a copy generates the same, by column name.
        return self._schema_item_copy(Generated())  # type: ignore[no-any-return]


@compiles(Generated, "sqlite")
def _sqlite_generated(element: Generated, compiler: Any, **_kw: Any) -> str:
    return f"GENERATED ALWAYS AS ({SQLITE}) VIRTUAL"


@compiles(Generated, "postgresql")
def _postgresql_generated(element: Generated, compiler: Any, **_kw: Any) -> str:
    return f"GENERATED ALWAYS AS ({POSTGRESQL}) STORED"
