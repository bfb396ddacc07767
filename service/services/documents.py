"""Documents: a text and its metadata."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Double,
    Select,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.orm import Session

from service.db import Read, utcnow
from service.errors import Conflict, NotFound, ReadOnlyField, RuleViolation
from service.formats import native
from service.models import Annotation, Document, Link
from service.services import history
from service.services.checks import lock_unchanged, refuse_unstorable
from service.services.pagination import Ordering, Page, paginate, strict_float, strict_uuid

# The fields a PATCH may change; the text changes only through a revision.
METADATA_FIELDS = ("external_id", "title", "source_url", "published_at", "language", "meta")

ORDER_BY_ID = Ordering(columns=(Document.id,), attributes=("id",), parsers=(strict_uuid,))


def get(session: Session, document_id: uuid.UUID, *, lock: str | None = None) -> Document:
    """The document; ``lock`` takes its row lock on PostgreSQL ("share" for writes that
    read its text, "update" to change the text), so that no annotation is checked
    against a text being replaced. SQLite's writers are serialised already."""
    document = session.get(
        Document,
        document_id,
        with_for_update=None if lock is None else {"read": lock == "share"},
    )
    if document is None:
        raise NotFound(f"document {document_id} does not exist")
    return document


_EXISTS = select(Document.id).where(Document.id == bindparam("document_id"))


def ensure_exists(read: Read, document_id: uuid.UUID) -> None:
    """404 unless the document exists; cheaper than loading its text."""
    if not read(_EXISTS, {"document_id": document_id}):
        raise NotFound(f"document {document_id} does not exist")


def find_by_external_id(
    session: Session, external_id: str, *, lock: str | None = None
) -> Document | None:
    """The document with this external_id; ``lock`` as for ``get``."""
    statement = select(Document).where(Document.external_id == external_id)
    if lock is not None:
        statement = statement.with_for_update(read=lock == "share")
    return session.scalars(statement).first()


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


def check_text(text: str, max_length: int | None) -> None:
    """A text a document may have: not empty, not too long, no NUL."""
    if not text:
        raise RuleViolation("a document needs a non-empty text", errors={"text": ["is empty"]})
    if max_length is not None and len(text) > max_length:
        raise RuleViolation(
            f"the text has {len(text)} code points; this store takes at most {max_length}",
            errors={"text": [f"longer than {max_length} code points"]},
        )
    refuse_unstorable(text, "text")


def create(
    session: Session, fields: Mapping[str, Any], *, actor: str, max_length: int | None = None
) -> Document:
    text: str = fields["text"]
    check_text(text, max_length)
    for name in METADATA_FIELDS:
        refuse_unstorable(fields.get(name), "metadata" if name == "meta" else name)
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
    for name in METADATA_FIELDS:
        refuse_unstorable(changes.get(name), "metadata" if name == "meta" else name)
    if "text" in changes and changes["text"] != document.text:
        raise ReadOnlyField(
            "PATCH changes a document's metadata only; change the text with PUT "
            f"/v1/documents/{document.id}/text, which keeps the earlier revision and "
            "carries the annotations over",
            errors={"text": ["cannot be changed by PATCH; PUT .../text"]},
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
    lock_unchanged(session, document)
    cause = history.record(
        session, "delete", "document", by=actor, before=native.document(document)
    )
    # What goes with it locked, in one order, and read as it is once changes commit.
    fresh = {"populate_existing": True}
    for link in session.scalars(
        select(Link).where(Link.document_id == document.id).order_by(Link.id).with_for_update(),
        execution_options=fresh,
    ):
        history.record(session, "delete", "link", by=actor, before=native.link(link), cause=cause)
    for annotation in session.scalars(
        select(Annotation)
        .where(Annotation.document_id == document.id)
        .order_by(Annotation.id)
        .with_for_update(),
        execution_options=fresh,
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


@dataclass(frozen=True)
class Search:
    """What a list of documents is narrowed to; every part is optional."""

    q: str | None = None  # words that must all occur in the title or text
    external_id: str | None = None
    published_after: datetime | None = None  # inclusive
    published_before: datetime | None = None  # inclusive

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.external_id is not None:
            conditions.append(Document.external_id == self.external_id)
        if self.published_after is not None:
            conditions.append(Document.published_at >= self.published_after)
        if self.published_before is not None:
            conditions.append(Document.published_at <= self.published_before)
        return conditions


def list_page(
    session: Session, search: Search, *, limit: int, cursor: str | None
) -> Page[Document]:
    """Documents in id order, or, with words to search for, best match first."""
    if not search.q:
        statement = select(Document).where(*search.conditions())
        return paginate(session, statement, ORDER_BY_ID, limit=limit, cursor=cursor)
    matching = _ranked(session, search.q)
    if matching is None:
        return Page([], None)
    ranked = matching.where(*search.conditions()).subquery()
    ordering = Ordering(
        columns=(ranked.c.rank, ranked.c.id),
        attributes=("rank", "id"),
        parsers=(strict_float, strict_uuid),
    )
    hits = paginate(
        session, select(ranked.c.rank, ranked.c.id), ordering, limit=limit, cursor=cursor, rows=True
    )
    found = {
        d.id: d
        for d in session.scalars(
            select(Document).where(Document.id.in_([h.id for h in hits.items]))
        )
    }
    return Page([found[h.id] for h in hits.items], hits.next_cursor)


def _ranked(session: Session, q: str) -> Select[uuid.UUID, float] | None:
    """ids and ranks (lower is better) of the documents matching every word of ``q``."""
    if session.get_bind().dialect.name == "postgresql":
        query = func.plainto_tsquery("simple", q)
        vector: ColumnElement[Any] = literal_column("documents.search_vector")
        # ts_rank is a float4, which does not survive the trip to a cursor and back;
        # as a float8 it does.
        rank: ColumnElement[float] = -cast(func.ts_rank(vector, query), Double())
        return select(Document.id.label("id"), rank.label("rank")).where(vector.op("@@")(query))
    words = re.findall(r"\w+", q)
    if not words:
        return None
    fts = table("documents_fts", column("rowid"))
    match = " ".join('"' + word + '"' for word in words)  # every word, taken literally
    return (
        select(
            Document.id.label("id"),
            func.bm25(literal_column("documents_fts"), 10.0, 1.0).label("rank"),
        )
        .select_from(fts.join(Document, literal_column("documents.rowid") == fts.c.rowid))
        .where(literal_column("documents_fts").op("MATCH")(match))
    )
