from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, JSONDocument, UTCDateTime, new_id, utcnow


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    external_id: Mapped[str | None] = mapped_column(String(512), unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    # Length in Unicode code points, the unit of every offset.
    length: Mapped[int] = mapped_column(Integer)
    source_url: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    language: Mapped[str | None] = mapped_column(String(35))
    # "metadata" is reserved by SQLAlchemy's declarative base; the column keeps the wire name.
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONDocument, default=dict)
    # The text's revision: 1 as created, one more on every PUT of the text.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("length > 0", name="text_not_empty"),)
    # SQLAlchemy bumps version on every UPDATE and adds "WHERE version = :loaded", so a
    # concurrent change makes the write fail instead of being lost.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (read by SQLAlchemy)
