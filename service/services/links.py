"""Links: typed edges between two annotations of one document."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, or_, select, text
from sqlalchemy.orm import Session

from service.db import insert_as_is, utcnow
from service.errors import Conflict, DomainError, InvalidLink, NotFound
from service.formats import native
from service.models import Annotation, Change, Document, Link
from service.services import history, label_schema, wire
from service.services.checks import refuse_unstorable
from service.services.pagination import Ordering, Page, paginate, strict_uuid

ORDER_BY_ID = Ordering(columns=(Link.id,), attributes=("id",), parsers=(strict_uuid,))


def get(session: Session, link_id: uuid.UUID) -> Link:
    link = session.get(Link, link_id)
    if link is None:
        raise NotFound(f"link {link_id} does not exist")
    return link


def _end(
    session: Session, field: str, annotation_id: uuid.UUID, *, lock: bool = False
) -> Annotation:
    """A link's end; ``lock`` takes its row lock for share (PostgreSQL), so that a change
    of the text orphaning it, or its deletion, is committed before it is checked."""
    annotation = session.get(
        Annotation,
        annotation_id,
        with_for_update={"read": True} if lock else None,
        populate_existing=lock,  # as it is once the lock is had, not as read before
    )
    if annotation is None:
        raise InvalidLink(
            f"{field} {annotation_id} is not an existing annotation",
            errors={field: [f"annotation {annotation_id} does not exist"]},
        )
    if annotation.anchor == "orphaned":
        raise InvalidLink(
            f"{field} {annotation_id} is orphaned: a change of the text left it without a "
            "place; give it a span again before linking it",
            errors={field: [f"annotation {annotation_id} is orphaned"]},
        )
    return annotation


def _checked_ends(
    session: Session,
    link_type: str,
    source_id: uuid.UUID,
    target_id: uuid.UUID,
    *,
    replacing: uuid.UUID | None = None,
) -> Annotation:
    """Check a link of this type may join these annotations; return the source."""
    rules = label_schema.current_rules(session)
    rule = rules.link_types.get(link_type)
    if rule is None:
        raise InvalidLink(
            f"unknown link type {link_type!r}",
            errors={"type": [f"must be one of {', '.join(sorted(rules.link_types))}"]},
        )
    if source_id == target_id:
        raise InvalidLink(
            "a link joins two different annotations",
            errors={"target_id": ["must differ from source_id"]},
        )
    # The source read first for its document, whose lock comes before the ends', as
    # batches and changes of the text take them.
    document_id = _end(session, "source_id", source_id).document_id
    session.get(Document, document_id, with_for_update={"read": True})
    source = _end(session, "source_id", source_id, lock=True)
    target = _end(session, "target_id", target_id, lock=True)
    if source.document_id != target.document_id:
        raise InvalidLink(
            f"the ends belong to different documents ({source.document_id} and "
            f"{target.document_id}); a link stays within one document",
            errors={"target_id": ["must be an annotation of the source's document"]},
        )
    for field, end_rule, annotation in (
        ("source_id", rule.source, source),
        ("target_id", rule.target, target),
    ):
        refusal = end_rule.refusal(annotation.type, annotation.label)
        if refusal:
            side = field.removesuffix("_id")
            raise InvalidLink(
                f"the {side} of a {link_type!r} link {refusal}",
                errors={field: [refusal]},
            )
    lock_document_links(session, source.document_id)
    _ensure_unique(session, link_type, source_id, target_id, rule.symmetric, replacing)
    return source


# Namespace of the advisory locks that serialise link writes within a document.
LINK_LOCK = 0x6C696E6B  # "link"


def lock_document_links(session: Session, document_id: uuid.UUID) -> None:
    """Serialise link writes within one document until the transaction ends, so that
    the duplicate check and the insert act as one: the unique constraint cannot see a
    symmetric type's (b, a) as the duplicate of (a, b). SQLite has one writer at a
    time already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:document))"),
            {"space": LINK_LOCK, "document": str(document_id)},
        )


def _ensure_unique(
    session: Session,
    link_type: str,
    source_id: uuid.UUID,
    target_id: uuid.UUID,
    symmetric: bool,
    replacing: uuid.UUID | None,
) -> None:
    same = and_(Link.source_id == source_id, Link.target_id == target_id)
    if symmetric:
        same = or_(same, and_(Link.source_id == target_id, Link.target_id == source_id))
    statement = select(Link.id).where(Link.type == link_type, same)
    if replacing is not None:
        statement = statement.where(Link.id != replacing)
    existing = session.scalars(statement.limit(1)).first()
    if existing is not None:
        kind = "symmetric " if symmetric else ""
        raise Conflict(
            f"a {kind}{link_type!r} link between these annotations already exists: {existing}",
            existing_id=str(existing),
        )


def clear_dangling(session: Session, placed: Annotation, *, actor: str) -> None:
    """An orphan placed again: its links whose other end has a place are no longer
    dangling."""
    for link in session.scalars(
        select(Link).where(
            or_(Link.source_id == placed.id, Link.target_id == placed.id), Link.dangling
        )
    ):
        other = link.target_id if link.source_id == placed.id else link.source_id
        if session.get_one(Annotation, other).anchor == "orphaned":
            continue
        before = native.link(link)
        link.dangling = False
        link.updated_at = utcnow()
        session.flush()
        history.record(session, "update", "link", by=actor, before=before, after=native.link(link))


def create(session: Session, fields: Mapping[str, Any], *, actor: str) -> Link:
    refuse_unstorable(fields.get("attributes"), "attributes")
    source = _checked_ends(session, fields["type"], fields["source_id"], fields["target_id"])
    now = utcnow()
    link = Link(
        document_id=source.document_id,
        type=fields["type"],
        source_id=fields["source_id"],
        target_id=fields["target_id"],
        attributes=fields.get("attributes") or {},
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(link)
    session.flush()
    history.record(session, "create", "link", by=actor, after=native.link(link))
    return link


def update(session: Session, link: Link, changes: Mapping[str, Any], *, actor: str) -> Link:
    refuse_unstorable(changes.get("attributes"), "attributes")
    new_type = changes.get("type", link.type)
    new_source = changes.get("source_id", link.source_id)
    new_target = changes.get("target_id", link.target_id)
    before = native.link(link)
    changed = False
    if (new_type, new_source, new_target) != (link.type, link.source_id, link.target_id):
        source = _checked_ends(session, new_type, new_source, new_target, replacing=link.id)
        link.document_id = source.document_id
        link.type, link.source_id, link.target_id = new_type, new_source, new_target
        changed = True
    if "attributes" in changes and (changes["attributes"] or {}) != link.attributes:
        link.attributes = changes["attributes"] or {}
        changed = True
    if changed:
        link.updated_at = utcnow()
        session.flush()
        history.record(session, "update", "link", by=actor, before=before, after=native.link(link))
    return link


def delete(session: Session, link: Link, *, actor: str) -> None:
    history.record(session, "delete", "link", by=actor, before=native.link(link))
    session.delete(link)
    session.flush()


def restore(session: Session, link_id: uuid.UUID, *, actor: str) -> Link:
    """Bring back a deleted link as it was, if both its ends exist and nothing now
    duplicates it."""
    if session.get(Link, link_id) is not None:
        raise Conflict(f"link {link_id} exists; only a deleted one can be restored")
    deletion = history.last_of(session, "link", link_id)
    if deletion is None or deletion.action != "delete" or deletion.before is None:
        raise NotFound(f"link {link_id} has no deletion in its history to undo")
    refusal = _restore_refusal(session, deletion.before)
    if refusal:
        raise Conflict(f"link {link_id} cannot be restored: {refusal}")
    return _reinsert(session, deletion.before, actor=actor, cause=None)


def restore_removed_by(
    session: Session, deletion: Change, *, actor: str, cause: history.Pending
) -> list[Link]:
    """Restore the links a deletion removed, where that is still possible."""
    restored = []
    for removed in history.caused_by(session, deletion, "link"):
        if removed.before is None:
            continue
        if session.get(Link, uuid.UUID(removed.resource_id)) is not None:
            continue  # already back
        if _restore_refusal(session, removed.before) is None:
            restored.append(_reinsert(session, removed.before, actor=actor, cause=cause))
    return restored


def _restore_refusal(session: Session, wire: dict[str, Any]) -> str | None:
    values = native.link_values(wire)
    for end in ("source_id", "target_id"):
        if session.get(Annotation, values[end]) is None:
            return f"its {end.removesuffix('_id')} {values[end]} no longer exists"
    try:
        _checked_ends(
            session,
            values["type"],
            values["source_id"],
            values["target_id"],
            replacing=values["id"],
        )
    except DomainError as error:
        return error.detail
    return None


def _reinsert(
    session: Session, wire: dict[str, Any], *, actor: str, cause: history.Pending | None
) -> Link:
    values = native.link_values(wire)
    # Dangling as its ends are now, not as they were when it was deleted.
    anchors = session.scalars(
        select(Annotation.anchor).where(
            Annotation.id.in_([values["source_id"], values["target_id"]])
        )
    ).all()
    insert_as_is(
        session,
        Link,
        {
            **values,
            "dangling": "orphaned" in anchors,
            "version": values["version"] + 1,
            "updated_at": utcnow(),
        },
    )
    link = session.get_one(Link, values["id"])
    history.record(session, "restore", "link", by=actor, after=native.link(link), cause=cause)
    return link


# Every attribute of the wire form; lists select them as wire columns (services.wire).
WIRE_ATTRIBUTES = (
    Link.id,
    Link.document_id,
    Link.type,
    Link.source_id,
    Link.target_id,
    Link.attributes,
    Link.created_by,
    Link.created_at,
    Link.updated_at,
    Link.version,
    Link.dangling,
)


def all_of_document(session: Session, document_id: uuid.UUID) -> list[Row[Any]]:
    """Every link of a document, as wire rows, in id order."""
    return wire.rows_of_document(session, of_document_statement, document_id)


@lru_cache(maxsize=2)
def of_document_statement(postgresql: bool) -> Select[Any]:
    """The statement of ``all_of_document``, with a ``document_id`` parameter; built
    once, as annotations' is."""
    return (
        select(*wire.columns_for(postgresql, WIRE_ATTRIBUTES))
        .where(Link.document_id == bindparam("document_id"))
        .order_by(Link.id)
    )


def list_page(
    session: Session,
    *,
    document_id: uuid.UUID | None = None,
    annotation_id: uuid.UUID | None = None,
    link_type: str | None = None,
    limit: int,
    cursor: str | None,
) -> Page[Link]:
    statement = select(Link)
    if document_id is not None:
        statement = statement.where(Link.document_id == document_id)
    if annotation_id is not None:
        statement = statement.where(
            or_(Link.source_id == annotation_id, Link.target_id == annotation_id)
        )
    if link_type is not None:
        statement = statement.where(Link.type == link_type)
    return paginate(session, statement, ORDER_BY_ID, limit=limit, cursor=cursor)
