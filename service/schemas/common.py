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


# Offsets and revision numbers are stored as 32-bit integers.
MAX_INTEGER = 2**31 - 1


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
    # Members some problems add (RFC 9457 extension members).
    current_version = fields.Integer(
        metadata=described("412 and 428: the resource's current version, to read again", example=3)
    )
    current_etag = fields.String(
        metadata=described("412 and 428: the resource's current ETag", example='"3"')
    )
    existing_id = fields.String(
        metadata=described(
            "409 on a duplicate: the id of the resource that already exists",
            example="01932c07-8a1e-7c3b-9f4d-2b6e5a7c8d90",
        )
    )
    expected_text = fields.String(
        metadata=described(
            "422 on a span whose text does not match: the document's text there",
            example="Kim Jong-un",
        )
    )
    given_text = fields.String(
        metadata=described("422 on a span whose text does not match: the text sent", example="Kim")
    )
    required_role = fields.String(
        metadata=described("403: the least role the operation needs", example="annotator")
    )
    conflicts = fields.Dict(
        metadata=described(
            "409 on a label schema change: the stored annotations and links it would make "
            "invalid (the first of each kind, with the reason, and their totals)",
            example={"annotations": [], "annotation_total": 0, "links": [], "link_total": 0},
        )
    )


class PageArgsSchema(ma.Schema):
    limit = fields.Integer(
        validate=validate.Range(min=1, max=MAX_INTEGER),
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
