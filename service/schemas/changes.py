from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from service.schemas.common import NEXT_CURSOR, PageArgsSchema, described, page_items

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
        metadata=described(
            "The resource's id (the schema's version for the schema)",
            example="01932c07-8a1e-7c3b-9f4d-2b6e5a7c8d90",
        ),
    )
    document_id = fields.String(
        required=True,
        allow_none=True,
        metadata=described(
            "The document it belongs to, if any", example="01932c07-8a1e-7c3b-9f4d-2b6e5a7c8d90"
        ),
    )
    at = fields.AwareDateTime(required=True, metadata=described("When (UTC)"))
    by = fields.String(
        required=True, metadata=described("Who: the caller's identity", example="annotator-7")
    )
    request_id = fields.String(
        required=True,
        allow_none=True,
        metadata=described(
            "The X-Request-ID of the request", example="5f0c6a2e9b2d4f7e8a1b3c4d5e6f7a8b"
        ),
    )
    caused_by = fields.Integer(
        required=True,
        allow_none=True,
        metadata=described(
            "The seq of the change that caused this one (a deletion that took links with it)",
            example=41,
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
    items = page_items(ChangeSchema, "Changes, oldest first")
    next_cursor = NEXT_CURSOR


class ChangeFeedSchema(ma.Schema):
    items = page_items(ChangeSchema, "Changes in commit order")
    next_cursor = fields.String(
        required=True,
        metadata=described(
            "Where to continue. Never null: at the end it is the position to resume from "
            "once more changes are committed",
            example="1042",
        ),
    )


class HistoryArgsSchema(PageArgsSchema):
    pass


class ChangeFeedArgsSchema(PageArgsSchema):
    document_id = fields.UUID(metadata=described("Only changes within this document"))
    resource = fields.String(
        validate=validate.OneOf(RESOURCES), metadata=described("Only changes of this resource")
    )
