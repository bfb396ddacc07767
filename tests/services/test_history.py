"""Changes recorded one by one and changes prepared before the transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from service.models import Change
from service.services import history


def snapshot(number: int) -> dict[str, str]:
    return {"id": f"annotation-{number}", "document_id": "document-1"}


def test_prepared_changes_are_written_in_the_order_recorded(session):
    prepared_at = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    history.record(session, "create", "annotation", by="tester", after=snapshot(1))
    prepared = [
        history.change("create", "annotation", by="tester", after=snapshot(n)) for n in (2, 3)
    ]
    history.record_rows(session, history.prepare(session.get_bind().dialect, prepared, prepared_at))
    history.record(session, "create", "annotation", by="tester", after=snapshot(4))
    session.commit()
    changes = session.scalars(
        select(Change).where(Change.by == "tester").order_by(Change.seq)
    ).all()
    assert [c.resource_id for c in changes] == [f"annotation-{n}" for n in (1, 2, 3, 4)]
    assert [c.at == prepared_at for c in changes] == [False, True, True, False]
    assert {c.document_id for c in changes} == {"document-1"}
