from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, JSONDocument, UTCDateTime


class IdempotencyRecord(Base):
    """The response to a POST made with an Idempotency-Key, written in the same
    transaction as what the POST wrote, so that a retry replays it instead of
    writing again."""

    __tablename__ = "idempotency_records"

    # Keys are the caller's: two callers may use the same key independently.
    identity: Mapped[str] = mapped_column(String(255), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_idempotency_records_expires_at", "expires_at"),)
