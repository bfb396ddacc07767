from __future__ import annotations

import pytest

from tests.factories import make_annotation, make_document, make_link

PROBLEM = "application/problem+json"


@pytest.fixture
def document(session):
    return make_document(session, "Kim Jong-un met Vladimir Putin.")


def post(client, document, **fields):
    body = {"type": "entity", "label": "PERSON", "start": 0, "end": 11, **fields}
    return client.post(f"/v1/documents/{document.id}/annotations", json=body)


def test_create_fills_text_from_the_document(client, document):
    response = post(client, document, attributes={"mention": "name"}, confidence=0.5)
    assert response.status_code == 201
    body = response.json
    assert body["text"] == "Kim Jong-un"
    assert body["document_id"] == str(document.id)
    assert body["status"] == "accepted"
    assert body["created_by"] == "anonymous"
    assert body["attributes"] == {"mention": "name"}
    assert response.headers["Location"].endswith(f"/v1/annotations/{body['id']}")
    assert response.headers["ETag"] == '"1"'


def test_client_text_equal_to_the_slice_is_accepted(client, document):
    assert post(client, document, text="Kim Jong-un").status_code == 201


def test_client_text_that_differs_is_422_with_both_strings(client, document):
    response = post(client, document, text="Kim Jong-il")
    assert response.status_code == 422
    assert response.content_type == PROBLEM
    problem = response.json
    assert "'Kim Jong-il'" in problem["detail"]
    assert "'Kim Jong-un'" in problem["detail"]
    assert problem["expected_text"] == "Kim Jong-un"
    assert problem["given_text"] == "Kim Jong-il"
    assert problem["type"].endswith(":invalid-span")


@pytest.mark.parametrize(
    ("span", "field", "message"),
    [
        pytest.param({"start": 0, "end": 32}, "end", "must be <= 31", id="past-the-end"),
        pytest.param({"start": 31, "end": 40}, "end", "must be <= 31", id="starts-at-the-end"),
        pytest.param({"start": 4, "end": 4}, "end", "greater than start", id="empty"),
        pytest.param({"start": 9, "end": 4}, "end", "greater than start", id="reversed"),
        pytest.param({"start": -1, "end": 4}, "start", "greater than or equal to 0", id="negative"),
        pytest.param({"start": 1.5, "end": 4}, "start", "Not a valid integer", id="float"),
        pytest.param({"start": "1", "end": 4}, "start", "Not a valid integer", id="string"),
        pytest.param({"start": True, "end": 4}, "start", "Not a valid integer", id="boolean"),
        pytest.param({"start": 0, "end": None}, "end", "Field may not be null", id="null"),
    ],
)
def test_invalid_span_is_422_naming_the_field(client, document, span, field, message):
    response = post(client, document, **span)
    assert response.status_code == 422
    assert response.content_type == PROBLEM
    assert any(message in m for m in response.json["errors"][field]), response.json


def test_span_of_the_whole_text_is_valid(client, document):
    response = post(client, document, start=0, end=31, label="PERSON")
    assert response.status_code == 201
    assert response.json["text"] == document.text


def test_unknown_type_is_422(client, document):
    response = post(client, document, type="event")
    assert response.status_code == 422
    assert "unknown annotation type 'event'" in response.json["errors"]["type"][0]


def test_label_of_another_type_is_422(client, document):
    response = post(client, document, label="DIRECT")
    assert response.status_code == 422
    assert "'DIRECT' is not a label of type 'entity'" in response.json["errors"]["label"][0]


def test_unknown_status_is_422(client, document):
    response = post(client, document, status="maybe")
    assert response.status_code == 422
    assert "status" in response.json["errors"]


def test_confidence_outside_0_1_is_422(client, document):
    assert post(client, document, confidence=1.5).status_code == 422


def test_annotating_a_missing_document_is_404(client, document):
    response = client.post(
        "/v1/documents/00000000-0000-7000-8000-000000000000/annotations",
        json={"type": "entity", "label": "PERSON", "start": 0, "end": 1},
    )
    assert response.status_code == 404
    assert response.content_type == PROBLEM


# Offsets count code points: "😀" (U+1F600) is one code point but two UTF-16 units, and
# "é" written as e + U+0301 is two code points.
EMOJI_TEXT = "Hi 😀 Zoë and Zoe\u0301 😀😀 Putin."


@pytest.mark.parametrize(
    ("quote", "start", "end"),
    [
        pytest.param("😀", 3, 4, id="astral"),
        pytest.param("Zoë", 5, 8, id="precomposed"),
        pytest.param("Zoe\u0301", 13, 17, id="combining-mark"),
        pytest.param("😀😀", 18, 20, id="two-astral"),
        pytest.param("Putin", 21, 26, id="after-astral"),
    ],
)
def test_offsets_count_code_points(client, session, quote, start, end):
    document = make_document(session, EMOJI_TEXT)
    response = post(client, document, start=start, end=end)
    assert response.status_code == 201
    assert response.json["text"] == quote


def test_a_span_may_split_a_combining_sequence_since_offsets_are_code_points(client, session):
    document = make_document(session, EMOJI_TEXT)
    response = post(client, document, start=13, end=16)
    assert response.json["text"] == "Zoe"


def test_patch_moves_the_span_and_refills_text(client, document):
    created = post(client, document).json
    response = client.patch(f"/v1/annotations/{created['id']}", json={"start": 16, "end": 30})
    assert response.status_code == 200
    assert response.json["text"] == "Vladimir Putin"
    assert response.json["version"] == 2


def test_patch_with_a_span_past_the_end_is_422_and_changes_nothing(client, document):
    created = post(client, document).json
    response = client.patch(f"/v1/annotations/{created['id']}", json={"end": 99})
    assert response.status_code == 422
    assert client.get(f"/v1/annotations/{created['id']}").json == created


def test_patch_label_must_be_in_the_schema(client, document):
    created = post(client, document).json
    response = client.patch(f"/v1/annotations/{created['id']}", json={"label": "NOPE"})
    assert response.status_code == 422
    assert "label" in response.json["errors"]


def test_patch_relabel_that_breaks_a_link_is_422_naming_the_link(client, session, document):
    quote = make_annotation(session, document, "met", type="quote", label="DIRECT")
    kim = make_annotation(session, document, "Kim Jong-un")
    link = make_link(session, "speaker", quote, kim)
    response = client.patch(f"/v1/annotations/{kim.id}", json={"label": "DATE"})
    assert response.status_code == 422
    assert str(link.id) in response.json["errors"]["label"][0]


def test_patch_send_back_what_was_read(client, document):
    created = post(client, document).json
    response = client.patch(
        f"/v1/annotations/{created['id']}", json={**created, "status": "rejected"}
    )
    assert response.status_code == 200
    assert response.json["status"] == "rejected"


def test_delete_annotation_deletes_its_links_only(client, session, document):
    kim = make_annotation(session, document, "Kim Jong-un")
    putin = make_annotation(session, document, "Vladimir Putin")
    met = make_annotation(session, document, "met", type="claim", label="FACTUAL")
    gone = make_link(session, "about", met, kim)
    kept = make_link(session, "about", met, putin)

    assert client.delete(f"/v1/annotations/{kim.id}").status_code == 204

    assert client.get(f"/v1/links/{gone.id}").status_code == 404
    assert client.get(f"/v1/links/{kept.id}").status_code == 200
    assert client.get(f"/v1/annotations/{putin.id}").status_code == 200
    assert client.get(f"/v1/documents/{document.id}").status_code == 200


def test_list_is_ordered_by_start_end_id(client, session, document):
    spans = [(16, 30), (0, 11), (0, 3), (16, 24), (0, 11)]
    made = [make_annotation(session, document, start=s, end=e) for s, e in spans]
    response = client.get(f"/v1/documents/{document.id}/annotations")
    got = [(a["start"], a["end"], a["id"]) for a in response.json["items"]]
    assert got == sorted((a.start, a.end, str(a.id)) for a in made)


def test_attributes_nested_deeper_than_can_be_stored_are_422(client, session):
    document = make_document(session, "Kim met Putin.")
    session.commit()
    deep: object = 1
    for _ in range(201):
        deep = [deep]
    response = client.post(
        f"/v1/documents/{document.id}/annotations",
        json={"type": "entity", "label": "PERSON", "start": 0, "end": 3, "attributes": {"x": deep}},
    )
    assert response.status_code == 422
    assert response.json["detail"] == (
        "attributes holds arrays and objects nested deeper than 200, which cannot be stored"
    )
    assert client.get(f"/v1/documents/{document.id}/annotations").json["items"] == []
