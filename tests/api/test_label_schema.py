from __future__ import annotations

import copy

import pytest

from tests.factories import make_annotation, make_document, make_link


@pytest.fixture
def schema(client):
    return client.get("/v1/schema").json


def test_default_schema_is_the_news_schema(schema):
    assert schema["version"] == 1
    assert set(schema["annotation_types"]) == {"entity", "quote", "claim"}
    assert len(schema["annotation_types"]["entity"]["labels"]) == 18
    assert "PERSON" in schema["annotation_types"]["entity"]["labels"]
    assert schema["annotation_types"]["quote"]["labels"] == ["DIRECT", "INDIRECT", "PARTIAL"]
    speaker = schema["link_types"]["speaker"]
    assert speaker["source"] == {"types": ["quote"]}
    assert speaker["target"]["types"] == ["entity"]
    assert "PERSON" in speaker["target"]["labels"]
    assert speaker["symmetric"] is False
    assert schema["link_types"]["coreference"]["symmetric"] is True
    assert set(schema["link_types"]) == {
        "speaker",
        "claimant",
        "coreference",
        "about",
        "supports",
        "contradicts",
    }


def test_get_schema_sends_etag_and_honours_if_none_match(client):
    response = client.get("/v1/schema")
    assert response.headers["ETag"] == '"1"'
    again = client.get("/v1/schema", headers={"If-None-Match": '"1"'})
    assert again.status_code == 304


def test_put_adds_a_label_and_bumps_the_version(client, schema):
    new = copy.deepcopy(schema)
    new["annotation_types"]["entity"]["labels"].append("WEAPON")
    response = client.put("/v1/schema", json=new)
    assert response.status_code == 200
    assert response.json["version"] == 2
    assert "WEAPON" in client.get("/v1/schema").json["annotation_types"]["entity"]["labels"]


def test_new_label_can_be_used_at_once(client, session, schema):
    new = copy.deepcopy(schema)
    new["annotation_types"]["entity"]["labels"].append("WEAPON")
    client.put("/v1/schema", json=new)
    document = make_document(session, "missiles")
    response = client.post(
        f"/v1/documents/{document.id}/annotations",
        json={"type": "entity", "label": "WEAPON", "start": 0, "end": 8},
    )
    assert response.status_code == 201


def test_put_removing_a_used_label_is_409_listing_the_annotations(client, session, schema):
    document = make_document(session, "Putin in Pyongyang")
    putin = make_annotation(session, document, "Putin")
    make_annotation(session, document, "Pyongyang", label="GPE")
    new = copy.deepcopy(schema)
    new["annotation_types"]["entity"]["labels"].remove("PERSON")
    for link_type in new["link_types"].values():
        for end in (link_type["source"], link_type["target"]):
            if "labels" in end:
                end["labels"] = [label for label in end["labels"] if label != "PERSON"]
    response = client.put("/v1/schema", json=new)
    assert response.status_code == 409
    conflicts = response.json["conflicts"]
    assert conflicts["annotation_total"] == 1
    assert conflicts["annotations"][0]["id"] == str(putin.id)
    assert "'PERSON'" in conflicts["annotations"][0]["reason"]
    assert client.get("/v1/schema").json["version"] == 1


def test_put_narrowing_a_link_range_is_409_listing_the_links(client, session, schema):
    document = make_document(session, "Russia said: “yes”.")
    russia = make_annotation(session, document, "Russia", label="GPE")
    quote = make_annotation(session, document, "yes", type="quote", label="DIRECT")
    link = make_link(session, "speaker", quote, russia)
    new = copy.deepcopy(schema)
    new["link_types"]["speaker"]["target"]["labels"] = ["PERSON"]
    response = client.put("/v1/schema", json=new)
    assert response.status_code == 409
    assert response.json["conflicts"]["links"] == [
        {
            "id": str(link.id),
            "reason": "the target of a 'speaker' link must have label 'PERSON', not 'GPE'",
        }
    ]


def test_put_making_a_type_symmetric_with_reverse_pairs_is_409(client, session, schema):
    document = make_document(session, "one two")
    one = make_annotation(session, document, "one", type="claim", label="FACTUAL")
    two = make_annotation(session, document, "two", type="claim", label="FACTUAL")
    make_link(session, "contradicts", one, two)
    make_link(session, "contradicts", two, one)
    new = copy.deepcopy(schema)
    new["link_types"]["contradicts"] = {
        "source": {"types": ["claim"]},
        "target": {"types": ["claim"]},
        "symmetric": True,
    }
    response = client.put("/v1/schema", json=new)
    assert response.status_code == 409
    assert response.json["conflicts"]["link_total"] == 1
    assert "duplicates its reverse" in response.json["conflicts"]["links"][0]["reason"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param(
            lambda s: s["link_types"]["speaker"]["source"].update(types=["event"]),
            "link_types.speaker.source.types",
            id="unknown-end-type",
        ),
        pytest.param(
            lambda s: s["link_types"]["speaker"]["target"].update(labels=["DIRECT"]),
            "link_types.speaker.target.labels",
            id="label-of-another-type",
        ),
        pytest.param(
            lambda s: s["link_types"]["about"].update(symmetric=True),
            "link_types.about.symmetric",
            id="asymmetric-ends-symmetric",
        ),
    ],
)
def test_incoherent_schema_is_422(client, schema, change, field):
    new = copy.deepcopy(schema)
    change(new)
    response = client.put("/v1/schema", json=new)
    assert response.status_code == 422
    assert field in response.json["errors"]


def types(labels):
    return {"annotation_types": {"entity": {"labels": labels}}, "link_types": {}}


LABELS_FIELD = "annotation_types.entity.value.labels"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"link_types": {}}, "annotation_types", id="missing-types"),
        pytest.param(
            {"annotation_types": {"Entity!": {"labels": ["A"]}}, "link_types": {}},
            "annotation_types.Entity!.key",
            id="bad-name",
        ),
        pytest.param(types([]), LABELS_FIELD, id="no-labels"),
        pytest.param(types(["A", "A"]), LABELS_FIELD, id="repeated-label"),
    ],
)
def test_malformed_schema_is_422(client, body, field):
    response = client.put("/v1/schema", json=body)
    assert response.status_code == 422
    assert field in response.json["errors"], response.json


def test_put_with_stale_if_match_is_412(client, schema):
    response = client.put("/v1/schema", json=schema, headers={"If-Match": '"7"'})
    assert response.status_code == 412
    assert response.json["current_version"] == 1
