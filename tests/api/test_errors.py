"""Failures below the services still answer with the documented problem, never a bare
500: lost races on unique constraints (409), concurrent updates (412), an unavailable
database (503), and anything unexpected (500, without internals)."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from service.models import Annotation
from service.services import annotations, documents
from tests.factories import make_annotation, make_document


def test_unique_violation_that_slips_past_the_check_is_409(client, monkeypatch):
    client.post("/v1/documents", json={"text": "a", "external_id": "race"})
    # As if a concurrent request had inserted it between our check and our insert.
    monkeypatch.setattr(documents, "_ensure_external_id_free", lambda *a, **k: None)
    response = client.post("/v1/documents", json={"text": "b", "external_id": "race"})
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"
    assert response.json["detail"] == "another document already has this external_id"


def test_concurrent_update_detected_by_compare_and_set_is_412(client, session, monkeypatch):
    annotation = make_annotation(session, make_document(session), "Putin")

    def lost_race(*_args, **_kwargs):
        raise StaleDataError("UPDATE statement on table 'annotations' expected to update 1 row")

    monkeypatch.setattr(annotations, "update", lost_race)
    response = client.patch(f"/v1/annotations/{annotation.id}", json={"status": "rejected"})
    assert response.status_code == 412
    assert "changed by another request" in response.json["detail"]


def test_update_compares_and_sets_the_version_in_the_database(session, connection):
    annotation = make_annotation(session, make_document(session), "Putin")
    session.flush()
    # Another writer bumps the row behind this session's back.
    table = Annotation.__table__
    connection.execute(
        update(table).where(table.c.id == annotation.id).values(version=table.c.version + 1)
    )
    annotation.status = "rejected"
    with pytest.raises(StaleDataError):
        session.flush()


def test_unavailable_database_is_503_with_retry_after(client, monkeypatch):
    def down(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(documents, "list_page", down)
    response = client.get("/v1/documents")
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == "1"


def test_unexpected_error_is_500_problem_without_internals(client, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(documents, "list_page", broken)
    response = client.get("/v1/documents")
    assert response.status_code == 500
    assert response.content_type == "application/problem+json"
    assert "secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        pytest.param("/v1/documents", {"text": "a\x00b"}, "text", id="document-text"),
        pytest.param(
            "/v1/documents", {"text": "ab", "metadata": {"k": ["\x00"]}}, "metadata", id="metadata"
        ),
    ],
)
def test_nul_characters_are_refused_on_every_database(client, url, body, field):
    response = client.post(url, json=body)
    assert response.status_code == 422
    assert "U+0000" in response.json["errors"][field][0]


def test_nul_in_annotation_attributes_is_refused(client, session):
    document = make_document(session, "Putin")
    session.commit()
    span = {"type": "entity", "label": "PERSON", "start": 0, "end": 5, "attributes": {"\x00": 1}}
    single = client.post(f"/v1/documents/{document.id}/annotations", json=span)
    assert single.status_code == 422
    many = client.post(
        f"/v1/documents/{document.id}/annotations/batch", json={"annotations": [span]}
    )
    assert many.json["errors"]["annotations.0.attributes"] == ["must not contain U+0000"]


# A JSON "\ud800" escape parses into an unpaired surrogate, which no UTF-8 database or
# JSON encoder takes; sent raw, as a client would, since json= would refuse to encode it.
@pytest.mark.parametrize(
    ("url", "raw", "field"),
    [
        pytest.param("/v1/documents", '{"text": "a\\ud800b"}', "text", id="document-text"),
        pytest.param(
            "/v1/documents",
            '{"text": "ab", "metadata": {"k": "\\udfff"}}',
            "metadata",
            id="metadata",
        ),
        pytest.param("/v1/documents", '{"text": "ab", "title": "\\ud83d"}', "title", id="title"),
        pytest.param(
            "/v1/keys", '{"name": "\\ud800", "role": "reader"}', "name", id="api-key-name"
        ),
    ],
)
def test_unpaired_surrogates_are_refused(client, session, url, raw, field):
    before = client.get("/v1/documents").json["items"]
    response = client.post(url, data=raw, content_type="application/json")
    assert response.status_code == 422
    assert "unpaired surrogate U+D" in response.json["errors"][field][0]
    assert client.get("/v1/documents").json["items"] == before


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"k": -2233154929099694930118882361344}', "must not contain an integer beyond 64 bits"),
        ('{"k": [9223372036854775808]}', "must not contain an integer beyond 64 bits"),
        ('{"k": NaN}', "must not contain a number that is not finite"),
        ('{"k": {"j": -Infinity}}', "must not contain a number that is not finite"),
    ],
)
def test_json_numbers_no_column_holds_exactly_are_refused(client, raw, message):
    body = '{"text": "ab", "metadata": ' + raw + "}"
    response = client.post("/v1/documents", data=body, content_type="application/json")
    assert response.status_code == 422
    assert response.json["errors"]["metadata"] == [message]
    assert client.get("/v1/documents").json["items"] == []


def test_unpaired_surrogates_in_annotation_attributes_are_refused(client, session):
    document = make_document(session, "Putin")
    session.commit()
    span = (
        '{"type": "entity", "label": "PERSON", "start": 0, "end": 5, '
        '"attributes": {"k": "\\ud800"}}'
    )
    single = client.post(
        f"/v1/documents/{document.id}/annotations", data=span, content_type="application/json"
    )
    assert single.status_code == 422
    assert single.json["errors"]["attributes"] == ["must not contain an unpaired surrogate U+D800"]
    many = client.post(
        f"/v1/documents/{document.id}/annotations/batch",
        data='{"annotations": [' + span + "]}",
        content_type="application/json",
    )
    assert many.status_code == 422
    assert many.json["errors"]["annotations.0.attributes"] == [
        "must not contain an unpaired surrogate U+D800"
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("at=9223372036854775808", "at"),
        ("at=2147483648", "at"),
        ("overlaps=0,99999999999999999999", "overlaps"),
        ("within=0,2147483648", "within"),
        ("limit=99999999999999999999", "limit"),
        # A cursor of the right shape with integers no database compares with.
        (
            "cursor=WyIwMTkzMmMwNy04YTFlLTdjM2ItOWY0ZC0yYjZlNWE3YzhkOTAiLDk5OTk5OTk5OTk5OTk5OTk5OTk5LDEsIjAxOTMyYzA3LThhMWUtN2MzYi05ZjRkLTJiNmU1YTdjOGQ5MCJd",
            "cursor",
        ),
    ],
)
def test_numbers_beyond_what_is_stored_are_a_400(client, query, field):
    response = client.get(f"/v1/annotations?{query}")
    assert response.status_code == 400, response.json
    assert field in response.json["errors"]


def test_a_revision_beyond_what_is_stored_is_a_400(client, session):
    document = make_document(session, "Putin")
    session.commit()
    response = client.get(f"/v1/documents/{document.id}?revision=9223372036854775808")
    assert response.status_code == 400
    assert "revision" in response.json["errors"]
