"""Idempotency-Key on POST, If-Match required on demand."""

from __future__ import annotations

from sqlalchemy import func, select

from service.models import Document


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
