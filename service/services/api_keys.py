"""API keys: created with a role, shown once, stored as a hash, revoked by name."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.errors import Conflict, NotFound, RuleViolation
from service.models import ApiKey
from service.services.checks import refuse_unstorable
from service.services.pagination import Ordering, Page, paginate, strict_uuid

ROLES = ("reader", "annotator", "admin")
SECRET_PREFIX = "ask_"


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create(session: Session, name: str, role: str) -> NewKey:
    refuse_unstorable(name, "name")
    if role not in ROLES:
        raise RuleViolation(
            f"unknown role {role!r}", errors={"role": [f"must be one of {', '.join(ROLES)}"]}
        )
    if session.scalars(select(ApiKey.id).where(ApiKey.name == name)).first() is not None:
        raise Conflict(f"a key named {name!r} already exists; names are never reused")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, role=role, secret_hash=_hash(secret), created_at=utcnow())
    session.add(key)
    session.flush()
    return NewKey(key, secret)


def authenticate(session: Session, secret: str) -> ApiKey | None:
    """The live key with this secret, or None."""
    key = session.scalars(select(ApiKey).where(ApiKey.secret_hash == _hash(secret))).first()
    if key is None or key.revoked_at is not None:
        return None
    return key


ORDER_BY_ID = Ordering(columns=(ApiKey.id,), attributes=("id",), parsers=(strict_uuid,))


def list_all(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def list_page(session: Session, *, limit: int, cursor: str | None) -> Page[ApiKey]:
    return paginate(session, select(ApiKey), ORDER_BY_ID, limit=limit, cursor=cursor)


def get(session: Session, key_id: uuid.UUID) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"key {key_id} does not exist")
    return key


def find_by_name(session: Session, name: str) -> ApiKey:
    key = session.scalars(select(ApiKey).where(ApiKey.name == name)).first()
    if key is None:
        raise NotFound(f"no key is named {name!r}")
    return key


def revoke(session: Session, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
    return key
