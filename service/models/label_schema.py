from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, JSONDocument, UTCDateTime, utcnow


class LabelSchema(Base):
    """One version of the label schema; the highest version is the one in force.

    Earlier versions are kept so that a change can be explained afterwards."""

    __tablename__ = "label_schemas"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    annotation_types: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    link_types: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
