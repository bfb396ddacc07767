"""Batch writes: many annotations and links on one document, all or nothing.

Pipelines send thousands of spans at once, so items are checked by plain code (the
same rules as one-at-a-time writes, and the same messages) and written with one
multi-row INSERT per table instead of one ORM object each."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, TypeGuard, cast

from sqlalchemy import Table, bindparam, func, or_, select
from sqlalchemy.orm import Session

from service.db import Rows, insert_prepared, new_id, prepare_rows, utcnow
from service.errors import NotFound, RuleViolation
from service.formats import native
from service.models import Annotation, Document, LabelSchema, Link
from service.schemas.common import READ_ONLY_FIELDS
from service.services import annotations as annotations_service
from service.services import documents, history, label_schema
from service.services import links as links_service
from service.services.checks import unstorable

STATUSES = frozenset({"proposed", "accepted", "rejected"})
ANNOTATION_FIELDS = frozenset(
    {"ref", "type", "label", "start", "end", "text", "attributes", "confidence", "status"}
)
LINK_FIELDS = frozenset(
    {"type", "source_ref", "source_id", "target_ref", "target_id", "attributes"}
)


# Core inserts into the tables: the ORM's bulk path costs more per row than the rows do.
ANNOTATIONS = cast(Table, Annotation.__table__)
LINKS = cast(Table, Link.__table__)


def _columns_of(row: dict[str, Any]) -> dict[str, Any]:
    """Annotation attributes keyed by column name ("start" is stored as start_offset)."""
    return {COLUMN_NAMES.get(key, key): value for key, value in row.items()}


COLUMN_NAMES = {"start": "start_offset", "end": "end_offset"}


class BatchRefused(RuleViolation):
    slug = "batch-refused"


@dataclass
class Written:
    annotations: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _End:
    id: uuid.UUID
    type: str
    label: str


class _Errors:
    """Messages by the dotted path of the item field they are about."""

    def __init__(self) -> None:
        self.by_path: dict[str, list[str]] = {}
        self.count = 0

    def add(self, path: str, message: str) -> None:
        self.by_path.setdefault(path, []).append(message)
        self.count += 1


def _missing_or(value: Any, message: str) -> str:
    return "Missing data for required field." if value is None else message


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class Plan:
    """A batch checked and turned into rows against one revision of the document's
    text and one version of the label schema, ready to write."""

    revision: int
    schema_version: int
    names_stored: bool  # whether a link names a stored annotation
    actor: str
    rows: list[dict[str, Any]]
    link_rows: list[dict[str, Any]]
    written: Written
    # The same, ready to insert: the annotations, the links, and the changes that
    # record their creation.
    inserts: tuple[Rows, Rows]
    changes: Rows


def plan(
    session: Session,
    document: Document,
    annotations: Sequence[Any],
    links: Sequence[Any],
    *,
    actor: str,
    max_items: int,
    max_per_document: int | None = None,
) -> Plan:
    """Check every item and make the rows to insert, or refuse the whole batch listing
    every failing item by its index. Writes nothing."""
    if len(annotations) + len(links) > max_items:
        raise BatchRefused(
            f"a batch holds at most {max_items} items; this one has "
            f"{len(annotations) + len(links)}",
            errors={"annotations": [f"at most {max_items} annotations and links together"]},
        )
    annotations_service.check_room(session, document, len(annotations), max_per_document)
    rules = label_schema.current_rules(session)
    errors = _Errors()
    now = utcnow()
    rows: list[dict[str, Any]] = []
    by_ref: dict[str, _End] = {}
    for index, item in enumerate(annotations):
        row = _annotation_row(item, f"annotations.{index}", document, rules, errors, by_ref)
        if row is not None:
            rows.append(row)
    link_rows = _link_rows(session, links, document, rules, errors, by_ref)
    if errors.count:
        raise BatchRefused(
            f"{errors.count} problems in the batch; nothing was written",
            errors=errors.by_path,
        )
    provenance = {
        "document_id": document.id,
        "created_by": actor,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    for row in (*rows, *link_rows):
        row.update(provenance)
    for row in rows:
        row["anchor"] = "exact"
    for row in link_rows:
        row["dangling"] = False  # orphans cannot be linked (see _stored_ends)
    written = Written(
        [native.annotation(cast(Annotation, SimpleNamespace(**row))) for row in rows],
        [native.link(cast(Link, SimpleNamespace(**row))) for row in link_rows],
    )
    names_stored = any(
        isinstance(item, Mapping) and ("source_id" in item or "target_id" in item) for item in links
    )
    annotation_rows = [_columns_of(row) for row in rows]
    dialect = session.get_bind().dialect
    changes = [
        *(history.change("create", "annotation", by=actor, after=w) for w in written.annotations),
        *(history.change("create", "link", by=actor, after=w) for w in written.links),
    ]
    return Plan(
        document.revision,
        rules.version,
        names_stored,
        actor,
        annotation_rows,
        link_rows,
        written,
        (
            prepare_rows(dialect, ANNOTATIONS, annotation_rows),
            prepare_rows(dialect, LINKS, link_rows),
        ),
        history.prepare(dialect, changes, now),
    )


def write_plan(
    session: Session,
    document_id: uuid.UUID,
    planned: Plan | None,
    replan: Callable[[Document], Plan],
    *,
    max_per_document: int | None = None,
) -> Written:
    """Write a plan made before this transaction, in another, so that checking the
    items did not hold the write lock (SQLite has one writer at a time); with none,
    ``replan`` makes it here from the document, read (and on PostgreSQL share-locked)
    in this transaction. What the plan was checked against is checked again, in one
    statement: if the text or the label schema changed meanwhile, or a link names a
    stored annotation (which may have changed), the plan is made again here."""
    if planned is not None and not planned.names_stored:
        now = session.execute(_NOW, {"document_id": document_id}).first()
        if now is None:
            raise NotFound(f"document {document_id} does not exist")
        revision, schema_version, present = now
        if revision == planned.revision and schema_version == planned.schema_version:
            # The one check that other writes can undo without changing either.
            annotations_service.refuse_past_limit(
                document_id, present, len(planned.rows), max_per_document
            )
            return insert(session, planned)
    return insert(session, replan(documents.get(session, document_id, lock="share")))


# What a plan made earlier was checked against, as it is now.
_NOW = select(
    Document.revision,
    select(func.max(LabelSchema.version)).scalar_subquery(),
    select(func.count())
    .select_from(Annotation)
    .where(Annotation.document_id == Document.id)
    .scalar_subquery(),
).where(Document.id == bindparam("document_id"))


def insert(session: Session, planned: Plan) -> Written:
    """Write a plan, made in this transaction or checked again in it."""
    for rows in planned.inserts:
        insert_prepared(session, rows)
    history.record_rows(session, planned.changes)
    return planned.written


def _annotation_row(
    item: Any,
    path: str,
    document: Document,
    rules: label_schema.Rules,
    errors: _Errors,
    by_ref: dict[str, _End],
) -> dict[str, Any] | None:
    if not isinstance(item, Mapping):
        errors.add(path, "must be an object")
        return None
    failed = errors.count
    for key in item:
        if key not in ANNOTATION_FIELDS and key not in READ_ONLY_FIELDS:
            errors.add(f"{path}.{key}", "Unknown field.")
    annotation_type, label = item.get("type"), item.get("label")
    for name, value in (("type", annotation_type), ("label", label)):
        if not isinstance(value, str) or not value:
            errors.add(f"{path}.{name}", _missing_or(value, "Not a valid string."))
    if isinstance(annotation_type, str) and isinstance(label, str) and annotation_type and label:
        refusal = rules.label_refusal(annotation_type, label)
        for name, messages in (refusal or {}).items():
            for message in messages:
                errors.add(f"{path}.{name}", message)
    start, end = item.get("start"), item.get("end")
    for name, value in (("start", start), ("end", end)):
        if not _is_int(value):
            errors.add(f"{path}.{name}", _missing_or(value, "Not a valid integer."))
    text = None
    if _is_int(start) and _is_int(end):
        if start < 0:
            errors.add(f"{path}.start", "must be >= 0")
        elif end <= start:
            errors.add(f"{path}.end", f"must be greater than start ({start})")
        elif end > document.length:
            errors.add(f"{path}.end", f"must be <= {document.length}, the document's length")
        else:
            text = document.text[start:end]
            claimed = item.get("text")
            if claimed is not None and claimed != text:
                errors.add(f"{path}.text", f"expected {text!r}, got {claimed!r}")
    attributes = item.get("attributes")
    if attributes is not None and not isinstance(attributes, Mapping):
        errors.add(f"{path}.attributes", "Not a valid mapping type.")
    elif (what := unstorable(attributes)) is not None:
        errors.add(f"{path}.attributes", f"must not contain {what}")
    confidence = item.get("confidence")
    if confidence is not None and (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not math.isfinite(confidence)
        or not 0 <= confidence <= 1
    ):
        errors.add(f"{path}.confidence", "Must be a number from 0 to 1.")
    status = item.get("status", "accepted")
    if not isinstance(status, str) or status not in STATUSES:
        errors.add(f"{path}.status", "Must be one of: proposed, accepted, rejected.")
    ref = item.get("ref")
    if ref is not None and (not isinstance(ref, str) or ref in by_ref):
        errors.add(f"{path}.ref", "refs are strings, each used once in a batch")
        ref = None
    if errors.count > failed:
        return None
    assert isinstance(annotation_type, str)
    assert isinstance(label, str)
    row_id = new_id()
    if ref is not None:
        by_ref[ref] = _End(row_id, annotation_type, label)
    return {
        "id": row_id,
        "type": annotation_type,
        "label": label,
        "start": start,
        "end": end,
        "text": text,
        "attributes": dict(attributes or {}),
        "confidence": confidence,
        "status": status,
    }


def _link_rows(
    session: Session,
    items: Sequence[Any],
    document: Document,
    rules: label_schema.Rules,
    errors: _Errors,
    by_ref: dict[str, _End],
) -> list[dict[str, Any]]:
    stored = _stored_ends(session, items, document)
    rows: list[dict[str, Any]] = []
    indexes: list[int] = []  # the item index of each row
    seen: set[tuple[str, uuid.UUID, uuid.UUID]] = set()
    for index, item in enumerate(items):
        path = f"links.{index}"
        if not isinstance(item, Mapping):
            errors.add(path, "must be an object")
            continue
        failed = errors.count
        for key in item:
            if key not in LINK_FIELDS and key not in READ_ONLY_FIELDS:
                errors.add(f"{path}.{key}", "Unknown field.")
        link_type = item.get("type")
        rule = rules.link_types.get(link_type) if isinstance(link_type, str) else None
        if rule is None:
            errors.add(f"{path}.type", f"must be one of {', '.join(sorted(rules.link_types))}")
        ends = {
            side: _resolve_end(item, side, path, by_ref, stored, errors)
            for side in ("source", "target")
        }
        source, target = ends["source"], ends["target"]
        if source is not None and target is not None and source.id == target.id:
            errors.add(f"{path}.target_id", "must differ from source_id")
        if rule is not None and source is not None and target is not None:
            for side, end_rule, end in (
                ("source", rule.source, source),
                ("target", rule.target, target),
            ):
                refusal = end_rule.refusal(end.type, end.label)
                if refusal:
                    errors.add(f"{path}.{side}_id", refusal)
        attributes = item.get("attributes")
        if attributes is not None and not isinstance(attributes, Mapping):
            errors.add(f"{path}.attributes", "Not a valid mapping type.")
        elif (what := unstorable(attributes)) is not None:
            errors.add(f"{path}.attributes", f"must not contain {what}")
        if errors.count > failed or rule is None or source is None or target is None:
            continue
        assert isinstance(link_type, str)
        keys = [(link_type, source.id, target.id)]
        if rule.symmetric:
            keys.append((link_type, target.id, source.id))
        if any(key in seen for key in keys):
            errors.add(path, f"repeats an earlier {link_type!r} link of this batch")
            continue
        seen.update(keys[:1])
        rows.append(
            {
                "id": new_id(),
                "type": link_type,
                "source_id": source.id,
                "target_id": target.id,
                "attributes": dict(attributes or {}),
            }
        )
        indexes.append(index)
    # Only a link between two stored annotations can repeat a stored link: one with an
    # end made by this batch is new to the database.
    both_stored = [
        (index, row)
        for index, row in zip(indexes, rows, strict=True)
        if row["source_id"] in stored and row["target_id"] in stored
    ]
    _refuse_stored_duplicates(session, document, both_stored, rules, errors)
    return rows


def _resolve_end(
    item: Mapping[str, Any],
    side: str,
    path: str,
    by_ref: dict[str, _End],
    stored: dict[uuid.UUID, _End],
    errors: _Errors,
) -> _End | None:
    ref, given_id = item.get(f"{side}_ref"), item.get(f"{side}_id")
    if (ref is None) == (given_id is None):
        errors.add(
            f"{path}.{side}_id",
            f"give {side}_ref (an annotation of this batch) or {side}_id (a stored "
            "annotation of this document), not both or neither",
        )
        return None
    if ref is not None:
        end = by_ref.get(ref) if isinstance(ref, str) else None
        if end is None:
            errors.add(f"{path}.{side}_ref", f"{ref!r} is not the ref of a valid annotation here")
        return end
    parsed = _as_uuid(given_id) if isinstance(given_id, str) else None
    end = stored.get(parsed) if parsed is not None else None
    if end is None:
        errors.add(
            f"{path}.{side}_id",
            f"{given_id!r} is not an annotation of this document with a place in its text "
            "(orphaned annotations cannot be linked)",
        )
    return end


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _stored_ends(
    session: Session, items: Sequence[Any], document: Document
) -> dict[uuid.UUID, _End]:
    """The stored annotations of this document that links name by id, in one query."""
    ids = {
        parsed
        for item in items
        if isinstance(item, Mapping)
        for side in ("source_id", "target_id")
        if isinstance(item.get(side), str) and (parsed := _as_uuid(item[side])) is not None
    }
    if not ids:
        return {}
    found = session.execute(
        select(Annotation.id, Annotation.type, Annotation.label).where(
            Annotation.document_id == document.id,
            Annotation.id.in_(ids),
            Annotation.anchor != "orphaned",
        )
    )
    return {row.id: _End(row.id, row.type, row.label) for row in found}


def _refuse_stored_duplicates(
    session: Session,
    document: Document,
    candidates: list[tuple[int, dict[str, Any]]],
    rules: label_schema.Rules,
    errors: _Errors,
) -> None:
    """Links of the batch (by item index) that a stored link already is (either way
    round when symmetric) are refused like a single duplicate link."""
    if not candidates:
        return
    links_service.lock_document_links(session, document.id)
    rows = [row for _index, row in candidates]
    wanted: dict[tuple[str, uuid.UUID, uuid.UUID], int] = {}
    for index, row in candidates:
        wanted[(row["type"], row["source_id"], row["target_id"])] = index
        if rules.link_types[row["type"]].symmetric:
            wanted.setdefault((row["type"], row["target_id"], row["source_id"]), index)
    ends = {row["source_id"] for row in rows} | {row["target_id"] for row in rows}
    existing = session.execute(
        select(Link.id, Link.type, Link.source_id, Link.target_id).where(
            or_(Link.source_id.in_(ends), Link.target_id.in_(ends))
        )
    )
    for link in existing:
        hit = wanted.get((link.type, link.source_id, link.target_id))
        if hit is not None:
            errors.add(
                f"links.{hit}",
                f"a {link.type!r} link between these annotations already exists: {link.id}",
            )
