from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from service.schemas.common import NEXT_CURSOR, PageArgsSchema, described

ACTIONS = ("create", "update", "delete", "restore")
RESOURCES = ("document", "annotation", "link", "schema")


class ChangeSchema(ma.Schema):
    seq = fields.Integer(
        required=True,
        metadata=described("Position in the change feed: increases in commit order", example=42),
    )
    action = fields.String(
        required=True, validate=validate.OneOf(ACTIONS), metadata=described("What was done")
    )
    resource = fields.String(
        required=True, validate=validate.OneOf(RESOURCES), metadata=described("What it was done to")
    )
    id = fields.String(
        required=True,
        metadata=described("The resource's id (the schema's version for the schema)"),
    )
    document_id = fields.String(
        required=True, allow_none=True, metadata=described("The document it belongs to, if any")
    )
    at = fields.AwareDateTime(required=True, metadata=described("When (UTC)"))
    by = fields.String(required=True, metadata=described("Who: the caller's identity"))
    request_id = fields.String(
        required=True, allow_none=True, metadata=described("The X-Request-ID of the request")
    )
    caused_by = fields.Integer(
        required=True,
        allow_none=True,
        metadata=described(
            "The seq of the change that caused this one (a deletion that took links with it)"
        ),
    )
    before = fields.Dict(
        required=True,
        allow_none=True,
        metadata=described("The resource before the change; null for a create or restore"),
    )
    after = fields.Dict(
        required=True,
        allow_none=True,
        metadata=described("The resource after the change; null for a delete"),
    )


class ChangePageSchema(ma.Schema):
    items = fields.List(fields.Nested(ChangeSchema), required=True)
    next_cursor = NEXT_CURSOR


class ChangeFeedSchema(ma.Schema):
    items = fields.List(fields.Nested(ChangeSchema), required=True)
    next_cursor = fields.String(
        required=True,
        metadata=described(
            "Where to continue. Never null: at the end it is the position to resume from "
            "once more changes are committed"
        ),
    )


class HistoryArgsSchema(PageArgsSchema):
    pass


class ChangeFeedArgsSchema(PageArgsSchema):
    document_id = fields.UUID(metadata=described("Only changes within this document"))
    resource = fields.String(
        validate=validate.OneOf(RESOURCES), metadata=described("Only changes of this resource")
    )
