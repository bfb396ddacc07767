"""Exports: documents with their annotations and links, in their wire forms, one
document at a time, so that a corpus can be streamed in bounded memory."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.formats import native
from service.formats.exchange import Exported
from service.models import Annotation, Document, Link
from service.services import documents

ORPHANED = "orphaned"
CHUNK = 100  # documents read per query while streaming a corpus


def exported(session: Session, document: Document) -> Exported:
    """A document with its annotations and links. Orphaned annotations, which have no
    place in the current text, and the links to them are left out: every format
    anchors spans in the text."""
    annotations = session.scalars(
        select(Annotation)
        .where(Annotation.document_id == document.id, Annotation.anchor != ORPHANED)
        .order_by(Annotation.start, Annotation.end, Annotation.id)
    )
    links = session.scalars(
        select(Link).where(Link.document_id == document.id, ~Link.dangling).order_by(Link.id)
    )
    return Exported(
        native.document(document),
        [native.annotation(a) for a in annotations],
        [native.link(link) for link in links],
    )


def corpus(session: Session, search: documents.Search) -> Iterator[Exported]:
    """Every document the search selects, in its order, read CHUNK at a time."""
    cursor = None
    while True:
        page = documents.list_page(session, search, limit=CHUNK, cursor=cursor)
        for document in page.items:
            yield exported(session, document)
        session.expunge_all()  # what was streamed need not stay in memory
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
