from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from service.schemas.common import (
    NEXT_CURSOR,
    PageArgsSchema,
    RequestSchema,
    described,
    page_items,
)

ROLE = fields.String(
    required=True,
    validate=validate.OneOf(("reader", "annotator", "admin")),
    metadata=described(
        "reader may read; annotator may also write annotations and links; admin may also "
        "write documents and the schema, and manage keys",
        example="annotator",
    ),
)


class ApiKeyCreateSchema(RequestSchema):
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=255),
        metadata=described(
            "Who or what uses the key; recorded as created_by of what it writes",
            example="ner-pipeline",
        ),
    )
    role = ROLE


class ApiKeySchema(ma.Schema):
    id = fields.UUID(required=True, metadata=described("The key's id"))
    name = fields.String(required=True, metadata=described("The key's name", example="alice"))
    role = ROLE
    created_at = fields.AwareDateTime(required=True, metadata=described("Creation time (UTC)"))
    revoked_at = fields.AwareDateTime(
        required=True, allow_none=True, metadata=described("When it was revoked, or null")
    )


class NewApiKeySchema(ApiKeySchema):
    secret = fields.String(
        required=True,
        metadata=described(
            "The bearer secret. Shown only in this response; only its hash is stored",
            example="ask_4Vd0cGx3...",
        ),
    )


class ApiKeyPageSchema(ma.Schema):
    items = page_items(ApiKeySchema, "The page's API keys, in id order")
    next_cursor = NEXT_CURSOR


class ApiKeyListArgsSchema(PageArgsSchema):
    pass
