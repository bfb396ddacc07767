"""The contract only grows within a major version: openapi/openapi.json breaks nothing a
client of the last released spec (openapi/released/<info.version>.json) relies on. To
release, copy openapi/openapi.json there under its version; to break, raise the major."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.openapi_compat import blocking_changes, breaking_changes, major

OPENAPI = Path(__file__).resolve().parent.parent / "openapi"


def version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in path.stem.split("."))


def released() -> Path:
    return max(OPENAPI.glob("released/*.json"), key=version_key)


def test_the_current_spec_breaks_no_client_of_the_last_release():
    old = json.loads(released().read_text(encoding="utf-8"))
    new = json.loads((OPENAPI / "openapi.json").read_text(encoding="utf-8"))
    changes = blocking_changes(old, new)
    assert not changes, (
        f"openapi/openapi.json (version {new['info']['version']}) breaks clients of "
        f"{released().name}:\n  "
        + "\n  ".join(changes)
        + "\nKeep the old shape, or raise info.version's major version."
    )


def test_the_version_never_goes_back():
    old = json.loads(released().read_text(encoding="utf-8"))
    new = json.loads((OPENAPI / "openapi.json").read_text(encoding="utf-8"))
    assert major(new) >= major(old)


def test_each_release_is_named_by_its_version():
    for path in OPENAPI.glob("released/*.json"):
        assert json.loads(path.read_text(encoding="utf-8"))["info"]["version"] == path.stem


# The checker itself, on a small API: things with a name, a count, tags and a nested part.
BASE: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1.0.0"},
    "paths": {
        "/things": {
            "get": {
                "parameters": [
                    {"in": "query", "name": "limit", "schema": {"type": "integer"}},
                    {"$ref": "#/components/parameters/IfNoneMatch"},
                ],
                "responses": {"200": {"$ref": "#/components/responses/ThingPage"}},
            },
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/New"}}
                    },
                },
                "responses": {
                    "201": {
                        "description": "Created",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                        },
                    }
                },
            },
        },
        "/things/{thing_id}": {
            "parameters": [
                {"in": "path", "name": "thing_id", "required": True, "schema": {"type": "string"}}
            ],
            "delete": {"responses": {"204": {"description": "Deleted"}}},
        },
    },
    "components": {
        "parameters": {
            "IfNoneMatch": {"in": "header", "name": "If-None-Match", "schema": {"type": "string"}}
        },
        "responses": {
            "ThingPage": {
                "description": "OK",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "items": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Thing"},
                                }
                            },
                        }
                    }
                },
            }
        },
        "schemas": {
            "Thing": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "name": {"type": "string"},
                    "count": {"type": "integer"},
                    "status": {"type": "string", "enum": ["open", "closed"]},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "part": {"$ref": "#/components/schemas/Part"},
                },
            },
            "Part": {"type": "object", "properties": {"size": {"type": "integer"}}},
            "New": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "note": {"type": "string"},
                    "status": {"type": "string", "enum": ["open", "closed"]},
                },
            },
        },
    },
}

Change = Callable[[dict[str, Any]], object]


def changed(change: Change, version: str = "1.0.0") -> dict[str, Any]:
    spec = copy.deepcopy(BASE)
    change(spec)
    spec["info"]["version"] = version
    return spec


def schemas(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["components"]["schemas"]


def get_things(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["paths"]["/things"]["get"]


BREAKING = [
    pytest.param(
        lambda s: s["paths"]["/things/{thing_id}"].pop("delete"),
        "DELETE /things/{thing_id}: operation removed",
        id="operation-removed",
    ),
    pytest.param(
        lambda s: schemas(s)["Thing"]["properties"].pop("count"),
        "Thing.count: response field removed",
        id="response-field-removed",
    ),
    pytest.param(
        lambda s: schemas(s)["Thing"]["properties"].update(count={"type": "string"}),
        "Thing.count: response field retyped from integer to string",
        id="response-field-retyped",
    ),
    pytest.param(
        lambda s: schemas(s)["Part"]["properties"].update(size={"type": "number"}),
        "Part.size: response field retyped from integer to number",
        id="field-retyped-in-a-reachable-component",
    ),
    pytest.param(
        lambda s: schemas(s)["Thing"]["properties"].update(
            tags={"type": "array", "items": {"type": "integer"}}
        ),
        "Thing.tags[]: response field retyped from string to integer",
        id="array-items-retyped",
    ),
    pytest.param(
        lambda s: schemas(s)["Thing"]["properties"].update(
            name={"type": "string", "nullable": True}
        ),
        "Thing.name: response field retyped from string to null | string",
        id="response-field-made-nullable",
    ),
    pytest.param(
        lambda s: schemas(s)["Thing"]["properties"]["status"]["enum"].append("archived"),
        "Thing.status: response field retyped",
        id="response-enum-value-added",
    ),
    pytest.param(
        lambda s: schemas(s)["Thing"]["required"].remove("name"),
        "Thing.name: response field no longer always present",
        id="response-field-made-optional",
    ),
    pytest.param(
        lambda s: schemas(s)["New"]["properties"].pop("note"),
        "New.note: request field removed",
        id="request-field-removed",
    ),
    pytest.param(
        lambda s: schemas(s)["New"]["properties"].update(note={"type": "integer"}),
        "New.note: request field retyped from string to integer",
        id="request-field-retyped",
    ),
    pytest.param(
        lambda s: schemas(s)["New"]["properties"]["status"]["enum"].remove("closed"),
        "New.status: request field retyped",
        id="request-enum-value-removed",
    ),
    pytest.param(
        lambda s: schemas(s)["New"]["required"].append("note"),
        "New.note: new required request field",
        id="optional-request-field-made-required",
    ),
    pytest.param(
        lambda s: (
            schemas(s)["New"]["properties"].update(owner={"type": "string"}),
            schemas(s)["New"]["required"].append("owner"),
        ),
        "New.owner: new required request field",
        id="new-required-request-field",
    ),
    pytest.param(
        lambda s: get_things(s)["parameters"].pop(0),
        "GET /things: query parameter 'limit' removed",
        id="query-parameter-removed",
    ),
    pytest.param(
        lambda s: get_things(s)["parameters"][0].update(schema={"type": "string"}),
        "GET /things: query parameter 'limit' retyped from integer to string",
        id="query-parameter-retyped",
    ),
    pytest.param(
        lambda s: s["paths"]["/things/{thing_id}"]["parameters"][0].update(
            schema={"type": "integer"}
        ),
        "DELETE /things/{thing_id}: path parameter 'thing_id' retyped from string to integer",
        id="path-parameter-retyped",
    ),
    pytest.param(
        lambda s: get_things(s)["parameters"][0].update(required=True),
        "GET /things: query parameter 'limit' is now required",
        id="optional-parameter-made-required",
    ),
    pytest.param(
        lambda s: get_things(s)["parameters"].append(
            {"in": "query", "name": "owner", "required": True, "schema": {"type": "string"}}
        ),
        "GET /things: new required query parameter 'owner'",
        id="new-required-parameter",
    ),
    pytest.param(
        lambda s: s["paths"]["/things"]["post"]["responses"].update(
            {"200": s["paths"]["/things"]["post"]["responses"].pop("201")}
        ),
        "POST /things: response 201 removed",
        id="success-status-removed",
    ),
]


@pytest.mark.parametrize(("change", "expected"), BREAKING)
def test_a_breaking_change_is_named(change: Change, expected: str):
    changes = breaking_changes(BASE, changed(change))
    assert any(line.startswith(expected) for line in changes), changes


@pytest.mark.parametrize(("change", "expected"), BREAKING)
def test_a_breaking_change_blocks_within_a_major_version(change: Change, expected: str):
    assert blocking_changes(BASE, changed(change, version="1.4.0")) != []


@pytest.mark.parametrize(("change", "expected"), BREAKING)
def test_a_new_major_version_may_break(change: Change, expected: str):
    assert blocking_changes(BASE, changed(change, version="2.0.0")) == []


ADDITIVE = [
    pytest.param(
        lambda s: s["paths"].update({"/others": {"get": {"responses": {}}}}), id="new-operation"
    ),
    pytest.param(
        lambda s: schemas(s)["Thing"]["properties"].update(colour={"type": "string"}),
        id="new-response-field",
    ),
    pytest.param(
        lambda s: (
            schemas(s)["Thing"]["properties"].update(colour={"type": "string"}),
            schemas(s)["Thing"]["required"].append("colour"),
        ),
        id="new-required-response-field",
    ),
    pytest.param(
        lambda s: schemas(s)["New"]["properties"].update(colour={"type": "string"}),
        id="new-optional-request-field",
    ),
    pytest.param(
        lambda s: schemas(s)["New"]["required"].remove("name"), id="request-field-relaxed"
    ),
    pytest.param(
        lambda s: schemas(s)["New"]["properties"].update(note={"type": "string", "nullable": True}),
        id="request-field-made-nullable",
    ),
    pytest.param(
        lambda s: schemas(s)["New"]["properties"]["status"]["enum"].append("archived"),
        id="request-enum-value-added",
    ),
    pytest.param(
        lambda s: schemas(s)["Thing"]["properties"]["status"]["enum"].remove("closed"),
        id="response-enum-value-dropped",
    ),
    pytest.param(
        lambda s: get_things(s)["parameters"].append(
            {"in": "query", "name": "owner", "schema": {"type": "string"}}
        ),
        id="new-optional-parameter",
    ),
    pytest.param(
        lambda s: s["paths"]["/things"]["post"]["responses"].update(
            {"409": {"description": "Conflict"}}
        ),
        id="new-response-status",
    ),
    pytest.param(lambda s: schemas(s).update(Other={"type": "object"}), id="new-component-schema"),
    pytest.param(
        lambda s: (
            s["paths"]["/things/{thing_id}"]["parameters"][0].update(name="id")
            or s["paths"].update({"/things/{id}": s["paths"].pop("/things/{thing_id}")})
        ),
        id="path-parameter-renamed",
    ),
    pytest.param(lambda s: get_things(s)["parameters"].pop(1), id="optional-header-dropped"),
]


@pytest.mark.parametrize("change", ADDITIVE)
def test_an_additive_change_breaks_nothing(change: Change):
    assert breaking_changes(BASE, changed(change)) == []


def test_every_breaking_change_is_listed():
    def two_changes(spec: dict[str, Any]) -> None:
        schemas(spec)["Thing"]["properties"].pop("count")
        get_things(spec)["parameters"].pop(0)

    assert breaking_changes(BASE, changed(two_changes)) == [
        "GET /things: query parameter 'limit' removed",
        "Thing.count: response field removed",
    ]
