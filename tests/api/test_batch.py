"""POST /v1/documents/{id}/annotations/batch: many annotations and links, all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.models import Annotation, Link
from tests.factories import make_annotation, make_document, make_link

TEXT = "Kim Jong-un met Vladimir Putin. He said: “We are allies.”"


@pytest.fixture
def document(session):
    return make_document(session, TEXT)


def batch(client, document, annotations=(), links=(), **headers):
    return client.post(
        f"/v1/documents/{document.id}/annotations/batch",
        json={"annotations": list(annotations), "links": list(links)},
        headers=headers,
    )


def span(quote, **fields):
    start = TEXT.index(quote)
    return {
        "type": "entity",
        "label": "PERSON",
        "start": start,
        "end": start + len(quote),
        **fields,
    }


def counts(session):
    return [session.scalar(select(func.count()).select_from(m)) for m in (Annotation, Link)]


def test_batch_writes_annotations_and_links_by_ref(client, document, session):
    response = batch(
        client,
        document,
        [
            span("Kim Jong-un", ref="kim"),
            span("He", ref="he"),
            {**span("We are allies."), "type": "quote", "label": "DIRECT", "ref": "q"},
        ],
        [
            {"type": "coreference", "source_ref": "he", "target_ref": "kim"},
            {
                "type": "speaker",
                "source_ref": "q",
                "target_ref": "he",
                "attributes": {"cue": "said"},
            },
        ],
    )
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/v1/documents/{document.id}/annotations")
    body = response.json
    assert [a["text"] for a in body["annotations"]] == ["Kim Jong-un", "He", "We are allies."]
    kim, he, quote = (a["id"] for a in body["annotations"])
    assert [(x["source_id"], x["target_id"]) for x in body["links"]] == [(he, kim), (quote, he)]
    assert body["links"][1]["attributes"] == {"cue": "said"}
    stored = client.get(f"/v1/documents/{document.id}/annotations").json["items"]
    assert {a["id"] for a in stored} == {kim, he, quote}
    assert client.get(f"/v1/annotations/{kim}").json == body["annotations"][0]


def test_links_may_name_stored_annotations_by_id(client, document, session):
    putin = make_annotation(session, document, "Vladimir Putin")
    session.commit()
    response = batch(
        client,
        document,
        [span("Kim Jong-un", ref="kim")],
        [{"type": "coreference", "source_ref": "kim", "target_id": str(putin.id)}],
    )
    assert response.status_code == 201


def test_batch_writes_are_in_the_history_and_the_feed(client, document):
    body = batch(client, document, [span("Kim Jong-un")]).json
    (change,) = client.get(f"/v1/annotations/{body['annotations'][0]['id']}/history").json["items"]
    assert change["action"] == "create"
    assert change["after"] == body["annotations"][0]


def test_one_bad_item_refuses_the_whole_batch_listing_every_failure(client, document, session):
    before = counts(session)
    response = batch(
        client,
        document,
        [
            span("Kim Jong-un", ref="kim"),
            span("He", label="VILLAIN"),
            {"type": "entity", "label": "PERSON", "start": 5, "end": 500},
            {"type": "entity", "label": "PERSON", "start": 0, "end": 3, "text": "Kix"},
            {"type": "entity", "label": "PERSON", "start": "0", "end": 3},
            {"type": "entity", "label": "PERSON", "start": 0, "end": 3, "colour": 1},
        ],
        [
            {"type": "coreference", "source_ref": "kim", "target_ref": "nobody"},
            {"type": "speaker", "source_ref": "kim", "target_ref": "kim"},
        ],
    )
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    errors = response.json["errors"]
    assert "'VILLAIN' is not a label" in errors["annotations.1.label"][0]
    assert errors["annotations.2.end"] == ["must be <= 57, the document's length"]
    assert errors["annotations.3.text"] == ["expected 'Kim', got 'Kix'"]
    assert errors["annotations.4.start"] == ["Not a valid integer."]
    assert errors["annotations.5.colour"] == ["Unknown field."]
    assert "'nobody' is not the ref" in errors["links.0.target_ref"][0]
    assert "must differ" in errors["links.1.target_id"][0]
    assert "must be of type 'quote'" in errors["links.1.source_id"][0]
    assert "nothing was written" in response.json["detail"]
    assert counts(session) == before


def test_duplicates_within_the_batch_and_against_stored_links_are_refused(
    client, document, session
):
    kim = make_annotation(session, document, "Kim Jong-un")
    he = make_annotation(session, document, "He")
    stored = make_link(session, "coreference", kim, he)
    session.commit()
    response = batch(
        client,
        document,
        [span("Vladimir Putin", ref="putin")],
        [
            {"type": "coreference", "source_id": str(he.id), "target_id": str(kim.id)},
            {"type": "coreference", "source_ref": "putin", "target_id": str(kim.id)},
            {"type": "coreference", "source_id": str(kim.id), "target_ref": "putin"},
        ],
    )
    assert response.status_code == 422
    errors = response.json["errors"]
    assert str(stored.id) in errors["links.0"][0]
    assert "repeats an earlier 'coreference' link" in errors["links.2"][0]
    assert "links.1" not in errors


def test_annotations_of_another_document_cannot_be_linked(client, document, session):
    elsewhere = make_annotation(session, make_document(session, "Kim"), "Kim")
    session.commit()
    response = batch(
        client,
        document,
        [span("Kim Jong-un", ref="kim")],
        [{"type": "coreference", "source_ref": "kim", "target_id": str(elsewhere.id)}],
    )
    assert response.status_code == 422
    assert (
        "is not an annotation of this document" in response.json["errors"]["links.0.target_id"][0]
    )


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        pytest.param({"annotations": {}}, 422, "annotations", id="not-a-list"),
        pytest.param({"items": []}, 422, "items", id="unknown-member"),
        pytest.param(["x"], 422, "_schema", id="not-an-object"),
    ],
)
def test_malformed_batches(client, document, body, status, field):
    response = client.post(f"/v1/documents/{document.id}/annotations/batch", json=body)
    assert response.status_code == status
    assert field in response.json["errors"]


def test_malformed_json_is_400(client, document):
    response = client.post(
        f"/v1/documents/{document.id}/annotations/batch",
        data="{nope",
        content_type="application/json",
    )
    assert response.status_code == 400


def test_too_many_items_is_422(make_app, session):
    document = make_document(session, "abc")
    client = make_app(max_batch_items=2).test_client()
    items = [{"type": "entity", "label": "PERSON", "start": 0, "end": 1}] * 3
    response = batch(client, document, items)
    assert response.status_code == 422
    assert "at most 2 items" in response.json["detail"]


def test_ten_thousand_annotations_in_one_request(client, session):
    document = make_document(session, "word " * 10_000)
    items = [
        {"type": "entity", "label": "CARDINAL", "start": 5 * i, "end": 5 * i + 4, "ref": str(i)}
        for i in range(10_000)
    ]
    links = [
        {"type": "coreference", "source_ref": str(i), "target_ref": str(i + 1)}
        for i in range(0, 2_000, 2)
    ]
    response = batch(client, document, items, links)
    assert response.status_code == 201
    assert len(response.json["annotations"]) == 10_000
    assert len(response.json["links"]) == 1_000


def test_a_retried_batch_is_written_once(client, document, session):
    before = counts(session)
    first = batch(client, document, [span("Kim Jong-un")], **{"Idempotency-Key": "b-1"})
    retry = batch(client, document, [span("Kim Jong-un")], **{"Idempotency-Key": "b-1"})
    assert retry.json == first.json
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert counts(session) == [before[0] + 1, before[1]]


@pytest.mark.parametrize(
    "item",
    [
        {"type": "entity", "label": "PERSON", "start": 0, "end": 3},
        {"type": "entity", "label": "PERSON", "start": 0, "end": 3, "confidence": 1.5},
        {"type": "entity", "label": "PERSON", "start": 0, "end": 3, "confidence": True},
        {"type": "entity", "label": "PERSON", "start": 0, "end": 3, "status": "maybe"},
        {"type": "entity", "label": "PERSON", "start": 0, "end": 3, "status": {}},
        {"type": "entity", "label": "PERSON", "start": 0, "end": 3, "status": ["accepted"]},
        {"type": "entity", "label": "PERSON", "start": 0, "end": 3, "attributes": []},
        {"type": "entity", "label": "PERSON", "start": 3, "end": 3},
        {"type": "entity", "label": "PERSON", "start": -1, "end": 3},
        {"type": "entity", "label": "PERSON", "start": 0, "end": 99},
        {"type": "entity", "label": "PERSON", "start": 0, "end": True},
        {"type": "entity", "label": "DIRECT", "start": 0, "end": 3},
        {"type": "event", "label": "PERSON", "start": 0, "end": 3},
        {"type": "entity", "start": 0, "end": 3},
        {"type": "entity", "label": "PERSON", "start": 0, "end": 3, "text": "Kim"},
        {"type": "entity", "label": "PERSON", "start": 0, "end": 3, "text": "Kin"},
        {"type": "entity", "label": "PERSON", "start": 0, "end": 3, "id": "x", "version": 4},
    ],
)
def test_batch_accepts_exactly_what_a_single_create_accepts(client, document, item):
    single = client.post(f"/v1/documents/{document.id}/annotations", json=item)
    many = batch(client, document, [item])
    assert (single.status_code == 201) == (many.status_code == 201), (single.json, many.json)


# --- checked outside the write transaction, written in it ------------------------------


@pytest.fixture
def meanwhile(monkeypatch):
    """Run a change after the batch is first checked (outside the write transaction)
    and before its write transaction starts: what a concurrent request could do."""
    from service.api import annotations as views

    changes = []
    opened = views.get_session

    def change_then_open():
        while changes:
            changes.pop(0)()
        return opened()

    monkeypatch.setattr(views, "get_session", change_then_open)
    return changes.append


def test_a_text_rewritten_meanwhile_is_checked_again(client, document, session, meanwhile):
    from service.services import revisions

    def rewrite():
        revisions.replace_text(
            session, document, TEXT.replace("Kim", "Tim"), actor="other", max_length=None
        )
        session.commit()

    meanwhile(rewrite)
    response = batch(client, document, [span("Kim")])
    assert response.status_code == 201, response.json
    assert response.json["annotations"][0]["text"] == "Tim"
    stored = session.scalars(select(Annotation).where(Annotation.created_by != "other")).all()
    assert [a.text for a in stored] == ["Tim"]


def test_a_text_rewritten_meanwhile_can_refuse_the_batch(client, document, session, meanwhile):
    from service.services import revisions

    def shorten():
        revisions.replace_text(session, document, "Kim", actor="other", max_length=None)
        session.commit()

    meanwhile(shorten)
    response = batch(client, document, [span("Kim"), span("Vladimir Putin")])
    assert response.status_code == 422
    assert response.json["errors"]["annotations.1.end"] == ["must be <= 3, the document's length"]
    assert counts(session) == [0, 0]


def test_a_label_removed_meanwhile_refuses_the_batch(client, document, session, meanwhile):
    from service.services import label_schema

    def drop_person():
        schema = label_schema.current(session)
        types = {
            name: {**spec, "labels": [x for x in spec["labels"] if x != "PERSON"]}
            for name, spec in schema.annotation_types.items()
        }
        links = {
            name: {
                **spec,
                **{
                    side: {k: v for k, v in spec[side].items() if k != "labels"}
                    for side in ("source", "target")
                },
            }
            for name, spec in schema.link_types.items()
        }
        label_schema.replace(session, types, links, actor="other")
        session.commit()

    meanwhile(drop_person)
    response = batch(client, document, [span("Kim")])
    assert response.status_code == 422
    assert (
        "'PERSON' is not a label of type 'entity'"
        in response.json["errors"]["annotations.0.label"][0]
    )
    assert counts(session) == [0, 0]


def test_a_stored_end_deleted_meanwhile_refuses_the_link(client, document, session, meanwhile):
    kim = make_annotation(session, document, "Kim Jong-un")
    session.commit()

    def delete_kim():
        session.delete(kim)
        session.commit()

    meanwhile(delete_kim)
    response = batch(
        client,
        document,
        [span("He", ref="he")],
        [{"type": "coreference", "source_ref": "he", "target_id": str(kim.id)}],
    )
    assert response.status_code == 422
    assert "links.0.target_id" in response.json["errors"]
    assert counts(session) == [0, 0]


def test_the_room_taken_meanwhile_refuses_the_batch(make_app, session, meanwhile):
    client = make_app(max_annotations_per_document=2).test_client()
    document = make_document(session, TEXT)
    session.commit()

    def fill():
        make_annotation(session, document, "Kim Jong-un")
        make_annotation(session, document, "Vladimir Putin")
        session.commit()

    meanwhile(fill)
    response = batch(client, document, [span("He")])
    assert response.status_code == 422
    assert "adding 1 would pass the limit of 2" in response.json["detail"]
    assert counts(session) == [2, 0]


def test_a_document_deleted_meanwhile_is_not_found(client, document, session, meanwhile):
    def delete_document():
        session.delete(document)
        session.commit()

    document_id = document.id
    meanwhile(delete_document)
    response = batch(client, document, [span("Kim")])
    assert response.status_code == 404
    assert response.json["detail"] == f"document {document_id} does not exist"
    assert counts(session) == [0, 0]
