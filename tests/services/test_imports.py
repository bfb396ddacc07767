"""Imports: locating a quote in a stored text (services.imports.locate), and the locks
an import takes on the names it matches documents by."""

from __future__ import annotations

import pytest
import sqlalchemy
from hypothesis import given
from hypothesis import strategies as st

from service.formats.exchange import IncomingDocument
from service.services import imports

texts = st.text(alphabet="ab .", min_size=1, max_size=40)


@given(texts, st.data())
def test_the_copy_with_its_whole_context_is_the_one_weighing_every_copy_finds(text, data):
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    prefix = data.draw(
        st.sampled_from([text[max(0, start - n) : start] for n in range(5)] + ["b."])
    )
    suffix = text[end : end + data.draw(st.integers(0, 4))]
    hint = data.draw(st.none() | st.integers(0, len(text)))
    found = imports.locate(text, text[start:end], prefix, suffix, hint=hint)
    weighed = _weighing_every_copy(text, text[start:end], prefix, suffix, hint)
    assert found == weighed


def _weighing_every_copy(text, exact, prefix, suffix, hint):
    original = imports._with_whole_context
    imports._with_whole_context = lambda *_args: None
    try:
        return imports.locate(text, exact, prefix, suffix, hint=hint)
    finally:
        imports._with_whole_context = original


def test_a_quote_with_its_context_is_found_without_weighing_its_copies():
    text = "a " * 100_000 + "the a here"
    assert imports.locate(text, "a", "the ", " here") == (len(text) - 6, len(text) - 5)


def test_a_quote_of_too_many_copies_none_in_its_context_is_not_placed(monkeypatch):
    monkeypatch.setattr(imports, "MAX_COPIES", 3)
    assert imports.locate("a b a c a", "a", "c ", "") == (8, 9)
    assert imports.locate("a b a c a d", "a", "c ", "x") == (8, 9)
    assert imports.locate("a b a c a d a", "a", "c ", "x") is None


def _advisory_locks(session, space):
    """The advisory locks this transaction holds in ``space``: (key, mode)."""
    rows = session.execute(
        sqlalchemy.text(
            "SELECT objid::int, mode FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid = pg_backend_pid() AND classid::bigint = :space AND objsubid = 2"
        ),
        {"space": space},
    )
    return sorted((key, mode) for key, mode in rows)


@pytest.mark.parametrize("count", [3, imports.MAX_NAME_LOCKS])
def test_an_import_locks_the_names_of_its_documents(session, count):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has one writer at a time")
    incoming = [
        IncomingDocument(f"/{n}", text=f"Text {n}.", fields={"external_id": f"d{n}.txt"})
        for n in range(count // 2)
    ]
    imports.apply(session, incoming, actor="tester")
    assert _advisory_locks(session, imports.IMPORTS) == [(0, "ShareLock")]
    names = _advisory_locks(session, imports.IMPORT_LOCK)
    assert [mode for _, mode in names] == ["ExclusiveLock"] * (2 * (count // 2))
    assert _advisory_locks(session, imports.IMPORT_DOCUMENT) == []  # none stored yet
    imports.apply(session, incoming, actor="tester")  # now each name reaches its document
    reached = _advisory_locks(session, imports.IMPORT_DOCUMENT)
    assert [mode for _, mode in reached] == ["ExclusiveLock"] * (count // 2)


def test_an_import_of_more_names_runs_alone_without_a_lock_per_name(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has one writer at a time")
    incoming = [
        IncomingDocument(f"/{n}", text=f"Text {n}.", fields={"external_id": f"d{n}.txt"})
        for n in range(imports.MAX_NAME_LOCKS)
    ]
    imports.apply(session, incoming, actor="tester")
    assert _advisory_locks(session, imports.IMPORTS) == [(0, "ExclusiveLock")]
    assert _advisory_locks(session, imports.IMPORT_LOCK) == []
