from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, JSONDocument, UTCDateTime, utcnow

# SQLite needs INTEGER (not BIGINT) for an autoincrementing rowid primary key.
Sequence = BigInteger().with_variant(Integer(), "sqlite")


class Change(Base):
    """One create, update, delete or restore of a resource: the history of every
    resource and, in ``seq`` order, the change feed."""

    __tablename__ = "changes"

    # Never reused (AUTOINCREMENT on SQLite), and assigned in commit order (see
    # services.history), so a feed cursor can never skip a change.
    seq: Mapped[int] = mapped_column(Sequence, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(16))
    resource: Mapped[str] = mapped_column(String(16))
    resource_id: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by: Mapped[str] = mapped_column(String(255))
    request_id: Mapped[str | None] = mapped_column(String(128))
    # The change that caused this one (an annotation's deletion deleting its links).
    caused_by: Mapped[int | None] = mapped_column(Sequence)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)

    __table_args__ = (
        Index("ix_changes_resource", "resource", "resource_id", "seq"),
        Index("ix_changes_document", "document_id", "seq"),
        Index("ix_changes_caused_by", "caused_by"),
        {"sqlite_autoincrement": True},
    )
