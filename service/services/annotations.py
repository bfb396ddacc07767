"""Annotations: spans of a document, in Unicode code points, half-open."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.db import insert_as_is, utcnow
from service.errors import Conflict, InvalidLabel, InvalidLink, InvalidSpan, NotFound
from service.formats import native
from service.models import Annotation, Document, Link
from service.services import history, label_schema, links
from service.services.pagination import Ordering, Page, paginate, strict_int, strict_uuid

SPAN_ORDER = Ordering(
    columns=(Annotation.start, Annotation.end, Annotation.id),
    attributes=("start", "end", "id"),
    parsers=(strict_int, strict_int, strict_uuid),
)

EDITABLE_FIELDS = ("type", "label", "start", "end", "attributes", "confidence", "status")


def get(session: Session, annotation_id: uuid.UUID) -> Annotation:
    annotation = session.get(Annotation, annotation_id)
    if annotation is None:
        raise NotFound(f"annotation {annotation_id} does not exist")
    return annotation


def span_text(document: Document, start: int, end: int, claimed: str | None) -> str:
    """The document's slice ``[start, end)``, after checking the span and any text the
    client claims is there."""
    if start < 0:
        raise InvalidSpan(f"start {start} is negative", errors={"start": ["must be >= 0"]})
    if end <= start:
        raise InvalidSpan(
            f"the span [{start}, {end}) is empty or reversed; end must be greater than start",
            errors={"end": [f"must be greater than start ({start})"]},
        )
    if end > document.length:
        raise InvalidSpan(
            f"end {end} is beyond the end of the document ({document.length} code points)",
            errors={"end": [f"must be <= {document.length}, the document's length"]},
        )
    text = document.text[start:end]
    if claimed is not None and claimed != text:
        raise InvalidSpan(
            f"the text sent ({claimed!r}) is not the document's text at [{start}, {end}) "
            f"({text!r})",
            errors={"text": [f"expected {text!r}, got {claimed!r}"]},
            expected_text=text,
            given_text=claimed,
        )
    return text


def _check_label(rules: label_schema.Rules, annotation_type: str, label: str) -> None:
    refusal = rules.label_refusal(annotation_type, label)
    if refusal:
        raise InvalidLabel(next(iter(refusal.values()))[0], errors=refusal)


def create(
    session: Session, document: Document, fields: Mapping[str, Any], *, actor: str
) -> Annotation:
    _check_label(label_schema.current_rules(session), fields["type"], fields["label"])
    text = span_text(document, fields["start"], fields["end"], fields.get("text"))
    now = utcnow()
    annotation = Annotation(
        document_id=document.id,
        type=fields["type"],
        label=fields["label"],
        start=fields["start"],
        end=fields["end"],
        text=text,
        attributes=fields.get("attributes") or {},
        confidence=fields.get("confidence"),
        status=fields.get("status") or "accepted",
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(annotation)
    session.flush()
    history.record(session, "create", "annotation", by=actor, after=native.annotation(annotation))
    return annotation


def update(
    session: Session, annotation: Annotation, changes: Mapping[str, Any], *, actor: str
) -> Annotation:
    new = {name: changes.get(name, getattr(annotation, name)) for name in EDITABLE_FIELDS}
    if new["attributes"] is None:
        new["attributes"] = {}
    if new["status"] is None:
        new["status"] = "accepted"
    rules = label_schema.current_rules(session)
    if (new["type"], new["label"]) != (annotation.type, annotation.label):
        _check_label(rules, new["type"], new["label"])
        _check_links_still_fit(session, rules, annotation, new["type"], new["label"])
    if "start" in changes or "end" in changes or "text" in changes:
        document = session.get_one(Document, annotation.document_id)
        new["text"] = span_text(document, new["start"], new["end"], changes.get("text"))
    before = native.annotation(annotation)
    changed = False
    for name, value in new.items():
        if getattr(annotation, name) != value:
            setattr(annotation, name, value)
            changed = True
    if changed:
        annotation.updated_at = utcnow()
        session.flush()
        history.record(
            session,
            "update",
            "annotation",
            by=actor,
            before=before,
            after=native.annotation(annotation),
        )
    return annotation


def _check_links_still_fit(
    session: Session,
    rules: label_schema.Rules,
    annotation: Annotation,
    new_type: str,
    new_label: str,
) -> None:
    """A relabelled annotation must still fit every link it is an end of."""
    refusals: list[str] = []
    for link in session.scalars(
        select(Link)
        .where(or_(Link.source_id == annotation.id, Link.target_id == annotation.id))
        .order_by(Link.id)
    ):
        rule = rules.link_types.get(link.type)
        if rule is None:
            continue
        end_rule = rule.source if link.source_id == annotation.id else rule.target
        refusal = end_rule.refusal(new_type, new_label)
        if refusal:
            refusals.append(f"link {link.id} ({link.type}): this end {refusal}")
    if refusals:
        raise InvalidLink(
            "the new type or label does not fit the links of this annotation; "
            "delete or change those links first",
            errors={"label": refusals},
        )


def delete(session: Session, annotation: Annotation, *, actor: str) -> None:
    """Delete an annotation; its links go with it (ON DELETE CASCADE), recorded as
    deleted by this deletion so that a restore can bring them back."""
    cause = history.record(
        session, "delete", "annotation", by=actor, before=native.annotation(annotation)
    )
    for link in session.scalars(
        select(Link).where(or_(Link.source_id == annotation.id, Link.target_id == annotation.id))
    ):
        history.record(session, "delete", "link", by=actor, before=native.link(link), cause=cause)
    session.delete(annotation)
    session.flush()


def restore(
    session: Session, annotation_id: uuid.UUID, *, actor: str
) -> tuple[Annotation, list[Link]]:
    """Bring back a deleted annotation as it was (its version goes on counting), and the
    links its deletion removed whose other end still exists."""
    if session.get(Annotation, annotation_id) is not None:
        raise Conflict(f"annotation {annotation_id} exists; only a deleted one can be restored")
    deletion = history.last_of(session, "annotation", annotation_id)
    if deletion is None or deletion.action != "delete" or deletion.before is None:
        raise NotFound(f"annotation {annotation_id} has no deletion in its history to undo")
    values = native.annotation_values(deletion.before)
    document = session.get(Document, values["document_id"])
    if document is None:
        raise Conflict(
            f"annotation {annotation_id} cannot be restored: its document "
            f"{values['document_id']} was deleted"
        )
    refusal = label_schema.current_rules(session).label_refusal(values["type"], values["label"])
    if refusal:
        raise Conflict(
            f"annotation {annotation_id} cannot be restored: {next(iter(refusal.values()))[0]}"
        )
    if document.text[values["start"] : values["end"]] != values["text"]:
        raise Conflict(
            f"annotation {annotation_id} cannot be restored: the document's text at "
            f"[{values['start']}, {values['end']}) is no longer {values['text']!r}"
        )
    insert_as_is(
        session, Annotation, {**values, "version": values["version"] + 1, "updated_at": utcnow()}
    )
    annotation = session.get_one(Annotation, annotation_id)
    cause = history.record(
        session, "restore", "annotation", by=actor, after=native.annotation(annotation)
    )
    return annotation, links.restore_removed_by(session, deletion, actor=actor, cause=cause)


def list_for_document(
    session: Session, document: Document, *, limit: int, cursor: str | None
) -> Page[Annotation]:
    statement = select(Annotation).where(Annotation.document_id == document.id)
    return paginate(session, statement, SPAN_ORDER, limit=limit, cursor=cursor)
