from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, JSONDocument, UTCDateTime


class DocumentRevision(Base):
    """One revision of a document's text. The current revision's text lives in
    ``documents`` only (``text`` is null here); a superseded one keeps its own."""

    __tablename__ = "document_revisions"

    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    length: Mapped[int] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(255))
    # What re-anchoring did when this revision replaced the one before: counts per
    # anchor status and the orphans' ids. Null for the first revision.
    anchoring: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)


class AnnotationSpan(Base):
    """Where an annotation was in a superseded revision of its document's text."""

    __tablename__ = "annotation_spans"

    annotation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("annotations.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    start: Mapped[int] = mapped_column("start_offset", Integer)
    end: Mapped[int] = mapped_column("end_offset", Integer)
    text: Mapped[str] = mapped_column(Text)
    anchor: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        Index(
            "ix_annotation_spans_document_revision",
            "document_id",
            "revision",
            "start_offset",
            "end_offset",
            "annotation_id",
        ),
    )
