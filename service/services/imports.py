"""Imports: documents with their annotations and links, from any format (parsed by
service.formats into IncomingDocuments), checked by the rules of the API and written
through the batch writer.

A document is matched by external_id, else by identical text, else created. When its
stored text differs from the text the annotations were made on (or the format carries
no text, as W3C), each span is re-located by its quote: the occurrence of the exact
text whose surroundings best match the quote's prefix and suffix. A span that cannot
be placed is reported as not located, never dropped silently; links to it too.
Annotations and links already stored are matched, not repeated, so importing twice
changes nothing. Everything happens in the caller's transaction: one refused item
refuses the import, and the 422 names every refused item by its place in the input."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session

from service import anchoring
from service.errors import DomainError, NotFound, RuleViolation
from service.formats.exchange import IncomingAnnotation, IncomingDocument, quote
from service.models import Annotation, Document, Link
from service.services import batch, documents, label_schema

DOCUMENT_FIELDS = ("external_id", "title", "language", "source_url", "published_at", "meta")


class ImportRefused(RuleViolation):
    slug = "import-refused"


@dataclass
class Counts:
    created: int = 0
    matched: int = 0
    not_located: int = 0


@dataclass
class DocumentReport:
    where: str
    document_id: str = ""
    external_id: str | None = None
    document_created: bool = False
    annotations: Counts = field(default_factory=Counts)
    links: Counts = field(default_factory=Counts)
    not_located: list[str] = field(default_factory=list)  # where each unplaced item was


def apply(
    session: Session,
    incoming: list[IncomingDocument],
    *,
    actor: str,
    target: Document | None = None,
    max_length: int | None = None,
    max_per_document: int | None = None,
) -> list[DocumentReport]:
    """Import documents; ``target`` is the stored document a text-less format names."""
    if target is None:
        _lock_ahead(session, incoming)
    reports, errors = [], {}
    for document in incoming:
        try:
            reports.append(
                _apply_one(session, document, actor, target, max_length, max_per_document)
            )
        except ImportRefused as refused:
            errors.update(refused.errors or {})
        except DomainError as error:
            errors.setdefault(document.where or "/", []).append(error.detail)
    if errors:
        raise ImportRefused(
            f"{sum(len(m) for m in errors.values())} problems in the import; nothing was written",
            errors=errors,
        )
    return reports


# Namespaces of the advisory locks an import takes: on the names it matches documents
# by, on the stored documents they reach, and on imports as a whole (key 0), shared by
# those that lock their names and taken alone by one with more names than
# MAX_NAME_LOCKS, so that a large import does not fill the server's table of locks (64
# per connection by default) with its names.
IMPORT_LOCK = 0x696D706F  # "impo"
IMPORTS = 0x696D7030  # "imp0"
IMPORT_DOCUMENT = 0x696D7064  # "impd": the stored documents the names reach
MAX_NAME_LOCKS = 32


def _lock_ahead(session: Session, incoming: list[IncomingDocument]) -> None:
    """Take, before anything is written and in one order whatever the input's, a lock
    on each name the import matches its documents by (external_id, and text), held
    until the transaction ends (PostgreSQL; SQLite has one writer at a time). Two
    imports naming one document take turns: the second finds the document the first
    made, instead of making it again (a 409) or waiting on it in the other order (a
    deadlock). Then, in one order too, the stored documents those names reach, which
    another import may reach by other names. An import of more names than
    MAX_NAME_LOCKS waits for the others and runs alone."""
    if session.get_bind().dialect.name != "postgresql":
        return
    keys: set[int] = set()
    for document in incoming:
        external_id = document.fields.get("external_id")
        if isinstance(external_id, str):
            keys.add(_lock_key(b"external_id", external_id.encode()))
        if document.text is not None:
            keys.add(_lock_key(b"text", document.text.encode("utf-8", "surrogatepass")))
    alone = len(keys) > MAX_NAME_LOCKS
    function = "pg_advisory_xact_lock" if alone else "pg_advisory_xact_lock_shared"
    session.execute(text(f"SELECT {function}(:space, 0)"), {"space": IMPORTS})
    if alone:
        return
    _lock_each(session, IMPORT_LOCK, keys)
    # Then the stored documents those names reach, in one order, after every name: two
    # imports may reach one document by different names (by its external_id with
    # another text, and by its text alone).
    reached = {_reached(session, document) for document in incoming}
    _lock_each(session, IMPORT_DOCUMENT, {_lock_key(b"id", d.bytes) for d in reached if d})


def _lock_each(session: Session, space: int, keys: set[int]) -> None:
    for key in sorted(keys):
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": space, "key": key}
        )


def _lock_key(kind: bytes, value: bytes) -> int:
    """A name as a signed 32-bit key, the same in every process."""
    digest = hashlib.sha256(kind + b"\0" + value).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def _apply_one(
    session: Session,
    incoming: IncomingDocument,
    actor: str,
    target: Document | None,
    max_length: int | None,
    max_per_document: int | None,
) -> DocumentReport:
    report = DocumentReport(incoming.where)
    document = target or _find(session, incoming)
    if document is None:
        if incoming.text is None:
            raise RuleViolation("the input carries no text: name the document it annotates")
        fields = {k: v for k, v in incoming.fields.items() if k in DOCUMENT_FIELDS}
        document = documents.create(
            session, {"text": incoming.text, **fields}, actor=actor, max_length=max_length
        )
        report.document_created = True
    report.document_id, report.external_id = str(document.id), document.external_id
    same_text = incoming.text is not None and incoming.text == document.text

    # Orphans keep their last span but are no longer in the text: not matched.
    stored: dict[tuple[Any, Any, int, int], uuid.UUID] = {
        (a.type, a.label, a.start, a.end): a.id
        for a in session.scalars(
            select(Annotation).where(
                Annotation.document_id == document.id, Annotation.anchor != "orphaned"
            )
        )
    }
    new_items: list[dict[str, Any]] = []
    item_where: list[str] = []
    ids_by_ref: dict[str, str] = {}  # stored annotations, by the input's refs
    refs_new: set[str] = set()
    aligned = {} if same_text else _aligned(incoming, document.text)
    for index, annotation in enumerate(incoming.annotations):
        span = aligned.get(index) or _place(annotation, incoming.text, document.text, same_text)
        if span is None:
            report.annotations.not_located += 1
            report.not_located.append(annotation.where)
            continue
        start, end = span
        existing = stored.get((annotation.type, annotation.label, start, end))
        if existing is not None:
            report.annotations.matched += 1
            ids_by_ref[annotation.ref] = str(existing)
            continue
        item: dict[str, Any] = {
            "type": annotation.type,
            "label": annotation.label,
            "start": start,
            "end": end,
            "attributes": annotation.attributes,
            "ref": annotation.ref,
        }
        if annotation.status is not None:
            item["status"] = annotation.status
        if annotation.confidence is not None:
            item["confidence"] = annotation.confidence
        new_items.append(item)
        item_where.append(annotation.where)
        refs_new.add(annotation.ref)

    rules = label_schema.current_rules(session)
    stored_links = {
        (t, s, g)
        for t, s, g in session.execute(
            select(Link.type, Link.source_id, Link.target_id).where(Link.document_id == document.id)
        )
    }
    link_items: list[dict[str, Any]] = []
    link_where: list[str] = []
    seen: set[tuple[Any, str, str]] = set()
    for link in incoming.links:
        ends = {}
        for side, ref in (("source", link.source), ("target", link.target)):
            if ref in refs_new:
                ends[side] = ("ref", ref)
            elif ref in ids_by_ref:
                ends[side] = ("id", ids_by_ref[ref])
        if len(ends) < 2:
            report.links.not_located += 1
            report.not_located.append(link.where)
            continue
        key = (link.type, ends["source"][1], ends["target"][1])
        rule = rules.link_types.get(link.type or "")
        reverse = (link.type, ends["target"][1], ends["source"][1])
        if key in seen or (rule is not None and rule.symmetric and reverse in seen):
            report.links.matched += 1
            continue
        seen.add(key)
        if ends["source"][0] == ends["target"][0] == "id":
            stored_key = (link.type, uuid.UUID(key[1]), uuid.UUID(key[2]))
            stored_reverse = (link.type, stored_key[2], stored_key[1])
            if stored_key in stored_links or (
                rule is not None and rule.symmetric and stored_reverse in stored_links
            ):
                report.links.matched += 1
                continue
        item = {"type": link.type, "attributes": link.attributes}
        for side, (kind, value) in ends.items():
            item[f"{side}_{kind}"] = value
        link_items.append(item)
        link_where.append(link.where)

    try:
        planned = batch.plan(
            session,
            document,
            new_items,
            link_items,
            actor=actor,
            max_items=len(new_items) + len(link_items) + 1,
            max_per_document=max_per_document,
        )
        written = batch.insert(session, planned)
    except batch.BatchRefused as refused:
        raise ImportRefused(
            refused.detail, errors=_placed_errors(refused.errors or {}, item_where, link_where)
        ) from None
    report.annotations.created += len(written.annotations)
    report.links.created += len(written.links)
    return report


def _placed_errors(
    errors: dict[str, list[str]], item_where: list[str], link_where: list[str]
) -> dict[str, list[str]]:
    """Batch errors ("annotations.3.label") at the input's places ("/denotations/7")."""
    placed: dict[str, list[str]] = {}
    for path, messages in errors.items():
        collection, _, rest = path.partition(".")
        index, _, member = rest.partition(".")
        if index.isdigit():
            wheres = item_where if collection == "annotations" else link_where
            where = wheres[int(index)]
            prefix = f"{member}: " if member and member not in ("ref",) else ""
            placed.setdefault(where, []).extend(prefix + message for message in messages)
        else:
            placed.setdefault(path, []).extend(messages)
    return placed


def _find(session: Session, incoming: IncomingDocument) -> Document | None:
    """The stored document the input names: by external_id, else by identical text."""
    external_id = incoming.fields.get("external_id")
    if external_id is not None:
        found = documents.find_by_external_id(session, external_id, lock="share")
        if found is not None:
            return found
    if incoming.text:
        return session.scalars(
            _by_text(select(Document), incoming.text).with_for_update(read=True)
        ).first()
    return None


def _reached(session: Session, incoming: IncomingDocument) -> uuid.UUID | None:
    """The id of the document ``_find`` would find now, read without a lock (and without
    loading the document, which ``_find`` then reads as it is once locked)."""
    external_id = incoming.fields.get("external_id")
    if isinstance(external_id, str):
        found = session.scalar(select(Document.id).where(Document.external_id == external_id))
        if found is not None:
            return found
    if incoming.text:
        return session.scalar(_by_text(select(Document.id), incoming.text))
    return None


def _by_text(statement: Select[Any], text: str) -> Select[Any]:
    return statement.where(Document.length == len(text), Document.text == text).limit(1)


def _aligned(incoming: IncomingDocument, stored: str) -> dict[int, tuple[int, int]]:
    """Where the annotations of an input whose text differs from the stored one land,
    by the same alignment as a text revision (service.anchoring), by index. Only
    annotations whose offsets hold in the input's text are aligned; the rest, and those
    alignment cannot place (the texts may differ more than a correction does), are
    located by their quotes."""
    source = incoming.text
    if source is None:
        return {}
    indexes, spans = [], []
    for index, annotation in enumerate(incoming.annotations):
        start, end = annotation.start, annotation.end
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end):
            continue
        if end > len(source) or (annotation.exact not in (None, source[start:end])):
            continue
        indexes.append(index)
        spans.append(anchoring.Span(start, end, source[start:end]))
    placements = anchoring.reanchor(source, stored, spans)
    return {
        index: (placed.start, placed.end)
        for index, placed in zip(indexes, placements, strict=True)
        if placed.status != "orphaned"
    }


def _place(
    annotation: IncomingAnnotation, source_text: str | None, stored: str, same_text: bool
) -> tuple[int, int] | None:
    """Where the annotation's span is in the stored text, or None if it cannot be
    placed. Offsets are kept when the text is the same or they still hold the quote;
    offsets out of range are kept too, for the span rules to refuse with a message."""
    start, end = annotation.start, annotation.end
    offsets = (start, end) if isinstance(start, int) and isinstance(end, int) else None
    exact, prefix, suffix = annotation.exact, annotation.prefix or "", annotation.suffix or ""
    if offsets is not None and (same_text or not 0 <= offsets[0] < offsets[1]):
        return offsets
    if exact is None and offsets is not None:
        if source_text is None or offsets[1] > len(source_text):
            return offsets  # positions alone: nothing to re-locate them by
        exact, prefix, suffix = quote(source_text, *offsets)
    if not exact:
        return None
    if offsets is not None and stored[offsets[0] : offsets[1]] == exact:
        return offsets
    return locate(stored, exact, prefix, suffix, hint=offsets[0] if offsets else None)


# Copies of a quote weighed by their context, at most (each costs some microseconds).
MAX_COPIES = 1_000


def locate(
    text: str, exact: str, prefix: str, suffix: str, *, hint: int | None = None
) -> tuple[int, int] | None:
    """The occurrence of ``exact`` in ``text`` whose surroundings best match ``prefix``
    and ``suffix`` (most matching characters next to it), nearest to ``hint`` on a tie
    (the first, without a hint). A quote of more than MAX_COPIES copies and none with
    its whole context is too ambiguous to place: None."""
    whole = _with_whole_context(text, prefix + exact + suffix, len(prefix), hint)
    if whole is not None:  # the best score there is: no need to weigh every copy
        return whole, whole + len(exact)
    best, best_score = None, (-1, 0)
    at, copies = text.find(exact), 0
    while at != -1:
        copies += 1
        if copies > MAX_COPIES:
            return None
        before = anchoring.common_suffix(text[max(0, at - len(prefix)) : at], prefix)
        after = anchoring.common_prefix(
            text[at + len(exact) : at + len(exact) + len(suffix)], suffix
        )
        score = (before + after, -abs(at - hint) if hint is not None else 0)
        if score > best_score:
            best, best_score = (at, at + len(exact)), score
        at = text.find(exact, at + 1)
    return best


def _with_whole_context(text: str, whole: str, before: int, hint: int | None) -> int | None:
    """Where the quote starts in the copy of prefix + quote + suffix nearest ``hint``
    (the earlier of two as near; the first without a hint), if the text holds one."""
    if hint is None:
        at = text.find(whole)
        return None if at < 0 else at + before
    edge = hint - before  # where a copy starts whose quote starts at the hint
    left = text.rfind(whole, 0, edge + len(whole)) if edge >= 0 else -1
    right = text.find(whole, max(0, edge))
    starts = [at + before for at in (left, right) if at >= 0]
    return min(starts, key=lambda start: (abs(start - hint), start)) if starts else None


def target_document(
    session: Session, document_id: uuid.UUID | None, external_id: str | None
) -> Document | None:
    """The stored document a text-less import names, if it names one."""
    if document_id is not None:
        return documents.get(session, document_id, lock="share")
    if external_id is not None:
        found = documents.find_by_external_id(session, external_id, lock="share")
        if found is None:
            raise NotFound(f"no document has external_id {external_id!r}")
        return found
    return None
