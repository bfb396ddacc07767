"""The wire rows the hot lists read (services.wire), finished in formats.native, say
exactly what the presenters there say, on each database."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import select, text, update

from service.formats import native
from service.models import Annotation, Document, Link
from service.services import annotations, bundle, links
from tests.factories import make_annotation, make_document, make_link

TEXT = 'Kim said "no\\" \n\t\u2028 — 🙂 and Putin said 0'

# Numbers whose shortest exact decimal needs 1, 15, 16 and 17 digits, the smallest, and
# tiny ones that SQLite's own round-trip check (quote()) gets wrong.
CONFIDENCES = [
    None,
    0.0,
    1.0,
    0.1,
    1 / 3,
    0.30000000000000004,
    1e-05,
    5e-324,
    0.123456789012345,
    1.1014034467278299e-299,
    2.2250738585072014e-308,
]
ATTRIBUTES = [
    {},
    {"wikidata": "Q56226", "nested": {"list": [1, 2.5, None, True, "é"]}},
    {"quote": 'with "quotes" and \\ and \n and \u0001'},
    # Where the lists write a confidence into the database's JSON (native.json_array).
    {"confidence": None, "note": '"confidence": null', "n": 0.30000000000000004},
]


@pytest.fixture
def stored(session):
    document = make_document(session, TEXT)
    made = [
        make_annotation(
            session,
            document,
            start=index % 5,
            end=index % 5 + 3,
            confidence=confidence,
            attributes=ATTRIBUTES[index % len(ATTRIBUTES)],
        )
        for index, confidence in enumerate(CONFIDENCES)
    ]
    made.append(make_annotation(session, document, "🙂 and", label="ORG", status="proposed"))
    made[3].created_by = 'a "confidence" null'
    whole_second = datetime(2026, 11, 27, 10, 30, 0, tzinfo=UTC)
    made[0].created_at = whole_second
    made[1].updated_at = datetime(2026, 11, 27, 10, 30, 0, 5, tzinfo=UTC)
    made[2].updated_at = datetime(2026, 11, 27, 10, 30, 0, 500000, tzinfo=UTC)  # ".5" there
    link = make_link(session, "coreference", made[0], made[1])
    flagged = make_link(session, "coreference", made[2], made[-1])
    flagged.dangling = True
    link.attributes = ATTRIBUTES[1]
    session.commit()
    return document, made, [link, flagged]


def test_annotation_wire_rows_are_the_presenters(session, stored):
    """Finished by annotation_from_wire: the same keys in the same order, the same
    values (floats exactly)."""
    document, made, _links = stored
    by_id = {str(a.id): native.annotation(a) for a in made}
    rows = annotations.all_of_document(session, document.id)
    assert len(rows) == len(made)
    # Together, as lists present them (what rows share is worked out once), and alone.
    together = orjson.loads(orjson.dumps(native.annotations_from_wire(rows)))
    alone = [orjson.loads(orjson.dumps(native.annotation_from_wire(row))) for row in rows]
    assert together == alone
    for body in together:
        assert body == by_id[body["id"]]
        assert list(body) == list(by_id[body["id"]])


def test_link_wire_rows_are_the_presenters(session, stored):
    document, _made, stored_links = stored
    rows = links.all_of_document(session, document.id)
    expected = sorted((native.link(link) for link in stored_links), key=lambda b: b["id"])
    bodies = orjson.loads(orjson.dumps(native.links_from_wire(rows)))
    alone = [orjson.loads(orjson.dumps(native.link_from_wire(row))) for row in rows]
    assert bodies == alone
    assert bodies == expected
    assert [list(body) for body in bodies] == [list(body) for body in expected]
    assert [body["dangling"] for body in bodies] == [False, True]


def _bundle_statement(session):
    return bundle._document(session.get_bind().dialect.name == "postgresql")


def test_document_wire_rows_are_the_presenter(session, stored):
    """With every field set (times whole seconds and not, metadata of every JSON kind),
    and with every optional field empty."""
    full, _made, _links = stored
    full.external_id, full.title, full.source_url = "ext-1", 'A "title" 🙂', "https://x.org/a"
    full.language, full.meta = "en", ATTRIBUTES[1]
    full.published_at = datetime(2026, 11, 27, 0, 0, 0, tzinfo=UTC)
    full.updated_at = datetime(2026, 11, 27, 10, 30, 0, 120000, tzinfo=UTC)
    bare = Document(text="x", length=1, version=1)
    session.add(bare)
    session.commit()
    session.refresh(full)
    for document in (full, bare):
        (row,) = session.execute(_bundle_statement(session), {"document_id": document.id}).all()
        body = native.document_from_wire(row)
        assert body == native.document(document)
        assert list(body) == list(native.document(document))
        assert orjson.dumps(body) == orjson.dumps(native.document(document))


def test_the_hot_lists_send_what_the_presenters_say(client, session, stored):
    document, made, _links = stored
    body = client.get(f"/v1/documents/{document.id}/annotations?limit=100").json
    assert body["items"] == sorted(
        (native.annotation(a) for a in made), key=lambda b: (b["start"], b["end"], b["id"])
    )
    whole = client.get(f"/v1/documents/{document.id}?include=annotations,links").json
    assert whole["annotations"] == body["items"]
    assert whole["links"] == sorted(
        (native.link(link) for link in session.scalars(select(Link))), key=lambda b: b["id"]
    )
    assert {k: v for k, v in whole.items() if k not in ("annotations", "links")} == (
        native.document(document)
    )
    # Each part alone, and none.
    assert "links" not in client.get(f"/v1/documents/{document.id}?include=annotations").json
    only_links = client.get(f"/v1/documents/{document.id}?include=links").json
    assert "annotations" not in only_links
    assert only_links["links"] == whole["links"]
    assert client.get(f"/v1/documents/{document.id}").json == native.document(document)


def test_the_lists_send_the_database_json_of_each_annotation(client, session, stored):
    """The document's list and the corpus list write annotations.api_json as it is
    (with the confidence put in), page after page: the same as the presenter, member
    for member, in the same order."""
    document, made, _links = stored
    expected = sorted(
        (native.annotation(a) for a in made), key=lambda b: (b["start"], b["end"], b["id"])
    )
    for path in (f"/v1/documents/{document.id}/annotations", "/v1/annotations"):
        items, cursor = [], None
        while True:
            query = {"limit": 4, **({"cursor": cursor} if cursor else {})}
            response = client.get(path, query_string=query)
            assert response.headers["Offset-Unit"] == "codepoint"
            items += orjson.loads(response.data)["items"]
            cursor = response.json["next_cursor"]
            if cursor is None:
                break
        assert items == expected
        assert [list(item) for item in items] == [list(body) for body in expected]
        # 0.0 and 1.0 too, read back as floats.
        confidences = [item["confidence"] for item in items]
        assert {type(c) for c in confidences} == {float, type(None)}


def test_the_database_json_follows_every_change_of_a_row(client, session, stored):
    """Generated by the database on every write, by the ORM or by plain statements."""
    document, made, _links = stored
    changed = made[4]
    changed.label = "ORG"
    changed.confidence = 0.625
    changed.attributes = {"after": "the change"}
    changed.updated_at = datetime(2026, 11, 28, 1, 2, 3, tzinfo=UTC)
    session.execute(update(Annotation).where(Annotation.id == made[5].id).values(status="rejected"))
    session.commit()
    session.expire_all()
    listed = {
        item["id"]: item
        for item in client.get(f"/v1/documents/{document.id}/annotations").json["items"]
    }
    for annotation in (changed, made[5]):
        assert listed[str(annotation.id)] == native.annotation(annotation)
    assert listed[str(changed.id)]["updated_at"] == "2026-11-28T01:02:03Z"
    assert listed[str(made[5].id)]["status"] == "rejected"


def test_json_array_writes_a_confidence_in_place_of_the_last_one(session):
    """Only the annotation's own confidence member, the last of the text, is filled."""
    stored_json = (
        '{"attributes":{"confidence":null},"confidence":null,"created_by":"\\"confidence\\""}'
    )
    written = orjson.loads(
        orjson.dumps(native.json_array([(stored_json, 0.1), (stored_json, None)]))
    )
    assert written[0] == {
        "attributes": {"confidence": None},
        "confidence": 0.1,
        "created_by": '"confidence"',
    }
    assert written[1]["confidence"] is None


def test_json_array_sends_whole_texts_as_they_are():
    """Rows of the text alone (PostgreSQL writes the confidence itself), and SQLite's
    with no confidence to write."""
    written = native.json_array([('{"a":1,"confidence":0.5}',), ('{"b":"null"}',)])
    assert orjson.dumps(written) == b'[{"a":1,"confidence":0.5},{"b":"null"}]'
    assert orjson.dumps(native.json_array([])) == b"[]"
    # SQLite's rows with no confidence to write, and one of 0.0 (which is written).
    null = '{"confidence":null}'
    assert orjson.dumps(native.json_array([(null, None), (null, None)])) == (
        b'[{"confidence":null},{"confidence":null}]'
    )
    assert orjson.loads(orjson.dumps(native.json_array([(null, None), (null, 0.0)]))) == [
        {"confidence": None},
        {"confidence": 0.0},
    ]


def test_postgresql_writes_each_confidence_exactly_whatever_the_session_says(
    client, session, stored
):
    """The database's text of a double follows the session's extra_float_digits;
    annotation_json() sets its own, so a writer that asks for fewer digits changes
    nothing."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite leaves the confidence to the reader")
    document, made, _links = stored
    session.execute(text("SET extra_float_digits = 0"))
    session.execute(update(Annotation).where(Annotation.id == made[0].id).values(confidence=1 / 3))
    session.commit()
    stored_json = session.execute(
        select(Annotation.__table__.c.api_json).where(Annotation.id == made[0].id)
    ).scalar_one()
    assert '"confidence":0.3333333333333333,' in stored_json
    listed = client.get(f"/v1/documents/{document.id}/annotations").json["items"]
    assert {item["id"]: item["confidence"] for item in listed}[str(made[0].id)] == 1 / 3


def test_a_sqlite_list_reads_its_index_alone(session):
    """On SQLite, api_json is VIRTUAL: read from anywhere but the index, each row would
    be computed again."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's query plan")
    plan = session.execute(
        text(
            "EXPLAIN QUERY PLAN SELECT api_json, confidence FROM annotations "
            "WHERE document_id = :d AND anchor != 'orphaned' "
            "ORDER BY document_id, start_offset, end_offset, id LIMIT 101"
        ),
        {"d": "0" * 32},
    ).all()
    assert "ix_annotations_document_api_json" in " ".join(str(row) for row in plan)
