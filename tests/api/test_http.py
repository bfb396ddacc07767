"""HTTP behaviour shared by every resource: problem details, preconditions, limits,
pagination."""

from __future__ import annotations

import inspect
import ipaddress

import marshmallow as ma
import pytest

from service.api import common
from tests.factories import make_annotation, make_document

PROBLEM = "application/problem+json"


def assert_problem(response, status):
    assert response.status_code == status
    assert response.content_type == PROBLEM
    body = response.json
    assert body["status"] == status
    assert body["title"]
    assert body["type"]
    assert body["detail"]
    return body


def test_unknown_path_is_404_problem(client):
    body = assert_problem(client.get("/v1/nothing-here"), 404)
    assert "/v1/nothing-here" in body["detail"]


def test_malformed_id_is_404_problem(client):
    assert_problem(client.get("/v1/documents/not-a-uuid"), 404)


def test_missing_document_is_404_problem_naming_it(client):
    body = assert_problem(client.get("/v1/documents/00000000-0000-7000-8000-000000000001"), 404)
    assert "00000000-0000-7000-8000-000000000001" in body["detail"]


def test_wrong_method_is_405_problem_with_allow(client):
    response = client.put("/v1/documents", json={})
    body = assert_problem(response, 405)
    assert "PUT" in body["detail"]
    assert "POST" in response.headers["Allow"]


def test_non_json_body_is_415_problem(client):
    response = client.post("/v1/documents", data="text=hello", content_type="text/plain")
    body = assert_problem(response, 415)
    assert "text/plain" in body["detail"]


def test_form_body_is_415_problem(client):
    response = client.post("/v1/documents", data={"text": "hello"})
    assert_problem(response, 415)


def test_malformed_json_is_400_problem(client):
    response = client.post("/v1/documents", data="{not json", content_type="application/json")
    body = assert_problem(response, 400)
    assert "JSON" in body["detail"]


def test_json_that_is_not_an_object_is_422(client):
    response = client.post("/v1/documents", json=["text"])
    body = assert_problem(response, 422)
    assert "Invalid input type" in body["detail"]


def test_body_over_the_limit_is_413_problem(make_app):
    client = make_app(max_body_bytes=1000).test_client()
    response = client.post("/v1/documents", json={"text": "x" * 2000})
    body = assert_problem(response, 413)
    assert "1000 bytes" in body["detail"]


def test_problem_of_a_validation_error_lists_fields(client):
    body = assert_problem(client.post("/v1/documents", json={"txt": "a"}), 422)
    assert body["errors"] == {
        "text": ["Missing data for required field."],
        "txt": ["Unknown field."],
    }


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=x", "cursor=%%%", "cursor=WzFd"])
def test_bad_page_parameters_are_400_problem(client, query):
    body = assert_problem(client.get(f"/v1/documents?{query}"), 400)
    assert body["errors"]


# --- ETags and preconditions -------------------------------------------------------


@pytest.fixture
def annotation(session):
    document = make_document(session, "Putin")
    return make_annotation(session, document, "Putin")


def test_get_sends_etag_and_304_when_it_matches(client, annotation):
    response = client.get(f"/v1/annotations/{annotation.id}")
    assert response.headers["ETag"] == '"1"'
    cached = client.get(f"/v1/annotations/{annotation.id}", headers={"If-None-Match": '"1"'})
    assert cached.status_code == 304
    assert cached.data == b""
    assert cached.headers["ETag"] == '"1"'


def test_get_with_an_old_etag_is_200(client, annotation):
    client.patch(f"/v1/annotations/{annotation.id}", json={"status": "rejected"})
    response = client.get(f"/v1/annotations/{annotation.id}", headers={"If-None-Match": '"1"'})
    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'


def test_patch_with_current_if_match_succeeds(client, annotation):
    response = client.patch(
        f"/v1/annotations/{annotation.id}", json={"status": "proposed"}, headers={"If-Match": '"1"'}
    )
    assert response.status_code == 200
    assert response.json["version"] == 2


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_stale_if_match_is_412_and_changes_nothing(client, annotation, method):
    url = f"/v1/annotations/{annotation.id}"
    client.patch(url, json={"status": "proposed"})
    kwargs = {"json": {"status": "rejected"}} if method == "patch" else {}
    response = getattr(client, method)(url, headers={"If-Match": '"1"'}, **kwargs)
    body = assert_problem(response, 412)
    assert body["current_version"] == 2
    after = client.get(url).json
    assert after["status"] == "proposed"
    assert after["version"] == 2


def test_if_match_star_matches_any_version(client, annotation):
    response = client.delete(f"/v1/annotations/{annotation.id}", headers={"If-Match": "*"})
    assert response.status_code == 204


def test_stale_if_match_on_a_document_is_412(client, session):
    document = make_document(session)
    response = client.delete(f"/v1/documents/{document.id}", headers={"If-Match": '"5"'})
    assert_problem(response, 412)


# --- Pagination ---------------------------------------------------------------------


def test_pages_follow_link_headers_to_the_end(client, session):
    document = make_document(session, "abcdefghij")
    made = {str(make_annotation(session, document, start=i, end=i + 1).id) for i in range(7)}
    seen, url, pages = [], f"/v1/documents/{document.id}/annotations?limit=3", 0
    while url:
        response = client.get(url)
        pages += 1
        seen += [item["id"] for item in response.json["items"]]
        link = response.headers.get("Link")
        if response.json["next_cursor"] is None:
            assert link is None
            url = None
        else:
            assert link.endswith('>; rel="next"')
            url = link[1 : link.index(">")].removeprefix("http://localhost")
            assert "limit=3" in url
    assert pages == 3
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen))


def test_rows_present_when_paging_began_are_seen_exactly_once_despite_inserts(client, session):
    document = make_document(session, "x" * 50)
    original = {
        str(make_annotation(session, document, start=i, end=i + 2).id) for i in range(0, 40, 2)
    }
    seen: list[str] = []
    cursor = None
    inserted = 0
    while True:
        query = f"limit=4&cursor={cursor}" if cursor else "limit=4"
        page = client.get(f"/v1/documents/{document.id}/annotations?{query}").json
        seen += [item["id"] for item in page["items"]]
        # Others write meanwhile: before the cursor, at the cursor's start, and after it.
        for start in (0, page["items"][-1]["start"], 45):
            client.post(
                f"/v1/documents/{document.id}/annotations",
                json={"type": "entity", "label": "PERSON", "start": start, "end": start + 1},
            )
            inserted += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert inserted > 0
    assert all(seen.count(annotation_id) == 1 for annotation_id in original)


def test_document_pages_see_every_document_once_despite_inserts(client, session):
    original = {str(make_document(session, f"doc {i}").id) for i in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        query = f"limit=2&cursor={cursor}" if cursor else "limit=2"
        page = client.get(f"/v1/documents?{query}").json
        seen += [d["id"] for d in page["items"]]
        client.post("/v1/documents", json={"text": "new"})
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert original <= set(seen)
    assert len(seen) == len(set(seen))


FORWARDED = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "api.example.org",
    "X-Forwarded-Prefix": "/annotations",
}


@pytest.mark.parametrize(
    ("remote_addr", "expected"),
    [
        pytest.param(
            "127.0.0.1", "<https://api.example.org/annotations/v1/documents?", id="trusted"
        ),
        pytest.param("10.1.2.3", "<http://localhost/v1/documents?", id="untrusted"),
    ],
)
def test_link_header_carries_the_public_prefix_only_from_trusted_proxies(
    make_app, session, remote_addr, expected
):
    client = make_app(trusted_proxies=(ipaddress.ip_network("127.0.0.0/8"),)).test_client()
    for i in range(3):
        make_document(session, f"doc {i}")
    response = client.get(
        "/v1/documents?limit=1", headers=FORWARDED, environ_base={"REMOTE_ADDR": remote_addr}
    )
    assert response.headers["Link"].startswith(expected)


@pytest.fixture
def gateway_client(make_app):
    app = make_app(trusted_proxies=(ipaddress.ip_network("127.0.0.0/8"),))
    return app.test_client()


def test_location_carries_the_public_prefix_from_a_trusted_proxy(gateway_client):
    response = gateway_client.post(
        "/v1/documents",
        json={"text": "x"},
        headers=FORWARDED,
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    expected = f"https://api.example.org/annotations/v1/documents/{response.json['id']}"
    assert response.headers["Location"] == expected


def test_served_spec_and_docs_carry_the_public_prefix(gateway_client):
    environ = {"REMOTE_ADDR": "127.0.0.1"}
    spec = gateway_client.get("/openapi.json", headers=FORWARDED, environ_base=environ).json
    assert spec["servers"] == [{"url": "/annotations"}]
    docs = gateway_client.get("/docs", headers=FORWARDED, environ_base=environ)
    assert 'url: "/annotations/openapi.json"' in docs.get_data(as_text=True)


def test_the_app_asks_once_whether_a_function_is_a_coroutine(app, monkeypatch):
    asked = []
    real = inspect.iscoroutinefunction
    monkeypatch.setattr(
        inspect, "iscoroutinefunction", lambda func: asked.append(func) or real(func)
    )

    def plain() -> str:
        return "plain"

    async def coroutine() -> str:
        return "awaited"

    monkeypatch.setattr(app, "async_to_sync", lambda func: lambda: "ran " + func.__name__)
    assert app.ensure_sync(plain) is plain
    assert app.ensure_sync(plain) is plain
    assert app.ensure_sync(coroutine)() == "ran coroutine"
    assert app.ensure_sync(coroutine)() == "ran coroutine"
    assert asked == [plain, coroutine]
    # Bound methods are new objects each time; their function is asked about once.
    app.ensure_sync(app.make_response)
    app.ensure_sync(app.make_response)
    assert asked.count(app.make_response) == 1


def test_query_arguments_are_remembered_by_query_string(app, client, session, monkeypatch):
    document = make_document(session, "Kim met Putin in Moscow.")
    make_annotation(session, document, "Kim")
    make_annotation(session, document, "Moscow", label="GPE")
    parser = common.StoreBlueprint.ARGUMENTS_PARSER
    parser._parsed.clear()
    loads = []
    real_load = ma.Schema.load
    monkeypatch.setattr(
        ma.Schema, "load", lambda self, *a, **k: loads.append(1) or real_load(self, *a, **k)
    )
    url = f"/v1/documents/{document.id}/annotations?label=GPE,PERSON&limit=5"
    first = client.get(url).json
    second = client.get(url).json
    assert first == second
    assert len(first["items"]) == 2
    assert len(loads) == 1  # the second request's arguments were remembered

    # What a view is given is its own: changing it changes nothing remembered.
    with app.test_request_context(url):
        schema = next(iter(parser._parsed))[0]
        given = parser.parse(schema, location="query")
        given["label"].append("ORG")
        given["limit"] = 1
        assert parser.parse(schema, location="query") == {"label": ["GPE", "PERSON"], "limit": 5}


def test_a_bad_query_string_is_refused_every_time(client, session, monkeypatch):
    document = make_document(session, "Kim met Putin.")
    monkeypatch.setattr(common, "QUERY_MEMORY", 2)
    for _ in range(2):
        response = client.get(f"/v1/documents/{document.id}/annotations?overlaps=5,2")
        assert response.status_code == 400
        assert response.json["errors"]["overlaps"] == [
            f"Must be START,END with 0 <= START < END <= {2**31 - 1}."
        ]
    # The memory stays within QUERY_MEMORY entries.
    for limit in range(1, 6):
        assert (
            client.get(f"/v1/documents/{document.id}/annotations?limit={limit}").status_code == 200
        )
    assert len(common.StoreBlueprint.ARGUMENTS_PARSER._parsed) <= 2


def test_a_view_runs_inside_webargs_wrapper_alone(app):
    """The documenting decorators leave no wrapper of their own for requests to pass
    through: the view is called by the one that parses its arguments."""
    from service.api.annotations import DocumentAnnotations

    view = DocumentAnnotations.get
    assert view.__wrapped__.__name__ == "get"
    assert not hasattr(view.__wrapped__, "__wrapped__")
    # and what they document is still there
    assert view._apidoc["manual_doc"]["operationId"] == "listDocumentAnnotations"
    assert 200 in view._apidoc["response"]["responses"]


def test_a_documented_response_needs_a_view_that_returns_one():
    blp = common.StoreBlueprint("returns_a_dict", __name__)

    def view():
        return {"status": "ok"}

    with pytest.raises(TypeError, match=r"\.view must return a flask\.Response"):
        blp.response(200)(view)
