"""Revisions of a document's text, and its annotations carried through each change.

A new text is stored as a new revision in one transaction with everything it moves:
every annotation is placed in the new text (service.anchoring) and gets its anchor
status; where each annotation was in the old revision is kept (``annotation_spans``)
with the old text (``document_revisions``), so the document and its annotations can
be read as they were. Orphans keep their last span and text; links to them are kept
and flagged ``dangling``. Every annotation and link that changes is in the history.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Integer, Row, Table, bindparam, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from service import anchoring
from service.db import utcnow
from service.errors import NotFound
from service.formats import native
from service.models import Annotation, AnnotationSpan, Document, DocumentRevision, Link
from service.services import documents, history, wire
from service.services.annotations import ORPHANED, WIRE_ATTRIBUTES, Filter
from service.services.links import WIRE_ATTRIBUTES as LINK_WIRE_ATTRIBUTES
from service.services.pagination import Ordering, Page, paginate, strict_int, strict_uuid

STATUSES = ("exact", "shifted", "fuzzy", "orphaned")
BY_REVISION = Ordering(
    columns=(DocumentRevision.revision,), attributes=("revision",), parsers=(strict_int,)
)
ANNOTATIONS = cast(Table, Annotation.__table__)
LINKS = cast(Table, Link.__table__)


@dataclass
class Revised:
    """What storing a new text did."""

    document: Document
    changed: bool
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    orphaned_ids: list[str] = field(default_factory=list)
    moved: int = 0
    dangling_links: int = 0

    def report(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "orphaned_ids": self.orphaned_ids,
            "moved": self.moved,
            "dangling_links": self.dangling_links,
        }


def replace_text(
    session: Session, document: Document, text: str, *, actor: str, max_length: int | None
) -> Revised:
    """Store ``text`` as the document's next revision and carry its annotations over.
    The same text again changes nothing."""
    documents.check_text(text, max_length)
    if text == document.text:
        return Revised(document, changed=False)
    old_text, old_revision, now = document.text, document.revision, utcnow()
    # Wire rows (services.wire): the history needs every annotation that moves in its
    # wire form, and these give it without building ids, times and dicts per row.
    # Locked (PostgreSQL): an annotation edited or deleted meanwhile is read as it is
    # once that commits, and one edited after waits and then finds its version stale.
    rows = list(
        session.execute(
            select(*wire.columns(session, WIRE_ATTRIBUTES))
            .where(Annotation.document_id == document.id)
            .order_by(Annotation.start, Annotation.end, Annotation.id)
            .with_for_update()
        ).all()
    )
    placed = [row for row in rows if row.anchor != ORPHANED]
    placements = anchoring.reanchor(
        old_text, text, [anchoring.Span(row.start, row.end, row.text) for row in placed]
    )
    revised = Revised(document, changed=True)
    revised.counts["orphaned"] = len(rows) - len(placed)  # orphans stay orphans
    _keep_old_spans(session, document, old_revision)
    revised.moved = _move_annotations(session, placed, placements, revised, actor=actor, now=now)
    revised.counts["orphaned"] += len(revised.orphaned_ids)
    revised.dangling_links = _flag_links(session, revised.orphaned_ids, actor=actor, now=now)
    _keep_old_text(session, document, old_text, now=now)

    before = native.document(document)
    document.text, document.length = text, len(text)
    document.revision = old_revision + 1
    document.updated_at = now
    session.add(
        DocumentRevision(
            document_id=document.id,
            revision=document.revision,
            length=document.length,
            text=None,
            created_at=now,
            created_by=actor,
            anchoring=revised.report(),
        )
    )
    session.flush()
    history.record(
        session, "update", "document", by=actor, before=before, after=native.document(document)
    )
    return revised


def _keep_old_spans(session: Session, document: Document, revision: int) -> None:
    """Where every annotation is in the revision being superseded, copied by the
    database itself (INSERT ... SELECT) before anything moves."""
    spans = cast(Table, AnnotationSpan.__table__)
    session.execute(
        insert(spans).from_select(
            [
                "annotation_id",
                "revision",
                "document_id",
                "start_offset",
                "end_offset",
                "text",
                "anchor",
            ],
            select(
                ANNOTATIONS.c.id,
                literal(revision, Integer),
                ANNOTATIONS.c.document_id,
                ANNOTATIONS.c.start_offset,
                ANNOTATIONS.c.end_offset,
                ANNOTATIONS.c.text,
                ANNOTATIONS.c.anchor,
            ).where(ANNOTATIONS.c.document_id == document.id),
        )
    )


def _move_annotations(
    session: Session,
    rows: list[Row[Any]],
    placements: list[anchoring.Placement],
    revised: Revised,
    *,
    actor: str,
    now: Any,
) -> int:
    """Give each annotation (wire rows) its new place and status; returns how many
    changed."""
    changes = []
    stamp = native.timestamp(now)
    for row, placement in zip(rows, placements, strict=True):
        after = (placement.start, placement.end, placement.text, placement.status)
        if after == (row.start, row.end, row.text, row.anchor):
            revised.counts[placement.status] += 1
            continue
        before = native.annotation_from_wire(row)
        if placement.status == ORPHANED:
            revised.orphaned_ids.append(before["id"])
        else:
            revised.counts[placement.status] += 1
        changes.append(
            {
                "b_id": uuid.UUID(row.id),
                "b_version": row.version,
                "b_start": placement.start,
                "b_end": placement.end,
                "b_text": placement.text,
                "b_anchor": placement.status,
            }
        )
        history.record(
            session,
            "update",
            "annotation",
            by=actor,
            before=before,
            after={
                **before,
                "start": placement.start,
                "end": placement.end,
                "text": placement.text,
                "anchor": placement.status,
                "updated_at": stamp,
                "version": row.version + 1,
            },
        )
    if changes:
        session.execute(
            update(ANNOTATIONS)
            .where(
                ANNOTATIONS.c.id == bindparam("b_id"),
                ANNOTATIONS.c.version == bindparam("b_version"),
            )
            .values(
                start_offset=bindparam("b_start"),
                end_offset=bindparam("b_end"),
                text=bindparam("b_text"),
                anchor=bindparam("b_anchor"),
                version=ANNOTATIONS.c.version + 1,
                updated_at=now,
            ),
            changes,
            execution_options={"synchronize_session": False},
        )
    return len(changes)


def _flag_links(session: Session, orphaned_ids: list[str], *, actor: str, now: Any) -> int:
    """Flag the links that now have an orphaned end; returns how many were flagged."""
    if not orphaned_ids:
        return 0
    ids = [uuid.UUID(i) for i in orphaned_ids]
    flagged = session.execute(
        select(*LINK_WIRE_ATTRIBUTES).where(
            or_(Link.source_id.in_(ids), Link.target_id.in_(ids)), ~Link.dangling
        )
    ).all()
    for row in flagged:
        before = native.link(row)
        history.record(
            session,
            "update",
            "link",
            by=actor,
            before=before,
            after={
                **before,
                "dangling": True,
                "updated_at": native.timestamp(now),
                "version": row.version + 1,
            },
        )
    if flagged:
        session.execute(
            update(LINKS)
            .where(LINKS.c.id == bindparam("b_id"))
            .values(dangling=True, version=LINKS.c.version + 1, updated_at=now),
            [{"b_id": row.id} for row in flagged],
            execution_options={"synchronize_session": False},
        )
    return len(flagged)


def _keep_old_text(session: Session, document: Document, text: str, *, now: Any) -> None:
    """The superseded revision keeps its text; the first revision gets its row now."""
    current = session.get(DocumentRevision, (document.id, document.revision))
    if current is None:
        session.add(
            DocumentRevision(
                document_id=document.id,
                revision=document.revision,
                length=len(text),
                text=text,
                created_at=document.created_at,
                created_by=_creator(session, document),
            )
        )
    else:
        current.text = text


def _creator(session: Session, document: Document) -> str:
    """Who created the document, from its history."""
    created = history.first_of(session, "document", document.id)
    return created.by if created is not None else "unknown"


# --- reading earlier revisions ---------------------------------------------------------


@dataclass(frozen=True)
class RevisionInfo:
    revision: int
    length: int
    created_at: Any
    created_by: str
    current: bool
    anchoring: dict[str, Any] | None


def list_page(
    session: Session, document: Document, *, limit: int, cursor: str | None
) -> Page[RevisionInfo]:
    """The document's revisions, oldest first."""
    found = paginate(
        session,
        select(DocumentRevision).where(DocumentRevision.document_id == document.id),
        BY_REVISION,
        limit=limit,
        cursor=cursor,
    )
    items = [_info(document, stored) for stored in found.items]
    if document.revision == 1 and not cursor and not items:
        # Never revised: its one revision has no row of its own.
        items = [
            RevisionInfo(
                1, document.length, document.created_at, _creator(session, document), True, None
            )
        ]
    return Page(items, found.next_cursor)


def _info(document: Document, stored: DocumentRevision) -> RevisionInfo:
    return RevisionInfo(
        stored.revision,
        stored.length,
        stored.created_at,
        stored.created_by,
        stored.revision == document.revision,
        stored.anchoring,
    )


def text_at(session: Session, document: Document, revision: int) -> str:
    """The document's text at ``revision`` (404 if it never had one)."""
    if revision == document.revision:
        return document.text
    stored = session.get(DocumentRevision, (document.id, revision))
    if stored is None or stored.text is None:
        raise NotFound(
            f"document {document.id} has no revision {revision}; its revisions are 1 to "
            f"{document.revision}",
            errors={"revision": [f"must be between 1 and {document.revision}"]},
        )
    return stored.text


def document_at(session: Session, document: Document, revision: int) -> dict[str, Any]:
    """The document's wire form with the text of an earlier revision."""
    text = text_at(session, document, revision)
    return {**native.document(document), "text": text, "length": len(text), "revision": revision}


def annotations_at(
    session: Session, document: Document, revision: int, *, anchor: str | None
) -> list[dict[str, Any]]:
    """The document's annotations with their spans as they were at ``revision``: those
    that existed then and exist still, in span order."""
    text_at(session, document, revision)  # 404 for a revision it never had
    span = AnnotationSpan
    columns = [
        *(c for c in wire.columns(session, WIRE_ATTRIBUTES) if c.key not in SPAN_KEYS),
        span.start.label("start"),
        span.end.label("end"),
        span.text.label("text"),
        span.anchor.label("anchor"),
    ]
    statement = (
        select(*columns)
        .join(span, span.annotation_id == Annotation.id)
        .where(span.document_id == document.id, span.revision == revision)
        .order_by(span.start, span.end, span.annotation_id)
    )
    if anchor is None:
        statement = statement.where(span.anchor != ORPHANED)
    else:
        statement = statement.where(span.anchor == anchor)
    items = []
    for row in session.execute(statement).mappings():
        ordered = [row[attribute.key] for attribute in WIRE_ATTRIBUTES]
        items.append(native.annotation_from_wire(ordered))
    return items


SPAN_KEYS = frozenset({"start", "end", "text", "anchor"})

# Pages of an earlier revision are cut from the whole list in (start, end, id) order.
AT_REVISION = Ordering(
    columns=(AnnotationSpan.start, AnnotationSpan.end, AnnotationSpan.annotation_id),
    attributes=("start", "end", "id"),
    parsers=(strict_int, strict_int, strict_uuid),
)


def query_at(
    session: Session,
    document: Document,
    revision: int,
    narrowed: Filter,
    *,
    limit: int,
    cursor: str | None,
) -> Page[dict[str, Any]]:
    """A page of the annotations of an earlier revision that the filter selects."""
    items = [
        item
        for item in annotations_at(session, document, revision, anchor=narrowed.anchor)
        if _selects(narrowed, item)
    ]
    if cursor:
        after = AT_REVISION.parse(cursor)
        items = [i for i in items if (i["start"], i["end"], uuid.UUID(i["id"])) > after]
    if len(items) > limit:
        last = items[limit - 1]
        return Page(
            items[:limit], AT_REVISION.cursor_for_key([last["start"], last["end"], last["id"]])
        )
    return Page(items, None)


def _selects(narrowed: Filter, item: dict[str, Any]) -> bool:
    """Whether the filter selects an annotation (its wire form); the same tests as
    services.annotations.CONDITIONS."""
    start, end = item["start"], item["end"]
    checks = (
        narrowed.type is None or item["type"] == narrowed.type,
        not narrowed.labels or item["label"] in narrowed.labels,
        narrowed.status is None or item["status"] == narrowed.status,
        narrowed.created_by is None or item["created_by"] == narrowed.created_by,
        narrowed.overlaps is None or (end > narrowed.overlaps[0] and start < narrowed.overlaps[1]),
        narrowed.within is None or (start >= narrowed.within[0] and end <= narrowed.within[1]),
        narrowed.at is None or start <= narrowed.at < end,
        narrowed.q is None or narrowed.q.lower() in item["text"].lower(),
    )
    return all(checks)
