"""The history of every resource, which in ``seq`` order is also the change feed.

Services ``record`` each create, update, delete and restore as they make it; the
records are written when the session commits, in the same transaction.

Why a feed cursor never skips a change: a change's ``seq`` is drawn when its row is
inserted, and the rows are inserted at the very end of the transaction. On
PostgreSQL the inserting transaction first takes a transaction-scoped advisory lock
(``pg_advisory_xact_lock``), held until it commits or rolls back, so writers draw
their ``seq`` values one transaction at a time, and a transaction that drew a
smaller ``seq`` has always committed (or vanished) before one with a larger ``seq``
becomes visible. A reader who has seen ``seq`` N can therefore never later find a
committed change below N. SQLite has a single writer at a time, which gives the
same order. The lock is held only from the insert of the change rows to the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, event, insert, select, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from service import context
from service.db import Rows, insert_prepared, insert_rows, prepare_rows, utcnow
from service.models import Change
from service.services.pagination import Ordering, Page, paginate, strict_int

ACTIONS = ("create", "update", "delete", "restore")
RESOURCES = ("document", "annotation", "link", "schema")
# Any constant will do, as long as nothing else in the database uses it.
FEED_LOCK = 0x616E6E6F  # "anno"
PENDING = "pending_changes"

BY_SEQ = Ordering(columns=(Change.seq,), attributes=("seq",), parsers=(strict_int,))


@dataclass(eq=False)
class Pending:
    """A change recorded but not yet written."""

    action: str
    resource: str
    resource_id: str
    document_id: str | None
    by: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    cause: Pending | None = None
    request_id: str | None = field(default_factory=context.request_id.get)
    seq: int | None = None


def change(
    action: str,
    resource: str,
    *,
    by: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    cause: Pending | None = None,
) -> Pending:
    """A change of one resource, not yet recorded; ``before``/``after`` are its wire
    forms."""
    snapshot = after if after is not None else before
    assert snapshot is not None, "a change has a before or an after"
    resource_id = str(snapshot.get("id", snapshot.get("version")))
    document_id = snapshot.get("document_id") or (
        snapshot.get("id") if resource == "document" else None
    )
    return Pending(action, resource, resource_id, document_id, by, before, after, cause)


def record(
    session: Session,
    action: str,
    resource: str,
    *,
    by: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    cause: Pending | None = None,
) -> Pending:
    """Record a change of one resource, to be written when the session commits."""
    pending = change(action, resource, by=by, before=before, after=after, cause=cause)
    session.info.setdefault(PENDING, []).append(pending)
    return pending


def prepare(dialect: Dialect, changes: list[Pending], at: datetime) -> Rows:
    """Changes that cause none of the others, made into rows at ``at`` before the
    transaction that records them (``record_rows``)."""
    assert all(p.cause is None for p in changes), "prepared changes cause no others"
    return prepare_rows(dialect, CHANGES, [_row(p, at) for p in changes])


def record_rows(session: Session, rows: Rows) -> None:
    """Record prepared changes, written in turn with the others at commit."""
    session.info.setdefault(PENDING, []).append(rows)


CHANGES = cast(Table, Change.__table__)


def _row(p: Pending, at: datetime) -> dict[str, Any]:
    return {
        "action": p.action,
        "resource": p.resource,
        "resource_id": p.resource_id,
        "document_id": p.document_id,
        "at": at,
        "by": p.by,
        "request_id": p.request_id,
        "caused_by": p.cause.seq if p.cause is not None else None,
        "before": p.before,
        "after": p.after,
    }


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    recorded: list[Pending | Rows] = session.info.pop(PENDING, [])
    if not recorded:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK})
    now = utcnow()
    # In the order recorded, so that seq follows it: prepared rows as they are, and
    # each run of changes between them together.
    run: list[Pending] = []
    for entry in recorded:
        if isinstance(entry, Pending):
            run.append(entry)
            continue
        _write(session, run, now)
        run = []
        insert_prepared(session, entry)
    _write(session, run, now)


def _write(session: Session, pending: list[Pending], now: datetime) -> None:
    # Causes first, one at a time, for the seq their effects name (there are few: a
    # deletion that cascades, a restore that brings links back); then all the rest in
    # one multi-row INSERT.
    causes = {id(p.cause) for p in pending if p.cause is not None}
    for p in pending:
        if id(p) in causes:
            p.seq = session.execute(
                insert(CHANGES).returning(CHANGES.c.seq), [_row(p, now)]
            ).scalar_one()
    rest = [_row(p, now) for p in pending if id(p) not in causes]
    insert_rows(session, CHANGES, rest)


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, _previous: Any) -> None:
    session.info.pop(PENDING, None)


def of_resource(
    session: Session, resource: str, resource_id: uuid.UUID | str, *, limit: int, cursor: str | None
) -> Page[Change]:
    statement = select(Change).where(
        Change.resource == resource, Change.resource_id == str(resource_id)
    )
    return paginate(session, statement, BY_SEQ, limit=limit, cursor=cursor)


def last_of(session: Session, resource: str, resource_id: uuid.UUID) -> Change | None:
    return session.scalars(
        select(Change)
        .where(Change.resource == resource, Change.resource_id == str(resource_id))
        .order_by(Change.seq.desc())
        .limit(1)
    ).first()


def first_of(session: Session, resource: str, resource_id: uuid.UUID) -> Change | None:
    return session.scalars(
        select(Change)
        .where(Change.resource == resource, Change.resource_id == str(resource_id))
        .order_by(Change.seq)
        .limit(1)
    ).first()


def caused_by(session: Session, change: Change, resource: str) -> Iterable[Change]:
    return session.scalars(
        select(Change)
        .where(Change.caused_by == change.seq, Change.resource == resource)
        .order_by(Change.seq)
    )


@dataclass(frozen=True)
class FeedPage:
    items: list[Change]
    next_cursor: str  # never None: at the end, where to resume


def feed(
    session: Session,
    *,
    document_id: uuid.UUID | None,
    resource: str | None,
    limit: int,
    cursor: str | None,
) -> FeedPage:
    statement = select(Change)
    if document_id is not None:
        statement = statement.where(Change.document_id == str(document_id))
    if resource is not None:
        statement = statement.where(Change.resource == resource)
    result = paginate(session, statement, BY_SEQ, limit=limit, cursor=cursor)
    if result.next_cursor is not None:
        return FeedPage(result.items, result.next_cursor)
    if result.items:
        return FeedPage(result.items, BY_SEQ.cursor_for(result.items[-1]))
    # Nothing new: resume from where this read started.
    return FeedPage([], cursor or BY_SEQ.cursor_for_key([0]))
