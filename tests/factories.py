"""Objects made through the services, bound to the test session."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.models import Annotation, Document, Link
from service.services import annotations, documents, links

TEXT = "Kim Jong-un met Vladimir Putin in Pyongyang. He said: “We are allies.”"


def make_document(session: Session, text: str = TEXT, **fields: Any) -> Document:
    return documents.create(session, {"text": text, **fields}, actor="test")


def make_annotation(
    session: Session,
    document: Document,
    quote: str | None = None,
    *,
    start: int | None = None,
    end: int | None = None,
    type: str = "entity",
    label: str = "PERSON",
    **fields: Any,
) -> Annotation:
    """Annotate ``quote`` (its first occurrence) or the span ``[start, end)``."""
    assert (quote is None) != (start is None), "give a quote or a span, not both"
    if quote is not None:
        start = document.text.index(quote)
        end = start + len(quote)
    assert start is not None
    assert end is not None
    return annotations.create(
        session,
        document,
        {"type": type, "label": label, "start": start, "end": end, **fields},
        actor="test",
    )


def make_link(session: Session, type: str, source: Annotation, target: Annotation) -> Link:
    return links.create(
        session, {"type": type, "source_id": source.id, "target_id": target.id}, actor="test"
    )
