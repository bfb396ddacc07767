"""Documents: a text and its metadata."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.errors import Conflict, NotFound, ReadOnlyField, RuleViolation
from service.formats import native
from service.models import Annotation, Document, Link
from service.services import history
from service.services.pagination import Ordering, Page, paginate, strict_uuid

# The fields a PATCH may change; the text changes only through a revision.
METADATA_FIELDS = ("external_id", "title", "source_url", "published_at", "language", "meta")

ORDER_BY_ID = Ordering(columns=(Document.id,), attributes=("id",), parsers=(strict_uuid,))


def get(session: Session, document_id: uuid.UUID) -> Document:
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound(f"document {document_id} does not exist")
    return document


def find_by_external_id(session: Session, external_id: str) -> Document | None:
    return session.scalars(select(Document).where(Document.external_id == external_id)).first()


def _ensure_external_id_free(
    session: Session, external_id: str | None, owner: uuid.UUID | None = None
) -> None:
    if external_id is None:
        return
    existing = find_by_external_id(session, external_id)
    if existing is not None and existing.id != owner:
        raise Conflict(
            f"external_id {external_id!r} is already used by document {existing.id}",
            existing_id=str(existing.id),
        )


def create(
    session: Session, fields: Mapping[str, Any], *, actor: str, max_length: int | None = None
) -> Document:
    text: str = fields["text"]
    if not text:
        raise RuleViolation("a document needs a non-empty text", errors={"text": ["is empty"]})
    if max_length is not None and len(text) > max_length:
        raise RuleViolation(
            f"the text has {len(text)} code points; this store takes at most {max_length}",
            errors={"text": [f"longer than {max_length} code points"]},
        )
    _ensure_external_id_free(session, fields.get("external_id"))
    now = utcnow()
    document = Document(
        text=text,
        length=len(text),
        meta=fields.get("meta") or {},
        created_at=now,
        updated_at=now,
        **{name: fields.get(name) for name in METADATA_FIELDS if name != "meta"},
    )
    session.add(document)
    session.flush()
    history.record(session, "create", "document", by=actor, after=native.document(document))
    return document


def update(
    session: Session, document: Document, changes: Mapping[str, Any], *, actor: str
) -> Document:
    if "text" in changes and changes["text"] != document.text:
        raise ReadOnlyField(
            "PATCH changes a document's metadata only; its text cannot be changed this way",
            errors={"text": ["cannot be changed by PATCH"]},
        )
    if "external_id" in changes:
        _ensure_external_id_free(session, changes["external_id"], owner=document.id)
    before = native.document(document)
    changed = False
    for name in METADATA_FIELDS:
        if name in changes:
            value = changes[name] if name != "meta" else (changes[name] or {})
            if getattr(document, name) != value:
                setattr(document, name, value)
                changed = True
    if changed:
        document.updated_at = utcnow()
        session.flush()
        history.record(
            session, "update", "document", by=actor, before=before, after=native.document(document)
        )
    return document


def delete(session: Session, document: Document, *, actor: str) -> None:
    """Delete a document; its annotations and links go with it (ON DELETE CASCADE),
    each recorded in the history as deleted by this deletion."""
    cause = history.record(
        session, "delete", "document", by=actor, before=native.document(document)
    )
    for link in session.scalars(select(Link).where(Link.document_id == document.id)):
        history.record(session, "delete", "link", by=actor, before=native.link(link), cause=cause)
    for annotation in session.scalars(
        select(Annotation).where(Annotation.document_id == document.id)
    ):
        history.record(
            session,
            "delete",
            "annotation",
            by=actor,
            before=native.annotation(annotation),
            cause=cause,
        )
    session.delete(document)
    session.flush()


def list_page(
    session: Session, *, external_id: str | None = None, limit: int, cursor: str | None
) -> Page[Document]:
    statement = select(Document)
    if external_id is not None:
        statement = statement.where(Document.external_id == external_id)
    return paginate(session, statement, ORDER_BY_ID, limit=limit, cursor=cursor)
