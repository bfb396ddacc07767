from __future__ import annotations

import pytest

from tests.factories import make_annotation, make_document, make_link

PROBLEM = "application/problem+json"


def create(client, **fields):
    return client.post("/v1/documents", json={"text": "Some text.", **fields})


def test_create_returns_201_with_location_etag_and_the_document(client):
    response = create(
        client,
        external_id="a.txt",
        title="T",
        language="en",
        published_at="2024-10-09T02:00:00+02:00",
        metadata={"k": [1]},
    )
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"] == f"http://localhost/v1/documents/{body['id']}"
    assert response.headers["ETag"] == '"1"'
    assert body["published_at"] == "2024-10-09T00:00:00Z"
    assert body["length"] == 10
    assert body["metadata"] == {"k": [1]}
    assert body["version"] == 1
    assert body["created_at"].endswith("Z")


def test_created_document_reads_back(client):
    created = create(client, title="Read me").json
    response = client.get(f"/v1/documents/{created['id']}")
    assert response.status_code == 200
    assert response.json == created


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        pytest.param({}, "text", "Missing data for required field.", id="missing"),
        pytest.param({"text": ""}, "text", "Must not be empty.", id="empty"),
        pytest.param({"text": 5}, "text", "Not a valid string.", id="not-a-string"),
        pytest.param({"text": "x", "colour": 1}, "colour", "Unknown field.", id="unknown"),
        pytest.param(
            {"text": "x", "published_at": "2024-10-09T00:00:00"},
            "published_at",
            "Not a valid aware datetime.",
            id="naive-datetime",
        ),
        pytest.param(
            {"text": "x", "language": "english!"}, "language", "Not a BCP 47", id="language"
        ),
    ],
)
def test_invalid_document_is_422_naming_the_field(client, body, field, message):
    response = client.post("/v1/documents", json=body)
    assert response.status_code == 422
    assert response.content_type == PROBLEM
    assert any(message in m for m in response.json["errors"][field])


def test_read_only_fields_in_a_create_are_ignored(client):
    response = create(client, id="x", version=9, length=1, created_at="2000-01-01T00:00:00Z")
    assert response.status_code == 201
    assert response.json["version"] == 1
    assert response.json["length"] == 10


def test_duplicate_external_id_is_409(client):
    first = create(client, external_id="dup.txt").json
    response = create(client, external_id="dup.txt")
    assert response.status_code == 409
    assert response.content_type == PROBLEM
    assert first["id"] in response.json["detail"]


def test_patch_changes_metadata_and_bumps_version(client):
    doc = create(client, title="Old").json
    response = client.patch(f"/v1/documents/{doc['id']}", json={"title": "New", "language": "fr"})
    assert response.status_code == 200
    assert response.json["title"] == "New"
    assert response.json["language"] == "fr"
    assert response.json["version"] == 2
    assert response.headers["ETag"] == '"2"'


def test_patch_that_changes_the_text_is_422_saying_so(client):
    doc = create(client).json
    response = client.patch(f"/v1/documents/{doc['id']}", json={"text": "Other text."})
    assert response.status_code == 422
    assert "PATCH changes a document's metadata only" in response.json["detail"]
    assert f"PUT /v1/documents/{doc['id']}/text" in response.json["detail"]
    assert client.get(f"/v1/documents/{doc['id']}").json["text"] == "Some text."


def test_patch_may_send_back_what_was_read(client):
    doc = create(client).json
    response = client.patch(f"/v1/documents/{doc['id']}", json={**doc, "title": "New"})
    assert response.status_code == 200
    assert response.json["title"] == "New"


def test_patch_to_a_used_external_id_is_409(client):
    create(client, external_id="taken")
    doc = create(client, external_id="mine").json
    response = client.patch(f"/v1/documents/{doc['id']}", json={"external_id": "taken"})
    assert response.status_code == 409


def test_patch_without_change_keeps_the_version(client):
    doc = create(client, title="Same").json
    response = client.patch(f"/v1/documents/{doc['id']}", json={"title": "Same"})
    assert response.json["version"] == 1


def test_delete_is_204_and_the_document_is_gone(client):
    doc = create(client).json
    response = client.delete(f"/v1/documents/{doc['id']}")
    assert response.status_code == 204
    assert response.data == b""
    assert client.get(f"/v1/documents/{doc['id']}").status_code == 404


def test_deleting_a_document_deletes_its_annotations_and_links(client, session):
    document = make_document(session)
    kim = make_annotation(session, document, "Kim Jong-un")
    he = make_annotation(session, document, "He")
    link = make_link(session, "coreference", kim, he)
    other = make_document(session, "Another text")
    kept = make_annotation(session, other, "Another", label="ORG")

    assert client.delete(f"/v1/documents/{document.id}").status_code == 204

    assert client.get(f"/v1/annotations/{kim.id}").status_code == 404
    assert client.get(f"/v1/annotations/{he.id}").status_code == 404
    assert client.get(f"/v1/links/{link.id}").status_code == 404
    assert client.get(f"/v1/annotations/{kept.id}").status_code == 200


def test_list_documents_in_id_order(client):
    ids = [create(client, title=str(i)).json["id"] for i in range(3)]
    response = client.get("/v1/documents")
    assert response.status_code == 200
    assert [d["id"] for d in response.json["items"]] == ids
    assert response.json["next_cursor"] is None
    assert "Link" not in response.headers


def test_list_documents_by_external_id(client):
    create(client, external_id="one.txt")
    wanted = create(client, external_id="two.txt").json
    response = client.get("/v1/documents?external_id=two.txt")
    assert [d["id"] for d in response.json["items"]] == [wanted["id"]]
    assert client.get("/v1/documents?external_id=none.txt").json["items"] == []


def test_text_over_the_configured_length_is_422(make_app):
    client = make_app(max_document_length=10).test_client()
    response = client.post("/v1/documents", json={"text": "x" * 11})
    assert response.status_code == 422
    assert "at most 10" in response.json["detail"]
    assert client.post("/v1/documents", json={"text": "x" * 10}).status_code == 201
