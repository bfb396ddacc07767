from __future__ import annotations

import uuid

import pytest

from tests.factories import make_annotation, make_document, make_link

TEXT = "Kim Jong-un met Vladimir Putin. He said: “We are allies.” Russia is an ally."


@pytest.fixture
def doc(session):
    document = make_document(session, TEXT)
    return {
        "document": document,
        "kim": make_annotation(session, document, "Kim Jong-un"),
        "putin": make_annotation(session, document, "Vladimir Putin"),
        "he": make_annotation(session, document, "He"),
        "russia": make_annotation(session, document, "Russia", label="GPE"),
        "date": make_annotation(session, document, "allies", label="DATE"),
        "quote": make_annotation(session, document, "We are allies.", type="quote", label="DIRECT"),
        "claim": make_annotation(
            session, document, "Russia is an ally", type="claim", label="FACTUAL"
        ),
    }


def post(client, type, source, target, **fields):
    body = {"type": type, "source_id": str(source.id), "target_id": str(target.id), **fields}
    return client.post("/v1/links", json=body)


def test_create_link(client, doc):
    response = post(client, "speaker", doc["quote"], doc["he"], attributes={"cue": "said"})
    assert response.status_code == 201
    body = response.json
    assert body["source_id"] == str(doc["quote"].id)
    assert body["target_id"] == str(doc["he"].id)
    assert body["document_id"] == str(doc["document"].id)
    assert body["attributes"] == {"cue": "said"}
    assert body["created_by"] == "anonymous"
    assert response.headers["Location"].endswith(f"/v1/links/{body['id']}")
    assert client.get(f"/v1/links/{body['id']}").json == body


def test_missing_end_is_422(client, doc):
    response = client.post(
        "/v1/links",
        json={"type": "speaker", "source_id": str(doc["quote"].id), "target_id": str(uuid.uuid4())},
    )
    assert response.status_code == 422
    assert "does not exist" in response.json["errors"]["target_id"][0]


def test_ends_in_other_documents_are_422(client, session, doc):
    other = make_document(session, "Kim again")
    kim_elsewhere = make_annotation(session, other, "Kim")
    response = post(client, "coreference", doc["kim"], kim_elsewhere)
    assert response.status_code == 422
    assert "different documents" in response.json["detail"]


def test_self_link_is_422(client, doc):
    response = post(client, "coreference", doc["kim"], doc["kim"])
    assert response.status_code == 422
    assert "must differ from source_id" in response.json["errors"]["target_id"]


def test_wrong_domain_is_422(client, doc):
    response = post(client, "speaker", doc["kim"], doc["he"])
    assert response.status_code == 422
    assert "must be of type 'quote', not 'entity'" in response.json["errors"]["source_id"][0]


def test_wrong_range_type_is_422(client, doc):
    response = post(client, "speaker", doc["quote"], doc["claim"])
    assert response.status_code == 422
    assert "must be of type 'entity', not 'claim'" in response.json["errors"]["target_id"][0]


def test_wrong_range_label_is_422(client, doc):
    response = post(client, "speaker", doc["quote"], doc["date"])
    assert response.status_code == 422
    message = response.json["errors"]["target_id"][0]
    assert "must have label" in message
    assert "'PERSON'" in message
    assert "not 'DATE'" in message


def test_unknown_link_type_is_422(client, doc):
    response = post(client, "likes", doc["kim"], doc["putin"])
    assert response.status_code == 422
    assert "unknown link type 'likes'" in response.json["detail"]


def test_duplicate_link_is_409(client, doc):
    first = post(client, "speaker", doc["quote"], doc["he"]).json
    response = post(client, "speaker", doc["quote"], doc["he"])
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"
    assert first["id"] in response.json["detail"]


def test_same_ends_with_another_type_is_not_a_duplicate(client, doc):
    assert post(client, "claimant", doc["claim"], doc["russia"]).status_code == 201
    assert post(client, "about", doc["claim"], doc["russia"]).status_code == 201


def test_symmetric_duplicate_is_409(client, doc):
    assert post(client, "coreference", doc["kim"], doc["he"]).status_code == 201
    response = post(client, "coreference", doc["he"], doc["kim"])
    assert response.status_code == 409
    assert "symmetric" in response.json["detail"]


def test_reverse_of_a_directed_link_is_not_a_duplicate(client, session, doc):
    other_claim = make_annotation(
        session, doc["document"], "We are allies", type="claim", label="OPINION"
    )
    assert post(client, "supports", doc["claim"], other_claim).status_code == 201
    assert post(client, "supports", other_claim, doc["claim"]).status_code == 201


def test_patch_link_target_is_checked(client, doc):
    link = post(client, "speaker", doc["quote"], doc["he"]).json
    response = client.patch(f"/v1/links/{link['id']}", json={"target_id": str(doc["claim"].id)})
    assert response.status_code == 422
    response = client.patch(f"/v1/links/{link['id']}", json={"target_id": str(doc["kim"].id)})
    assert response.status_code == 200
    assert response.json["target_id"] == str(doc["kim"].id)
    assert response.json["version"] == 2


def test_patch_into_a_duplicate_is_409(client, doc):
    post(client, "coreference", doc["kim"], doc["he"])
    link = post(client, "coreference", doc["putin"], doc["he"]).json
    response = client.patch(f"/v1/links/{link['id']}", json={"source_id": str(doc["kim"].id)})
    assert response.status_code == 409


def test_delete_link_keeps_its_ends(client, session, doc):
    link = make_link(session, "coreference", doc["kim"], doc["he"])
    assert client.delete(f"/v1/links/{link.id}").status_code == 204
    assert client.get(f"/v1/links/{link.id}").status_code == 404
    assert client.get(f"/v1/annotations/{doc['kim'].id}").status_code == 200


def test_list_links_filters(client, session, doc):
    coref = make_link(session, "coreference", doc["kim"], doc["he"])
    speaker = make_link(session, "speaker", doc["quote"], doc["he"])
    about = make_link(session, "about", doc["claim"], doc["russia"])
    other = make_document(session, "Putin and Kim")
    elsewhere = make_link(
        session,
        "coreference",
        make_annotation(session, other, "Putin"),
        make_annotation(session, other, "Kim"),
    )

    def ids(query):
        response = client.get(f"/v1/links?{query}")
        assert response.status_code == 200
        return {item["id"] for item in response.json["items"]}

    assert ids(f"document_id={doc['document'].id}") == {
        str(coref.id),
        str(speaker.id),
        str(about.id),
    }
    assert ids(f"annotation_id={doc['he'].id}") == {str(coref.id), str(speaker.id)}
    assert ids("type=coreference") == {str(coref.id), str(elsewhere.id)}
    assert ids(f"annotation_id={doc['he'].id}&type=speaker") == {str(speaker.id)}
    document_links = client.get(f"/v1/documents/{other.id}/links").json["items"]
    assert [item["id"] for item in document_links] == [str(elsewhere.id)]


def test_list_links_of_a_missing_document_is_404(client):
    response = client.get(f"/v1/documents/{uuid.uuid4()}/links")
    assert response.status_code == 404
