"""Idempotency-Key on POST, If-Match required on demand."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.models import Document
from service.services import idempotency
from tests.factories import make_annotation, make_document


def count(session):
    return session.scalar(select(func.count()).select_from(Document))


def test_retry_with_the_same_key_replays_without_writing(client, session):
    headers = {"Idempotency-Key": "k-1"}
    first = client.post("/v1/documents", json={"text": "Once."}, headers=headers)
    before = count(session)
    retry = client.post("/v1/documents", json={"text": "Once."}, headers=headers)
    assert count(session) == before
    assert retry.status_code == first.status_code == 201
    assert retry.json == first.json
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers


def test_the_same_json_differently_spaced_is_the_same_request(client):
    headers = {"Idempotency-Key": "k-2", "Content-Type": "application/json"}
    first = client.post("/v1/documents", data='{"text": "A", "title": "B"}', headers=headers)
    retry = client.post("/v1/documents", data='{"title":"B","text":"A"}', headers=headers)
    assert retry.json["id"] == first.json["id"]


def test_the_same_key_with_another_body_is_422(client, session):
    client.post("/v1/documents", json={"text": "One."}, headers={"Idempotency-Key": "k-3"})
    before = count(session)
    response = client.post(
        "/v1/documents", json={"text": "Two."}, headers={"Idempotency-Key": "k-3"}
    )
    assert response.status_code == 422
    assert "different request" in response.json["detail"]
    assert count(session) == before


def test_the_same_key_on_another_endpoint_is_422(client):
    doc = client.post("/v1/documents", json={"text": "Kim"}, headers={"Idempotency-Key": "k-4"})
    response = client.post(
        f"/v1/documents/{doc.json['id']}/annotations",
        json={"text": "Kim"},
        headers={"Idempotency-Key": "k-4"},
    )
    assert response.status_code == 422


def test_keys_belong_to_their_caller(make_app, session):
    from service.services import api_keys

    client = make_app(auth_mode="apikey").test_client()
    alice = api_keys.create(session, "alice", "admin").secret
    bob = api_keys.create(session, "bob", "admin").secret
    body = {"text": "Same key, two callers."}
    first = client.post(
        "/v1/documents",
        json=body,
        headers={"Authorization": f"Bearer {alice}", "Idempotency-Key": "shared"},
    )
    second = client.post(
        "/v1/documents",
        json=body,
        headers={"Authorization": f"Bearer {bob}", "Idempotency-Key": "shared"},
    )
    assert first.json["id"] != second.json["id"]
    assert second.json["created_at"]


def test_a_failed_request_is_not_stored_so_its_retry_runs_again(client):
    headers = {"Idempotency-Key": "k-5"}
    assert client.post("/v1/documents", json={"text": ""}, headers=headers).status_code == 422
    assert client.post("/v1/documents", json={"text": ""}, headers=headers).status_code == 422


def test_expired_keys_are_forgotten(make_app):
    client = make_app(idempotency_ttl=1).test_client()
    headers = {"Idempotency-Key": "k-6"}
    first = client.post("/v1/documents", json={"text": "x"}, headers=headers).json
    import time

    time.sleep(1.1)
    again = client.post("/v1/documents", json={"text": "x"}, headers=headers).json
    assert again["id"] != first["id"]


def test_an_invalid_key_is_400(client):
    response = client.post("/v1/documents", json={"text": "x"}, headers={"Idempotency-Key": "a b"})
    assert response.status_code == 400


# --- If-Match required ---------------------------------------------------------------


def test_require_if_match_makes_writes_without_it_428(make_app):
    client = make_app(require_if_match=True).test_client()
    doc = client.post("/v1/documents", json={"text": "x"}).json
    url = f"/v1/documents/{doc['id']}"
    response = client.patch(url, json={"title": "T"})
    assert response.status_code == 428
    assert response.content_type == "application/problem+json"
    assert response.json["current_etag"] == '"1"'
    assert client.delete(url).status_code == 428
    assert client.patch(url, json={"title": "T"}, headers={"If-Match": '"1"'}).status_code == 200
    assert client.delete(url, headers={"If-Match": '"2"'}).status_code == 204


def _first_lookup_misses(monkeypatch):
    """The retry's first look for its key finds nothing, as when the first request with
    that key commits just after the retry began."""
    real, calls = idempotency.find, []

    def find(*args, **kwargs):
        calls.append(args)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(idempotency, "find", find)
    return calls


@pytest.fixture
def link_body(session):
    """A coreference link's body between two committed annotations."""
    document = make_document(session, "Kim met Putin.")
    kim, putin = (
        make_annotation(session, document, "Kim"),
        make_annotation(session, document, "Putin"),
    )
    session.commit()
    return {"type": "coreference", "source_id": str(kim.id), "target_id": str(putin.id)}


def test_a_retry_refused_by_what_its_first_request_wrote_gets_that_answer(
    client, link_body, monkeypatch
):
    body = link_body
    headers = {"Idempotency-Key": "link-once"}
    first = client.post("/v1/links", json=body, headers=headers)
    assert first.status_code == 201
    calls = _first_lookup_misses(monkeypatch)
    retry = client.post("/v1/links", json=body, headers=headers)
    assert len(calls) == 2, "the duplicate was refused, then the key looked up again"
    assert (retry.status_code, retry.json) == (201, first.json)
    assert retry.headers["Idempotent-Replayed"] == "true"


def test_a_refusal_with_no_stored_answer_stays_a_refusal(client, link_body):
    body = link_body
    assert client.post("/v1/links", json=body).status_code == 201
    again = client.post("/v1/links", json=body, headers={"Idempotency-Key": "another"})
    assert again.status_code == 409
    assert "already exists" in again.json["detail"]
