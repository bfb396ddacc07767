"""What in a new OpenAPI document would break a client written against an older one.

Operations are matched by method and path (path parameters matched by position); their
parameters, request bodies and responses are compared, following ``$ref`` into every
component schema they reach. Breaking, by direction:

- an operation removed;
- a query, path or header parameter removed (header: only a required one), retyped, or newly
  required; a new required parameter;
- a request body field removed (unknown fields are refused), newly required, or narrowed
  (a type or value old clients send is no longer accepted); a request body newly required;
- a response field removed, no longer always present, or widened (a value old clients never
  had to handle: ``null``, another type or format, a new enum value - generated clients
  refuse an enum value they do not know);
- a documented success status or media type removed.

Additions are not breaking: new operations, optional parameters, optional request fields,
response fields, statuses and media types.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

METHODS = ("get", "put", "post", "patch", "delete", "options", "head", "trace")
Json = dict[str, Any]


def major(spec: Json) -> int:
    match = re.match(r"\s*(\d+)", str(spec.get("info", {}).get("version", "")))
    if match is None:
        raise ValueError(f"info.version {spec.get('info', {}).get('version')!r} is not semver")
    return int(match.group(1))


def blocking_changes(old: Json, new: Json) -> list[str]:
    """The breaking changes, unless the API's major version went up (then none block)."""
    return [] if major(new) > major(old) else breaking_changes(old, new)


def breaking_changes(old: Json, new: Json) -> list[str]:
    return _Comparison(old, new).run()


@dataclass
class _Comparison:
    old: Json
    new: Json
    changes: list[str] = field(default_factory=list)
    seen: set[tuple[str, str, str]] = field(default_factory=set)

    def run(self) -> list[str]:
        new_operations = dict(_operations(self.new))
        for key, (path, method, old_op, old_params) in _operations(self.old):
            where = f"{method.upper()} {path}"
            if key not in new_operations:
                self.changes.append(f"{where}: operation removed")
                continue
            _, _, new_op, new_params = new_operations[key]
            self._parameters(where, old_params, new_params)
            self._request(where, old_op.get("requestBody"), new_op.get("requestBody"))
            self._responses(where, old_op.get("responses", {}), new_op.get("responses", {}))
        return list(dict.fromkeys(self.changes))

    def _parameters(self, where: str, old: dict[tuple[str, str], Json], new: dict) -> None:
        for key, parameter in old.items():
            location, name = key[0], parameter["name"]
            if key not in new:
                if location != "header" or parameter.get("required"):
                    self.changes.append(f"{where}: {location} parameter {name!r} removed")
                continue
            before = _types(self.old, parameter.get("schema", {}))
            after = _types(self.new, new[key].get("schema", {}))
            if not _covers(after, before):
                self.changes.append(
                    f"{where}: {location} parameter {name!r} retyped from "
                    f"{_show(before)} to {_show(after)}"
                )
            if new[key].get("required") and not parameter.get("required"):
                self.changes.append(f"{where}: {location} parameter {name!r} is now required")
        for key, parameter in new.items():
            if key not in old and parameter.get("required"):
                self.changes.append(
                    f"{where}: new required {key[0]} parameter {parameter['name']!r}"
                )

    def _request(self, where: str, old: Json | None, new: Json | None) -> None:
        old = _resolve(self.old, old or {})
        new = _resolve(self.new, new or {})
        if new.get("required") and not old.get("required"):
            self.changes.append(f"{where}: request body is now required")
        for media, content in old.get("content", {}).items():
            if media not in new.get("content", {}):
                self.changes.append(f"{where}: request media type {media} no longer accepted")
                continue
            self._schema(
                "request",
                f"{where} request",
                content.get("schema", {}),
                new["content"][media].get("schema", {}),
            )

    def _responses(self, where: str, old: Json, new: Json) -> None:
        for status, response in old.items():
            if status not in new:
                if str(status).startswith("2"):
                    self.changes.append(f"{where}: response {status} removed")
                continue
            old_content = _resolve(self.old, response).get("content", {})
            new_content = _resolve(self.new, new[status]).get("content", {})
            for media, content in old_content.items():
                if media not in new_content:
                    if str(status).startswith("2"):
                        self.changes.append(f"{where}: response {status} {media} removed")
                    continue
                self._schema(
                    "response",
                    f"{where} {status}",
                    content.get("schema", {}),
                    new_content[media].get("schema", {}),
                )

    def _schema(self, direction: str, label: str, old: Json, new: Json, depth: int = 0) -> None:
        """Compare two schemas a client sends (request) or receives (response)."""
        if depth > 32:  # an inline schema recursing through a $ref on one side only
            return
        if "$ref" in old and "$ref" in new:
            key = (direction, old["$ref"], new["$ref"])
            if key in self.seen:
                return
            self.seen.add(key)
            label = old["$ref"].rsplit("/", 1)[-1]
        old_types, new_types = _types(self.old, old), _types(self.new, new)
        if direction == "request" and not _covers(new_types, old_types):
            self.changes.append(
                f"{label}: request field retyped from {_show(old_types)} to {_show(new_types)}"
            )
        if direction == "response" and not _covers(old_types, new_types):
            self.changes.append(
                f"{label}: response field retyped from {_show(old_types)} to {_show(new_types)}"
            )
        old_fields, old_required = _fields(self.old, old)
        new_fields, new_required = _fields(self.new, new)
        for name, schema in old_fields.items():
            if name not in new_fields:
                self.changes.append(f"{label}.{name}: {direction} field removed")
                continue
            if direction == "response" and name in old_required and name not in new_required:
                self.changes.append(f"{label}.{name}: response field no longer always present")
            self._schema(direction, f"{label}.{name}", schema, new_fields[name], depth + 1)
        if direction == "request":
            for name in sorted(new_required - old_required):
                self.changes.append(f"{label}.{name}: new required request field")
        old_items, new_items = _items(self.old, old), _items(self.new, new)
        if old_items is not None and new_items is not None:
            self._schema(direction, f"{label}[]", old_items, new_items, depth + 1)


def _operations(spec: Json) -> Iterator[tuple[tuple[str, str], tuple[str, str, Json, dict]]]:
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            parameters = {}
            for parameter in [*shared, *operation.get("parameters", [])]:
                parameter = _resolve(spec, parameter)
                location, name = parameter["in"], parameter["name"]
                if location == "header":
                    name = name.lower()
                if location == "path" and name in _path_names(path):
                    # A path parameter is known by its place in the path, not its name.
                    name = f"{{{_path_names(path).index(name)}}}"
                parameters[(location, name)] = parameter
            key = (method, re.sub(r"\{[^}]*\}", "{}", path))
            yield key, (path, method, operation, parameters)


def _path_names(path: str) -> list[str]:
    return re.findall(r"\{([^}]*)\}", path)


def _resolve(spec: Json, node: Json) -> Json:
    seen = set()
    while isinstance(node, dict) and "$ref" in node and node["$ref"] not in seen:
        seen.add(node["$ref"])
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _alternatives(spec: Json, schema: Json) -> list[Json]:
    """The schema as a list of plain alternatives (anyOf / oneOf spread out)."""
    schema = _resolve(spec, schema)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        return [alt for branch in branches for alt in _alternatives(spec, branch)]
    if schema.get("allOf"):
        merged: Json = {}
        for part in schema["allOf"]:
            for alt in _alternatives(spec, part):
                merged = {**merged, **alt}
        return [merged]
    alternatives = [schema]
    if schema.get("nullable"):
        alternatives.append({"type": "null"})
    return alternatives


def _types(spec: Json, schema: Json) -> frozenset[tuple[str, str, str]]:
    """What values a schema admits, coarsely: (type, format, enum) per alternative."""
    kinds = set()
    for alt in _alternatives(spec, schema):
        types = alt.get("type", "any")
        for kind in types if isinstance(types, list) else [types]:
            enum = ",".join(sorted(map(repr, alt["enum"]))) if "enum" in alt else ""
            kinds.add((kind, alt.get("format", ""), enum))
    return frozenset(kinds)


def _covers(wide: frozenset, narrow: frozenset) -> bool:
    """Whether every value ``narrow`` admits, ``wide`` admits too (as far as types tell)."""

    def one(w: tuple[str, str, str], n: tuple[str, str, str]) -> bool:
        if w[0] == "any":
            return True
        same_type = w[0] == n[0] or (w[0] == "number" and n[0] == "integer")
        same_format = w[1] in ("", n[1])
        wider_enum = not w[2] or (bool(n[2]) and set(n[2].split(",")) <= set(w[2].split(",")))
        return same_type and same_format and wider_enum

    return all(any(one(w, n) for w in wide) for n in narrow)


def _show(types: frozenset) -> str:
    parts = []
    for kind, form, enum in sorted(types):
        parts.append(kind + (f"({form})" if form else "") + (f"[{enum}]" if enum else ""))
    return " | ".join(parts)


def _fields(spec: Json, schema: Json) -> tuple[dict[str, Json], set[str]]:
    fields: dict[str, Json] = {}
    required: set[str] = set()
    for alt in _alternatives(spec, schema):
        fields.update(alt.get("properties", {}))
        required |= set(alt.get("required", []))
    return fields, required


def _items(spec: Json, schema: Json) -> Json | None:
    for alt in _alternatives(spec, schema):
        if isinstance(alt.get("items"), dict):
            return alt["items"]
    return None
