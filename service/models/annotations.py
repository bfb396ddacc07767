from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, JSONDocument, UTCDateTime, new_id, utcnow
from service.models import annotation_json


class Annotation(Base):
    """A span ``[start, end)`` of one document, in code points."""

    __tablename__ = "annotations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(128))
    # "start"/"end" are awkward SQL identifiers ("end" is reserved).
    start: Mapped[int] = mapped_column("start_offset", Integer)
    end: Mapped[int] = mapped_column("end_offset", Integer)
    # The document's slice, kept so lists and searches need not cut the text.
    text: Mapped[str] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    confidence: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="accepted")
    # How the span came through the last change of the text (see service.anchoring);
    # an orphan keeps its last span and text, which the current text no longer has.
    anchor: Mapped[str] = mapped_column(String(16), default="exact", server_default="exact")
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("start_offset >= 0 AND start_offset < end_offset", name="span_order"),
        CheckConstraint("status IN ('proposed', 'accepted', 'rejected')", name="status_vocabulary"),
        CheckConstraint(
            "anchor IN ('exact', 'shifted', 'fuzzy', 'orphaned')", name="anchor_vocabulary"
        ),
        # Lists are in (document_id, start, end, id) order (on SQLite, through the
        # index below).
        Index(
            "ix_annotations_document_span", "document_id", "start_offset", "end_offset", "id"
        ).ddl_if(dialect="postgresql"),
        Index("ix_annotations_document_end", "document_id", "end_offset"),
    )
    # SQLAlchemy bumps version on every UPDATE and adds "WHERE version = :loaded", so a
    # concurrent change makes the write fail instead of being lost.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (read by SQLAlchemy)


# The annotation's API form, which the database generates (service.models.
# annotation_json) and the lists send as it is. Added after the mapping, so as not to be
# mapped: the ORM never writes it (no statement can) nor reads it back.
_table = cast(Table, Annotation.__table__)
_table.append_column(Column("api_json", Text, annotation_json.Generated()))
# On SQLite, a VIRTUAL column's values are kept only in an index: this one, in list
# order, holds them and all else a list reads, and so a list reads nothing else.
Index(
    "ix_annotations_document_api_json",
    *(_table.c[name] for name in ("document_id", "start_offset", "end_offset", "id")),
    *(_table.c[name] for name in ("anchor", "confidence", "api_json")),
).ddl_if(dialect="sqlite")


class Link(Base):
    """A typed edge between two annotations of the same document."""

    __tablename__ = "links"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # Denormalised from the ends so that a document's links are one index range.
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("annotations.id", ondelete="CASCADE"), index=True
    )
    target_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("annotations.id", ondelete="CASCADE"), index=True
    )
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    # Whether an end is an orphaned annotation: the link is kept, and flagged.
    dangling: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("source_id <> target_id", name="distinct_ends"),
        UniqueConstraint("type", "source_id", "target_id"),
        Index("ix_links_document_id", "document_id", "id"),
    )
    # SQLAlchemy bumps version on every UPDATE and adds "WHERE version = :loaded", so a
    # concurrent change makes the write fail instead of being lost.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (read by SQLAlchemy)
