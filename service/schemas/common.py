from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

# Fields the server owns: a client may send back what it read, and they are ignored.
READ_ONLY_FIELDS = frozenset(
    {
        "id",
        "document_id",
        "created_by",
        "created_at",
        "updated_at",
        "version",
        "length",
        "revision",
        "anchor",
        "dangling",
    }
)


class RequestSchema(ma.Schema):
    """A request body: unknown fields are refused; server-owned fields are ignored."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _drop_read_only(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if key not in READ_ONLY_FIELDS}
        return data


class StrictInteger(fields.Integer):
    """An integer and nothing else: no strings, floats or booleans."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


def described(description: str, **metadata: Any) -> dict[str, Any]:
    return {"description": description, **metadata}


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem: every error this service returns has this shape."""

    type = fields.String(
        metadata=described(
            "URI naming the problem; `about:blank` for plain HTTP errors, "
            "`urn:annotation-store:problem:<name>` for the store's own rules",
            example="urn:annotation-store:problem:invalid-span",
        )
    )
    title = fields.String(
        metadata=described("The HTTP status phrase", example="Unprocessable Content")
    )
    status = fields.Integer(metadata=described("The HTTP status code", example=422))
    detail = fields.String(
        metadata=described(
            "What went wrong, for a human",
            example="end 120 is beyond the end of the document (98 code points)",
        )
    )
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata=described(
            "Messages per request field (dotted paths for nested fields)",
            example={"end": ["must be <= 98, the document's length"]},
        ),
    )


class PageArgsSchema(ma.Schema):
    limit = fields.Integer(
        validate=validate.Range(min=1),
        metadata=described("Items per page: 50 by default, at most 1000", example=50),
    )
    cursor = fields.String(
        metadata=described("The `next_cursor` of the previous page; omit for the first page")
    )


CURSOR_EXAMPLE = "eyJrIjogWyIwMTkzMmMwNyJdfQ"

NEXT_CURSOR = fields.String(
    allow_none=True,
    required=True,
    metadata=described("Cursor of the next page, or null on the last page", example=CURSOR_EXAMPLE),
)


def page_items(schema: type[ma.Schema], description: str) -> fields.Field:
    """The ``items`` of a page."""
    return fields.List(fields.Nested(schema), required=True, metadata=described(description))
