"""The wire rows the hot lists read (services.wire), finished in formats.native, say
exactly what the presenters there say, on each database."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import select

from service.formats import native
from service.models import Link
from service.services import annotations, links
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
    bodies = orjson.loads(orjson.dumps([native.link_from_wire(row) for row in rows]))
    assert bodies == expected
    assert [list(body) for body in bodies] == [list(body) for body in expected]
    assert [body["dangling"] for body in bodies] == [False, True]


def test_the_hot_lists_send_what_the_presenters_say(client, session, stored):
    document, made, _links = stored
    body = client.get(f"/v1/documents/{document.id}/annotations?limit=100").json
    assert body["items"] == sorted(
        (native.annotation(a) for a in made), key=lambda b: (b["start"], b["end"], b["id"])
    )
    bundle = client.get(f"/v1/documents/{document.id}?include=annotations,links").json
    assert len(bundle["annotations"]) == len(made)
    assert {link["id"] for link in bundle["links"]} == {
        str(link.id) for link in session.scalars(select(Link))
    }
