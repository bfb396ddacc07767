"""Idempotency records: the response to a POST sent with an Idempotency-Key, kept for a
while so that a retry gets the same answer without writing again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from service.db import utcnow
from service.models import IdempotencyRecord


@dataclass(frozen=True)
class StoredResponse:
    request_hash: str
    status: int
    body: str
    headers: dict[str, Any]


def find(session: Session, identity: str, key: str) -> StoredResponse | None:
    """The live record for this key, if any; an expired one is removed."""
    record = session.get(IdempotencyRecord, (identity, key))
    if record is None:
        return None
    if record.expires_at <= utcnow():
        session.delete(record)
        session.flush()
        return None
    return StoredResponse(record.request_hash, record.status, record.body, dict(record.headers))


def store(
    session: Session,
    identity: str,
    key: str,
    response: StoredResponse,
    *,
    ttl: timedelta,
) -> None:
    """Add the record to the session's transaction: it commits with what the request
    wrote, or not at all. Flushes, so that a concurrent request with the same key makes
    this raise IntegrityError (after waiting for that request to commit)."""
    now = utcnow()
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now))
    session.add(
        IdempotencyRecord(
            identity=identity,
            key=key,
            request_hash=response.request_hash,
            status=response.status,
            body=response.body,
            headers=response.headers,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    session.flush()
