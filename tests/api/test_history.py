"""History of every change, restores, and the change feed."""

from __future__ import annotations

import pytest

from tests.factories import make_annotation, make_document, make_link


def post_annotation(client, document_id, start, end, **fields):
    body = {"type": "entity", "label": "PERSON", "start": start, "end": end, **fields}
    return client.post(f"/v1/documents/{document_id}/annotations", json=body)


@pytest.fixture
def document(client):
    return client.post("/v1/documents", json={"text": "Kim met Putin. He smiled."}).json


def test_annotation_history_records_who_when_request_and_before_after(client, document):
    created = post_annotation(client, document["id"], 0, 3).json
    url = f"/v1/annotations/{created['id']}"
    client.patch(url, json={"label": "ORG"}, headers={"X-Request-ID": "edit-1"})
    client.delete(url, headers={"X-Request-ID": "del-1"})
    items = client.get(f"{url}/history").json["items"]
    assert [i["action"] for i in items] == ["create", "update", "delete"]
    create, update, delete = items
    assert create["before"] is None
    assert create["after"] == created
    assert update["before"]["label"] == "PERSON"
    assert update["after"]["label"] == "ORG"
    assert update["after"]["version"] == 2
    assert update["request_id"] == "edit-1"
    assert delete["after"] is None
    assert delete["before"]["version"] == 2
    assert delete["request_id"] == "del-1"
    assert {i["by"] for i in items} == {"anonymous"}
    assert all(i["at"].endswith("Z") for i in items)
    assert [i["seq"] for i in items] == sorted(i["seq"] for i in items)


def test_history_of_something_that_never_existed_is_404(client):
    response = client.get("/v1/annotations/00000000-0000-7000-8000-000000000000/history")
    assert response.status_code == 404


def test_document_history_and_schema_changes_are_recorded(client, document):
    client.patch(f"/v1/documents/{document['id']}", json={"title": "T"})
    items = client.get(f"/v1/documents/{document['id']}/history").json["items"]
    assert [i["action"] for i in items] == ["create", "update"]
    schema = client.get("/v1/schema").json
    schema["annotation_types"]["entity"]["labels"].append("WEAPON")
    client.put("/v1/schema", json=schema)
    (change,) = client.get("/v1/changes?resource=schema").json["items"]
    assert change["action"] == "update"
    assert change["id"] == "2"
    assert "WEAPON" not in change["before"]["annotation_types"]["entity"]["labels"]


def test_a_change_that_changes_nothing_records_nothing(client, document):
    client.patch(f"/v1/documents/{document['id']}", json={"title": None})
    items = client.get(f"/v1/documents/{document['id']}/history").json["items"]
    assert [i["action"] for i in items] == ["create"]


def test_deleting_a_document_records_its_annotations_and_links_as_deleted_by_it(client, session):
    doc = make_document(session, "Kim met Putin.")
    kim, putin = make_annotation(session, doc, "Kim"), make_annotation(session, doc, "Putin")
    link = make_link(session, "coreference", kim, putin)
    session.commit()
    client.delete(f"/v1/documents/{doc.id}")
    deletion = client.get(f"/v1/documents/{doc.id}/history").json["items"][-1]
    for url in (f"/v1/annotations/{kim.id}", f"/v1/links/{link.id}"):
        last = client.get(f"{url}/history").json["items"][-1]
        assert last["action"] == "delete"
        assert last["caused_by"] == deletion["seq"]


# --- restore ---------------------------------------------------------------------------


def test_restore_brings_an_annotation_back_with_its_links(client, session):
    doc = make_document(session, "Kim met Putin. He smiled.")
    kim = make_annotation(session, doc, "Kim")
    he = make_annotation(session, doc, "He")
    putin = make_annotation(session, doc, "Putin")
    coref = make_link(session, "coreference", kim, he)
    other = make_link(session, "coreference", kim, putin)
    session.commit()
    client.delete(f"/v1/annotations/{putin.id}")  # the other end of one link
    client.delete(f"/v1/annotations/{kim.id}")

    response = client.post(f"/v1/annotations/{kim.id}/restore")
    assert response.status_code == 200
    body = response.json
    assert body["annotation"]["id"] == str(kim.id)
    assert body["annotation"]["text"] == "Kim"
    assert body["annotation"]["version"] == 2
    assert response.headers["ETag"] == '"2"'
    assert [link["id"] for link in body["links"]] == [str(coref.id)]
    assert client.get(f"/v1/links/{coref.id}").status_code == 200
    assert client.get(f"/v1/links/{other.id}").status_code == 404
    actions = [i["action"] for i in client.get(f"/v1/annotations/{kim.id}/history").json["items"]]
    assert actions == ["create", "delete", "restore"]


def test_restored_version_goes_on_counting_so_old_etags_stay_stale(client, document):
    created = post_annotation(client, document["id"], 0, 3).json
    url = f"/v1/annotations/{created['id']}"
    client.patch(url, json={"status": "proposed"})
    client.delete(url)
    client.post(f"{url}/restore")
    stale = client.patch(url, json={"status": "rejected"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412


def test_restoring_an_existing_annotation_is_409(client, document):
    created = post_annotation(client, document["id"], 0, 3).json
    response = client.post(f"/v1/annotations/{created['id']}/restore")
    assert response.status_code == 409
    assert "only a deleted one" in response.json["detail"]


def test_restoring_an_annotation_never_seen_is_404(client):
    response = client.post("/v1/annotations/00000000-0000-7000-8000-000000000000/restore")
    assert response.status_code == 404


def test_restoring_an_annotation_of_a_deleted_document_is_409(client, document):
    created = post_annotation(client, document["id"], 0, 3).json
    client.delete(f"/v1/documents/{document['id']}")
    response = client.post(f"/v1/annotations/{created['id']}/restore")
    assert response.status_code == 409
    assert "its document" in response.json["detail"]


def test_restore_a_link(client, session):
    doc = make_document(session, "Kim met Putin.")
    kim, putin = make_annotation(session, doc, "Kim"), make_annotation(session, doc, "Putin")
    link = make_link(session, "coreference", kim, putin)
    session.commit()
    client.delete(f"/v1/links/{link.id}")
    response = client.post(f"/v1/links/{link.id}/restore")
    assert response.status_code == 200
    assert response.json["version"] == 2


def test_restoring_a_link_whose_end_is_gone_is_409(client, session):
    doc = make_document(session, "Kim met Putin.")
    kim, putin = make_annotation(session, doc, "Kim"), make_annotation(session, doc, "Putin")
    link = make_link(session, "coreference", kim, putin)
    session.commit()
    client.delete(f"/v1/links/{link.id}")
    client.delete(f"/v1/annotations/{putin.id}")
    response = client.post(f"/v1/links/{link.id}/restore")
    assert response.status_code == 409
    assert "no longer exists" in response.json["detail"]


def test_restoring_a_link_that_a_new_one_duplicates_is_409(client, session):
    doc = make_document(session, "Kim met Putin.")
    kim, putin = make_annotation(session, doc, "Kim"), make_annotation(session, doc, "Putin")
    link = make_link(session, "coreference", kim, putin)
    session.commit()
    client.delete(f"/v1/links/{link.id}")
    make_link(session, "coreference", putin, kim)
    session.commit()
    response = client.post(f"/v1/links/{link.id}/restore")
    assert response.status_code == 409


# --- the change feed -------------------------------------------------------------------


def test_feed_lists_changes_in_order_and_its_cursor_resumes(client, document):
    first = client.get("/v1/changes").json
    assert first["next_cursor"]
    seqs = [i["seq"] for i in first["items"]]
    assert seqs == sorted(seqs)
    assert first["items"][-1]["resource"] == "document"
    assert first["items"][-1]["after"]["id"] == document["id"]

    resume = first["next_cursor"]
    assert client.get(f"/v1/changes?cursor={resume}").json == {"items": [], "next_cursor": resume}
    created = post_annotation(client, document["id"], 0, 3).json
    later = client.get(f"/v1/changes?cursor={resume}").json
    assert [(i["action"], i["id"]) for i in later["items"]] == [("create", created["id"])]
    assert later["next_cursor"] != resume


def test_feed_filters_by_document_and_resource(client, document):
    other = client.post("/v1/documents", json={"text": "Other."}).json
    post_annotation(client, document["id"], 0, 3)
    post_annotation(client, other["id"], 0, 5)
    items = client.get(f"/v1/changes?document_id={document['id']}").json["items"]
    assert {i["document_id"] for i in items} == {document["id"]}
    assert {i["resource"] for i in items} == {"document", "annotation"}
    annotations = client.get("/v1/changes?resource=annotation").json["items"]
    assert {i["resource"] for i in annotations} == {"annotation"}


def test_feed_pages_never_return_a_null_cursor(client, document):
    for i in range(5):
        post_annotation(client, document["id"], i, i + 1)
    cursor, seen = None, []
    for _ in range(10):
        page = client.get("/v1/changes?limit=2" + (f"&cursor={cursor}" if cursor else "")).json
        assert page["next_cursor"]
        seen += [i["seq"] for i in page["items"]]
        if not page["items"]:
            break
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) >= 6
