"""The committed contract is what the code generates, and complete enough for SDK
generators."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SPEC_FILE = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture
def spec(app):
    return app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def test_committed_spec_equals_the_generated_one(spec):
    committed = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(spec)), (
        "openapi/openapi.json is stale: run `make openapi` and commit the result"
    )


def test_served_spec_is_the_generated_one(client, spec):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json == json.loads(json.dumps(spec))


def test_operation_ids_are_unique_and_present(spec):
    ids = [operation.get("operationId") for _, _, operation in operations(spec)]
    assert None not in ids
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("field", ["summary", "operationId", "tags", "responses"], ids=lambda f: f)
def test_every_operation_has(spec, field):
    missing = [f"{m.upper()} {p}" for m, p, op in operations(spec) if not op.get(field)]
    assert missing == []


def test_no_operation_relies_on_a_default_response(spec):
    assert [p for _, p, op in operations(spec) if "default" in op["responses"]] == []


def test_error_responses_are_problem_json(spec):
    for name, response in spec["components"]["responses"].items():
        assert list(response["content"]) == ["application/problem+json"], name


@pytest.mark.parametrize(
    ("operation_id", "statuses"),
    [
        ("createDocument", {"201", "400", "401", "403", "409", "413", "415", "422"}),
        ("getDocument", {"200", "304", "400", "401", "403", "404"}),
        (
            "updateAnnotation",
            {"200", "400", "401", "403", "404", "412", "413", "415", "422", "428"},
        ),
        ("deleteLink", {"204", "401", "403", "404", "412", "428"}),
        ("restoreLink", {"200", "400", "401", "403", "404", "409", "422"}),
        ("createLink", {"201", "400", "401", "403", "409", "413", "415", "422"}),
        (
            "replaceLabelSchema",
            {"200", "400", "401", "403", "409", "412", "413", "415", "422", "428"},
        ),
        ("listDocumentAnnotations", {"200", "400", "401", "403", "404"}),
        ("getLiveness", {"200"}),
    ],
)
def test_operation_documents_its_statuses(spec, operation_id, statuses):
    (operation,) = [op for _, _, op in operations(spec) if op["operationId"] == operation_id]
    assert set(operation["responses"]) == statuses


def test_created_responses_declare_location(spec):
    for _method, path, operation in operations(spec):
        if "201" in operation["responses"]:
            assert "Location" in operation["responses"]["201"]["headers"], path


VERSIONED = {
    f"#/components/schemas/{name}" for name in ("Document", "Annotation", "Link", "LabelSchema")
}


def test_responses_with_a_versioned_resource_declare_etag(spec):
    checked = 0
    for _method, path, operation in operations(spec):
        for status in ("200", "201"):
            response = operation["responses"].get(status, {})
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref") in VERSIONED:
                assert "ETag" in response["headers"], (path, status)
                checked += 1
    assert checked >= 10


def test_protected_operations_declare_security_and_open_ones_do_not(spec):
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for _method, path, operation in operations(spec):
        if path.startswith("/health"):
            assert operation["security"] == [], path
        else:
            assert "security" not in operation, path
            assert {"401", "403"} <= set(operation["responses"]), path


def test_docs_page_uses_only_local_assets(client):
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "//cdn" not in html
    assert "unpkg" not in html
    assert 'src="docs/assets/swagger-ui-bundle.js"' in html
    with client.get("/docs/assets/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200
        assert len(asset.data) > 100_000
