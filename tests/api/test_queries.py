"""Finding annotations by position, label and text; searching documents; one round
trip for a whole document; entities."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, text

from service.models import Annotation, Document
from tests.factories import make_annotation, make_document, make_link

TEXT = "0123456789" * 3  # offsets are easy to read
NOW = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def spans(session):
    """Spans on one document, by name: touching, nested, overlapping."""
    document = make_document(session, TEXT)
    made = {
        "a": make_annotation(session, document, start=0, end=5, label="PERSON"),
        "b": make_annotation(session, document, start=5, end=9, label="ORG", status="proposed"),
        "c": make_annotation(session, document, start=2, end=12, type="quote", label="DIRECT"),
        "d": make_annotation(session, document, start=20, end=25, label="GPE"),
        "e": make_annotation(session, document, start=6, end=7, label="PERSON"),
    }
    session.commit()
    return document, made


def names(client, url, made):
    by_id = {str(a.id): name for name, a in made.items()}
    response = client.get(url)
    assert response.status_code == 200, response.json
    return [by_id[item["id"]] for item in response.json["items"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("", ["a", "c", "b", "e", "d"], id="all-in-span-order"),
        pytest.param("overlaps=5,9", ["c", "b", "e"], id="overlaps-excludes-touching"),
        pytest.param("overlaps=0,1", ["a"], id="overlaps-start"),
        pytest.param("overlaps=9,20", ["c"], id="overlaps-gap-touching-d"),
        pytest.param("overlaps=24,30", ["d"], id="overlaps-end"),
        pytest.param("within=0,9", ["a", "b", "e"], id="within"),
        pytest.param("within=5,9", ["b", "e"], id="within-exact"),
        pytest.param("at=5", ["c", "b"], id="at-start-of-b-end-of-a"),
        pytest.param("at=4", ["a", "c"], id="at-last-code-point"),
        pytest.param("at=9", ["c"], id="at-end-is-exclusive"),
        pytest.param("type=quote", ["c"], id="type"),
        pytest.param("label=PERSON", ["a", "e"], id="label"),
        pytest.param("label=PERSON,GPE", ["a", "e", "d"], id="labels"),
        pytest.param("status=proposed", ["b"], id="status"),
        pytest.param("created_by=test", ["a", "c", "b", "e", "d"], id="created-by"),
        pytest.param("created_by=nobody", [], id="created-by-nobody"),
        pytest.param("label=PERSON&overlaps=4,7", ["a", "e"], id="label-and-overlaps"),
        pytest.param("type=entity&within=0,12&status=accepted", ["a", "e"], id="three-filters"),
    ],
)
def test_document_annotation_filters(client, spans, query, expected):
    document, made = spans
    assert names(client, f"/v1/documents/{document.id}/annotations?{query}", made) == expected


@pytest.mark.parametrize(
    "query",
    [
        "overlaps=5",
        "overlaps=9,5",
        "overlaps=a,b",
        "within=3,3",
        "at=-1",
        "status=maybe",
        "overlaps=-1,4",
    ],
)
def test_malformed_filters_are_400(client, spans, query):
    document, _ = spans
    response = client.get(f"/v1/documents/{document.id}/annotations?{query}")
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"


def test_filtered_pages_follow_the_cursor(client, spans):
    document, made = spans
    url = f"/v1/documents/{document.id}/annotations?label=PERSON,ORG,GPE&limit=2"
    first = client.get(url).json
    second = client.get(f"{url}&cursor={first['next_cursor']}").json
    by_id = {str(a.id): name for name, a in made.items()}
    assert [by_id[i["id"]] for i in first["items"] + second["items"]] == ["a", "b", "e", "d"]
    assert second["next_cursor"] is None


def test_corpus_search_by_text_ignoring_case(client, session):
    one = make_document(session, "Kim met Putin. KIM smiled.")
    other = make_document(session, "Kimchi for Putin.")
    kims = [make_annotation(session, one, "Kim"), make_annotation(session, one, "KIM")]
    make_annotation(session, one, "Putin")
    kimchi = make_annotation(session, other, "Kimchi", label="PRODUCT")
    session.commit()
    items = client.get("/v1/annotations?q=kim").json["items"]
    expected = sorted([*kims, kimchi], key=lambda a: (str(a.document_id), a.start))
    assert [i["id"] for i in items] == [str(a.id) for a in expected]
    only_one = client.get(f"/v1/annotations?q=kim&document_id={one.id}").json["items"]
    assert {i["id"] for i in only_one} == {str(a.id) for a in kims}


def test_corpus_search_escapes_wildcards(client, session):
    document = make_document(session, "50% of 5_0 people")
    make_annotation(session, document, "50%", label="PERCENT")
    make_annotation(session, document, "5_0", label="CARDINAL")
    session.commit()
    assert [i["text"] for i in client.get("/v1/annotations?q=%25").json["items"]] == ["50%"]
    assert [i["text"] for i in client.get("/v1/annotations?q=_").json["items"]] == ["5_0"]


def test_corpus_list_is_ordered_by_document_then_span(client, session):
    docs = [make_document(session, "abc abc"), make_document(session, "abc abc")]
    for document in docs:
        make_annotation(session, document, start=4, end=7)
        make_annotation(session, document, start=0, end=3)
    session.commit()
    items = client.get("/v1/annotations?label=PERSON").json["items"]
    keys = [(i["document_id"], i["start"]) for i in items]
    assert keys == sorted(keys)


def test_cursor_stays_correct_while_spans_are_written(client, spans):
    document, made = spans
    seen, cursor = [], None
    while True:
        url = f"/v1/documents/{document.id}/annotations?limit=2" + (
            f"&cursor={cursor}" if cursor else ""
        )
        page = client.get(url).json
        seen += [item["id"] for item in page["items"]]
        client.post(
            f"/v1/documents/{document.id}/annotations",
            json={"type": "entity", "label": "DATE", "start": 0, "end": 1},
        )
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert all(seen.count(str(a.id)) == 1 for a in made.values())


# --- documents ------------------------------------------------------------------------


@pytest.fixture
def corpus(client):
    def create(text, title, published):
        return client.post(
            "/v1/documents", json={"text": text, "title": title, "published_at": published}
        ).json["id"]

    return {
        "shells": create(
            "Artillery shells were delivered to Russia.", "Shells", "2024-06-01T00:00:00Z"
        ),
        "summit": create(
            "Kim met Putin in Pyongyang; artillery came up.", "Summit", "2024-06-19T12:00:00Z"
        ),
        "report": create("Nothing else happened.", "Artillery report", "2024-07-01T00:00:00Z"),
    }


def titles(client, query):
    response = client.get(f"/v1/documents?{query}")
    assert response.status_code == 200, response.json
    return [d["title"] for d in response.json["items"]]


def test_full_text_search_ranks_title_matches_first(client, corpus):
    found = titles(client, "q=artillery")
    assert found[0] == "Artillery report"
    assert set(found) == {"Shells", "Summit", "Artillery report"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("q=artillery%20shells", {"Shells"}, id="every-word"),
        pytest.param("q=PUTIN", {"Summit"}, id="ignores-case"),
        pytest.param("q=missiles", set(), id="no-match"),
        pytest.param("q=%22(*%20OR", set(), id="operators-are-words"),
        pytest.param(
            "published_after=2024-06-19T12:00:00Z",
            {"Summit", "Artillery report"},
            id="after-inclusive",
        ),
        pytest.param(
            "published_before=2024-06-19T12:00:00Z", {"Shells", "Summit"}, id="before-inclusive"
        ),
        pytest.param(
            "q=artillery&published_before=2024-06-30T00:00:00Z",
            {"Shells", "Summit"},
            id="q-and-date",
        ),
    ],
)
def test_document_search_filters(client, corpus, query, expected):
    assert set(titles(client, query)) == expected


def test_search_pages_follow_the_cursor(client, corpus):
    first = client.get("/v1/documents?q=artillery&limit=2").json
    second = client.get(f"/v1/documents?q=artillery&limit=2&cursor={first['next_cursor']}").json
    ids = [d["id"] for d in first["items"] + second["items"]]
    assert sorted(ids) == sorted(corpus.values())
    assert second["next_cursor"] is None


def test_search_follows_title_changes(client, corpus):
    client.patch(f"/v1/documents/{corpus['report']}", json={"title": "Quiet day"})
    assert "Quiet day" in titles(client, "q=quiet")
    client.delete(f"/v1/documents/{corpus['shells']}")
    assert "Shells" not in titles(client, "q=artillery")


# --- one round trip -------------------------------------------------------------------


def test_include_returns_the_document_with_all_annotations_and_links(client, session):
    document = make_document(session, "Kim met Putin. He smiled.")
    kim, he = make_annotation(session, document, "Kim"), make_annotation(session, document, "He")
    make_annotation(session, document, "Putin")
    link = make_link(session, "coreference", kim, he)
    session.commit()
    response = client.get(f"/v1/documents/{document.id}?include=annotations,links")
    body = response.json
    assert [a["text"] for a in body["annotations"]] == ["Kim", "Putin", "He"]
    assert [item["id"] for item in body["links"]] == [str(link.id)]
    assert body["text"] == "Kim met Putin. He smiled."
    assert response.headers["ETag"].startswith('W/"')
    cached = client.get(
        f"/v1/documents/{document.id}?include=annotations,links",
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert cached.status_code == 304
    client.patch(f"/v1/annotations/{he.id}", json={"status": "rejected"})
    changed = client.get(
        f"/v1/documents/{document.id}?include=annotations,links",
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert changed.status_code == 200
    only_links = client.get(f"/v1/documents/{document.id}?include=links").json
    assert "annotations" not in only_links
    assert len(only_links["links"]) == 1


def test_include_of_something_else_is_400(client, session):
    document = make_document(session)
    assert client.get(f"/v1/documents/{document.id}?include=comments").status_code == 400


def test_a_document_holds_at_most_the_configured_number_of_annotations(make_app, session):
    client = make_app(max_annotations_per_document=2).test_client()
    document = make_document(session, "abcdef")
    session.commit()
    url = f"/v1/documents/{document.id}/annotations"
    for start in (0, 1):
        assert (
            client.post(
                url, json={"type": "entity", "label": "PERSON", "start": start, "end": start + 1}
            ).status_code
            == 201
        )
    third = client.post(url, json={"type": "entity", "label": "PERSON", "start": 2, "end": 3})
    assert third.status_code == 422
    assert "limit of 2 per document" in third.json["detail"]
    batch = client.post(
        f"{url}/batch",
        json={"annotations": [{"type": "entity", "label": "PERSON", "start": 3, "end": 4}]},
    )
    assert batch.status_code == 422


# --- entities ------------------------------------------------------------------------


def test_entities_are_coreference_components_named_by_their_longest_name(client, session):
    document = make_document(
        session, "Kim Jong-un met Putin. Kim said the dictator smiled. He left."
    )
    full = make_annotation(session, document, "Kim Jong-un", attributes={"mention": "name"})
    short = make_annotation(session, document, start=23, end=26, attributes={"mention": "name"})
    nominal = make_annotation(session, document, "dictator", attributes={"mention": "nominal"})
    he = make_annotation(session, document, "He", attributes={"mention": "pronoun"})
    putin = make_annotation(session, document, "Putin", attributes={"mention": "name"})
    make_link(session, "coreference", short, full)
    make_link(session, "coreference", nominal, short)
    make_link(session, "coreference", he, nominal)
    session.commit()
    body = client.get(f"/v1/documents/{document.id}/entities").json
    assert body["next_cursor"] is None
    assert [(e["name"], e["label"], len(e["mentions"])) for e in body["items"]] == [
        ("Kim Jong-un", "PERSON", 4),
        ("Putin", "PERSON", 1),
    ]
    assert body["items"][0]["id"] == str(full.id)
    assert [m["text"] for m in body["items"][0]["mentions"]] == [
        "Kim Jong-un",
        "Kim",
        "dictator",
        "He",
    ]
    assert body["items"][1]["mentions"][0]["id"] == str(putin.id)


def test_entities_of_the_seed_article(client, session):
    from service.paths import project_directory
    from service.services.corpus import MANIFEST, import_folder

    (report,) = import_folder(session, project_directory("seeds", MANIFEST), actor="seed")
    session.commit()
    items = client.get(f"/v1/documents/{report.document_id}/entities").json["items"]
    by_name = {e["name"]: e for e in items}
    assert "North Korean dictator" in {m["text"] for m in by_name["Kim Jong-un"]["mentions"]}
    assert "Kim Yong-hyun" in by_name
    assert by_name["Kim Yong-hyun"]["label"] == "PERSON"


def test_entities_of_a_missing_document_is_404(client):
    assert (
        client.get("/v1/documents/00000000-0000-7000-8000-000000000000/entities").status_code == 404
    )


# --- indexes --------------------------------------------------------------------------


def test_overlap_query_on_one_document_uses_an_index(session):
    """With a corpus shaped like the real one (many documents of ~60 spans) and fresh
    statistics, PostgreSQL's plan for an overlap query must use an index."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("reads PostgreSQL's EXPLAIN")
    documents = [uuid.uuid4() for _ in range(300)]
    session.execute(
        insert(Document),
        [
            {
                "id": d,
                "text": "x" * 4000,
                "length": 4000,
                "meta": {},
                "version": 1,
                "created_at": NOW,
                "updated_at": NOW,
            }
            for d in documents
        ],
    )
    session.execute(
        insert(Annotation),
        [
            {
                "id": uuid.uuid4(),
                "document_id": d,
                "type": "entity",
                "label": "PERSON",
                "start": 60 * i,
                "end": 60 * i + 20,
                "text": "x" * 20,
                "attributes": {},
                "status": "accepted",
                "created_by": "test",
                "version": 1,
                "created_at": NOW,
                "updated_at": NOW,
            }
            for d in documents
            for i in range(60)
        ],
    )
    session.execute(text("ANALYZE annotations"))
    plan = "\n".join(
        row[0]
        for row in session.execute(
            text(
                "EXPLAIN SELECT * FROM annotations WHERE document_id = :d AND start_offset < 2000 "
                "AND end_offset > 1000 ORDER BY document_id, start_offset, end_offset, id LIMIT 51"
            ),
            {"d": documents[17]},
        )
    )
    assert "ix_annotations_document" in plan, plan
    assert "Seq Scan" not in plan, plan


# --- the hot lists render exactly what the presenters render --------------------------


def test_list_and_bundle_items_equal_the_single_resource(client, session):
    document = make_document(session, "Zoë met Putin 😀.")
    odd = make_annotation(
        session,
        document,
        "Zoë",
        attributes={"note": "naïve “quote”", "nested": {"n": [1, 2.5, None]}},
        confidence=0.1 + 0.2,
    )
    plain = make_annotation(session, document, "Putin")
    link = make_link(session, "coreference", odd, plain)
    # A timestamp whose fraction is zero is written without one.
    table = Annotation.__table__
    session.execute(
        table.update()
        .where(table.c.id == plain.id)
        .values(created_at=datetime(2024, 10, 9, 8, 0, 0, tzinfo=UTC))
    )
    session.commit()
    singles = {str(a.id): client.get(f"/v1/annotations/{a.id}").json for a in (odd, plain)}
    assert singles[str(plain.id)]["created_at"] == "2024-10-09T08:00:00Z"
    listed = client.get(f"/v1/documents/{document.id}/annotations").json["items"]
    assert {item["id"]: item for item in listed} == singles
    across = client.get(f"/v1/annotations?document_id={document.id}").json["items"]
    assert {item["id"]: item for item in across} == singles
    bundle = client.get(f"/v1/documents/{document.id}?include=annotations,links").json
    assert {item["id"]: item for item in bundle["annotations"]} == singles
    assert bundle["links"] == [client.get(f"/v1/links/{link.id}").json]
