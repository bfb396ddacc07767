"""Annotations: spans of a document, in Unicode code points, half-open."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, cast

import orjson
from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from service.db import Read, insert_as_is, utcnow
from service.errors import (
    Conflict,
    InvalidLabel,
    InvalidLink,
    InvalidSpan,
    NotFound,
    RuleViolation,
)
from service.formats import native
from service.models import Annotation, Document, Link
from service.services import history, label_schema, links, wire
from service.services.checks import lock_unchanged, refuse_unstorable
from service.services.pagination import (
    Ordering,
    Page,
    page_of,
    strict_int,
    strict_uuid,
)

# Every attribute of the wire form; lists select them as wire columns (services.wire).
WIRE_ATTRIBUTES = (
    Annotation.id,
    Annotation.document_id,
    Annotation.type,
    Annotation.label,
    Annotation.start,
    Annotation.end,
    Annotation.text,
    Annotation.attributes,
    Annotation.confidence,
    Annotation.status,
    Annotation.created_by,
    Annotation.created_at,
    Annotation.updated_at,
    Annotation.version,
    Annotation.anchor,
)
# Lists are in (document_id, start, end, id) order, which the index
# ix_annotations_document_span serves directly; their rows are wire rows.
_SPAN_KEY = (Annotation.document_id, Annotation.start, Annotation.end, Annotation.id)
SPAN_ORDER = Ordering(
    columns=_SPAN_KEY,
    attributes=tuple(column.key for column in _SPAN_KEY),
    parsers=(strict_uuid, strict_int, strict_int, strict_uuid),
    positions=tuple(
        [attribute.key for attribute in WIRE_ATTRIBUTES].index(column.key) for column in _SPAN_KEY
    ),
)


def api_json(postgresql: bool) -> tuple[Any, ...]:
    """The database's JSON text of each annotation's API form (models.annotation_json),
    and on SQLite, which leaves the confidence null there, the confidence: what the
    lists that need nothing else read (``native.json_array``)."""
    column = cast(Table, Annotation.__table__).c.api_json
    return (column,) if postgresql else (column, Annotation.confidence)


def _key_of_json(row: Sequence[Any]) -> list[Any]:
    item = orjson.loads(row[0])
    return [item["document_id"], item["start"], item["end"], item["id"]]


JSON_SPAN_ORDER = replace(SPAN_ORDER, positions=None, read_key=_key_of_json)


@dataclass(frozen=True)
class Filter:
    """What a list of annotations is narrowed to; every part is optional."""

    document_id: uuid.UUID | None = None
    type: str | None = None
    labels: tuple[str, ...] = ()
    status: str | None = None
    created_by: str | None = None
    overlaps: tuple[int, int] | None = None  # any span intersecting [start, end)
    within: tuple[int, int] | None = None  # spans inside [start, end)
    at: int | None = None  # spans containing this offset
    q: str | None = None  # case-insensitive substring of the span's text
    # Only this anchor status; without it, every annotation but the orphans.
    anchor: str | None = None

    def parameters(self) -> dict[str, Any]:
        """The filter's values by the names of the bound parameters of CONDITIONS."""
        given: dict[str, Any] = {}
        for name in ("document_id", "type", "status", "created_by", "at"):
            if getattr(self, name) is not None:
                given[name] = getattr(self, name)
        if self.labels:
            given["labels"] = list(self.labels)
        for name in ("overlaps", "within"):
            span = getattr(self, name)
            if span is not None:
                given[f"{name}_start"], given[f"{name}_end"] = span
        if self.anchor is None:
            given["not_anchor"] = ORPHANED
        else:
            given["anchor"] = self.anchor
        if self.q:
            escaped = self.q.lower().replace("/", "//").replace("%", "/%").replace("_", "/_")
            given["q"] = f"%{escaped}%"
        return given


# The condition each filter parameter adds, with bound parameters, so that a list's
# statement is built once per combination of filters and reused (see _statement).
CONDITIONS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "document_id": lambda: Annotation.document_id == bindparam("document_id"),
    "type": lambda: Annotation.type == bindparam("type"),
    "labels": lambda: Annotation.label.in_(bindparam("labels", expanding=True)),
    "status": lambda: Annotation.status == bindparam("status"),
    "created_by": lambda: Annotation.created_by == bindparam("created_by"),
    "overlaps_start": lambda: Annotation.end > bindparam("overlaps_start"),
    "overlaps_end": lambda: Annotation.start < bindparam("overlaps_end"),
    "within_start": lambda: Annotation.start >= bindparam("within_start"),
    "within_end": lambda: Annotation.end <= bindparam("within_end"),
    "at": lambda: and_(Annotation.start <= bindparam("at"), Annotation.end > bindparam("at")),
    "q": lambda: func.lower(Annotation.text).like(bindparam("q"), escape="/"),
    "anchor": lambda: Annotation.anchor == bindparam("anchor"),
    "not_anchor": lambda: Annotation.anchor != bindparam("not_anchor"),
}
AFTER = ("after_document_id", "after_start", "after_end", "after_id")


@lru_cache(maxsize=512)
def _statement(
    postgresql: bool, filters: tuple[str, ...], after: bool, as_json: bool
) -> Select[Any]:
    """The list statement for this combination of filters. Reusing the same statement
    object spares building it and computing its cache key on every request."""
    selected = api_json(postgresql) if as_json else wire.columns_for(postgresql, WIRE_ATTRIBUTES)
    statement = select(*selected).where(*(CONDITIONS[name]() for name in filters))
    if after:
        bound = [
            bindparam(name, type_=column.type)
            for name, column in zip(AFTER, SPAN_ORDER.columns, strict=True)
        ]
        statement = statement.where(tuple_(*SPAN_ORDER.columns) > tuple_(*bound))
    return statement.order_by(*SPAN_ORDER.columns).limit(bindparam("limit"))


ORPHANED = "orphaned"
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
    session: Session,
    document: Document,
    fields: Mapping[str, Any],
    *,
    actor: str,
    max_per_document: int | None = None,
) -> Annotation:
    _check_label(label_schema.current_rules(session), fields["type"], fields["label"])
    refuse_unstorable(fields.get("attributes"), "attributes")
    check_room(session, document, 1, max_per_document)
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
    refuse_unstorable(changes.get("attributes"), "attributes")
    new = {name: changes.get(name, getattr(annotation, name)) for name in EDITABLE_FIELDS}
    if new["attributes"] is None:
        new["attributes"] = {}
    if new["status"] is None:
        new["status"] = "accepted"
    rules = label_schema.current_rules(session)
    # A span sent back as it was read is no change (an orphan's is not in the text).
    placing = any(
        name in changes and changes[name] != getattr(annotation, name)
        for name in ("start", "end", "text")
    )
    if placing:
        document = session.get_one(Document, annotation.document_id, with_for_update={"read": True})
    # Its own lock after its document's, as a change of the text takes them: a link made
    # to it meanwhile is committed before its links are checked against its new label.
    lock_unchanged(session, annotation)
    if (new["type"], new["label"]) != (annotation.type, annotation.label):
        _check_label(rules, new["type"], new["label"])
        _check_links_still_fit(session, rules, annotation, new["type"], new["label"])
    if placing:
        new["text"] = span_text(document, new["start"], new["end"], changes.get("text"))
        # Placed by hand on the current text, an orphan included.
        new["anchor"] = "exact"
    was_orphaned = annotation.anchor == ORPHANED
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
        if was_orphaned and annotation.anchor != ORPHANED:
            links.clear_dangling(session, annotation, actor=actor)
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
    lock_unchanged(session, annotation)
    cause = history.record(
        session, "delete", "annotation", by=actor, before=native.annotation(annotation)
    )
    # Its links locked too, in one order (two deletions of the ends of links both ways
    # would otherwise each hold one), and read as they are once a change to them commits.
    for link in session.scalars(
        select(Link)
        .where(or_(Link.source_id == annotation.id, Link.target_id == annotation.id))
        .order_by(Link.id)
        .with_for_update(),
        execution_options={"populate_existing": True},
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
    document = session.get(Document, values["document_id"], with_for_update={"read": True})
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


def query(
    read: Read,
    postgresql: bool,
    narrowed: Filter,
    *,
    limit: int,
    cursor: str | None,
    as_json: bool = False,
) -> Page[Sequence[Any]]:
    """A page of the annotations the filter selects, in (document_id, start, end, id)
    order: wire rows (``native.annotations_from_wire``), or with ``as_json`` rows of
    the API form's JSON text (``api_json``, for ``native.json_array``)."""
    parameters = narrowed.parameters()
    filters = tuple(name for name in CONDITIONS if name in parameters)
    if cursor:
        parameters.update(zip(AFTER, SPAN_ORDER.parse(cursor), strict=True))
    statement = _statement(postgresql, filters, bool(cursor), as_json)
    parameters["limit"] = limit + 1
    ordering = JSON_SPAN_ORDER if as_json else SPAN_ORDER
    return page_of(list(read(statement, parameters)), limit, ordering)


def all_of_document(session: Session, document_id: uuid.UUID) -> list[Row[Any]]:
    """Every annotation of a document but the orphans, as wire rows, in span order."""
    return wire.rows_of_document(session, _all_of_document, document_id)


def json_of_document(session: Session, document_id: uuid.UUID) -> list[Row[Any]]:
    """The same annotations as rows of their JSON text (``api_json``, for
    ``native.json_array``)."""
    return wire.rows_of_document(session, json_of_document_statement, document_id)


@lru_cache(maxsize=2)
def _all_of_document(postgresql: bool) -> Select[Any]:
    """Built once: building a statement and its cache key costs more than running it."""
    return _of_document(wire.columns_for(postgresql, WIRE_ATTRIBUTES))


@lru_cache(maxsize=2)
def json_of_document_statement(postgresql: bool) -> Select[Any]:
    """The statement of ``json_of_document``, with a ``document_id`` parameter."""
    return _of_document(api_json(postgresql))


def _of_document(selected: Sequence[Any]) -> Select[Any]:
    return (
        select(*selected)
        .where(Annotation.document_id == bindparam("document_id"), Annotation.anchor != ORPHANED)
        .order_by(Annotation.document_id, Annotation.start, Annotation.end, Annotation.id)
    )


def count_in_document(session: Session, document_id: uuid.UUID) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Annotation)
            .where(Annotation.document_id == document_id)
        )
        or 0
    )


def check_room(session: Session, document: Document, adding: int, limit: int | None) -> None:
    """Refuse to grow a document past the configured number of annotations."""
    if limit is not None:
        refuse_past_limit(document.id, count_in_document(session, document.id), adding, limit)


def refuse_past_limit(document_id: uuid.UUID, present: int, adding: int, limit: int | None) -> None:
    if limit is not None and present + adding > limit:
        raise RuleViolation(
            f"document {document_id} has {present} annotations; adding {adding} would pass "
            f"the limit of {limit} per document",
            errors={"document_id": [f"at most {limit} annotations per document"]},
        )
