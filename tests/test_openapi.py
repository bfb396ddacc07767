"""The committed contract is what the code generates, and complete enough for SDK
generators."""

from __future__ import annotations

import json
import re
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
        ("createDocument", {"503", "201", "400", "401", "403", "409", "413", "415", "422"}),
        ("getDocument", {"503", "200", "304", "400", "401", "403", "404"}),
        (
            "updateAnnotation",
            {"200", "400", "401", "403", "404", "412", "413", "415", "422", "428", "503"},
        ),
        ("deleteLink", {"503", "204", "401", "403", "404", "412", "428"}),
        ("restoreLink", {"503", "200", "400", "401", "403", "404", "409", "422"}),
        ("createLink", {"503", "201", "400", "401", "403", "409", "413", "415", "422"}),
        (
            "replaceLabelSchema",
            {"200", "400", "401", "403", "409", "412", "413", "415", "422", "428", "503"},
        ),
        ("listDocumentAnnotations", {"503", "200", "400", "401", "403", "404"}),
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


CAMEL_CASE = re.compile(r"^[a-z][a-zA-Z0-9]*$")


def test_operations_are_named_in_camel_case_and_described(spec):
    for method, path, operation in operations(spec):
        assert CAMEL_CASE.match(operation["operationId"]), operation["operationId"]
        assert len(operation["tags"]) == 1, (method, path)
        assert operation.get("description", "").strip(), f"{method.upper()} {path}"


def test_tags_are_declared_and_described(spec):
    declared = {tag["name"]: tag.get("description") for tag in spec["tags"]}
    for _method, _path, operation in operations(spec):
        assert declared.get(operation["tags"][0]), operation["tags"][0]


def bodies(spec):
    """(where, media type object) of every request and response body, shared ones included."""
    for method, path, operation in operations(spec):
        for media, content in operation.get("requestBody", {}).get("content", {}).items():
            yield f"{method.upper()} {path} request {media}", content
        for status, response in operation["responses"].items():
            for media, content in response.get("content", {}).items():
                yield f"{method.upper()} {path} {status} {media}", content
    for name, response in spec["components"]["responses"].items():
        for media, content in response["content"].items():
            yield f"response {name} {media}", content


def test_every_body_is_a_named_schema(spec):
    unnamed = [where for where, content in bodies(spec) if "$ref" not in content["schema"]]
    assert unnamed == []


def test_every_field_has_a_description_and_every_value_an_example(spec):
    undescribed, without_example = [], []
    for name, schema in spec["components"]["schemas"].items():
        assert schema.get("description") or schema.get("properties"), name
        for field, prop in schema.get("properties", {}).items():
            if "$ref" in prop:
                continue  # described by its own schema
            if not prop.get("description"):
                undescribed.append(f"{name}.{field}")
            if "allOf" in prop or "anyOf" in prop:
                continue  # a nested schema, with its own fields
            if prop.get("type") not in ("array", "object") and not (
                "example" in prop or "enum" in prop
            ):
                without_example.append(f"{name}.{field}")
    assert undescribed == []
    assert without_example == []


def test_every_parameter_is_described(spec):
    for method, path, operation in operations(spec):
        for parameter in operation.get("parameters", []):
            if "$ref" in parameter:
                name = parameter["$ref"].rsplit("/", 1)[1]
                parameter = spec["components"]["parameters"][name]
            assert parameter.get("description"), (method, path, parameter["name"])


def test_every_response_declares_the_request_id_header(spec):
    for method, path, operation in operations(spec):
        for status, response in operation["responses"].items():
            if "$ref" in response:
                name = response["$ref"].rsplit("/", 1)[1]
                response = spec["components"]["responses"][name]
            assert "X-Request-ID" in response.get("headers", {}), (method, path, status)


def test_database_backed_operations_declare_503_with_retry_after(spec):
    for method, path, operation in operations(spec):
        if path.startswith("/v1/") or path == "/health/ready":
            assert "503" in operation["responses"], (method, path)
    assert "Retry-After" in spec["components"]["responses"]["ServiceUnavailable"]["headers"]


def test_pages_declare_their_link_header_and_cursor(spec):
    pages = 0
    for method, path, operation in operations(spec):
        ok = operation["responses"].get("200", {})
        schema = ok.get("content", {}).get("application/json", {}).get("schema", {})
        if not schema.get("$ref", "").endswith("Page"):
            continue
        pages += 1
        assert "Link" in ok["headers"], (method, path)
        names = {p.get("name") for p in operation["parameters"]}
        assert {"limit", "cursor"} <= names, (method, path)
    assert pages >= 8


def test_writes_to_versioned_resources_declare_if_match_and_its_errors(spec):
    checked = 0
    for method, path, operation in operations(spec):
        refs = {p.get("$ref", "").rsplit("/", 1)[-1] for p in operation.get("parameters", [])}
        if "IfMatch" in refs:
            checked += 1
            assert method in ("put", "patch", "delete"), path
            assert {"412", "428"} <= set(operation["responses"]), (method, path)
    assert checked >= 7


def test_replayable_posts_declare_the_replayed_header(spec):
    checked = 0
    for method, path, operation in operations(spec):
        refs = {p.get("$ref", "").rsplit("/", 1)[-1] for p in operation.get("parameters", [])}
        if "IdempotencyKey" not in refs:
            continue
        checked += 1
        ok = next(r for s, r in operation["responses"].items() if s.startswith("2"))
        assert "Idempotent-Replayed" in ok["headers"], (method, path)
    assert checked >= 7


def test_header_parameters_add_to_query_parameters(spec):
    (operation,) = [op for _, _, op in operations(spec) if op["operationId"] == "getDocument"]
    names = {p.get("name", p.get("$ref", "").rsplit("/", 1)[-1]) for p in operation["parameters"]}
    assert {"include", "offset_unit", "IfNoneMatch"} <= names


def test_links_lead_to_operations_and_parameters_that_exist(spec):
    by_id = {op["operationId"]: (path, op) for _, path, op in operations(spec)}
    count = 0
    for _method, _path, operation in operations(spec):
        for response in operation["responses"].values():
            for name, link in response.get("links", {}).items():
                count += 1
                path, target = by_id[link["operationId"]]
                parameters = {
                    p.get("name")
                    or spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]["name"]
                    for p in target.get("parameters", [])
                }
                parameters |= set(re.findall(r"{(\w+)}", path))
                for key in link["parameters"]:
                    assert key.removeprefix("header.") in parameters, (name, key)
    assert count >= 25
