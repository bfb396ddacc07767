from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from service.schemas.common import (
    NEXT_CURSOR,
    PageArgsSchema,
    RequestSchema,
    described,
    page_items,
)


def _type(**options: Any) -> fields.Field:
    return fields.String(
        validate=validate.Length(min=1, max=64),
        metadata=described(
            "Link type from the label schema (speaker, claimant, coreference, about, "
            "supports, contradicts by default)",
            example="speaker",
        ),
        **options,
    )


def _source_id(**options: Any) -> fields.Field:
    return fields.UUID(metadata=described("The annotation the link starts from"), **options)


def _target_id(**options: Any) -> fields.Field:
    return fields.UUID(metadata=described("The annotation the link points to"), **options)


ATTRIBUTES_DESCRIPTION = "Free-form JSON object"


class LinkCreateSchema(RequestSchema):
    type = _type(required=True)
    source_id = _source_id(required=True)
    target_id = _target_id(required=True)
    attributes = fields.Dict(
        keys=fields.String(), allow_none=True, metadata=described(ATTRIBUTES_DESCRIPTION)
    )


class LinkUpdateSchema(RequestSchema):
    type = _type()
    source_id = _source_id()
    target_id = _target_id()
    attributes = fields.Dict(
        keys=fields.String(), allow_none=True, metadata=described(ATTRIBUTES_DESCRIPTION)
    )


class LinkSchema(ma.Schema):
    id = fields.UUID(required=True, metadata=described("The link's id"))
    document_id = fields.UUID(required=True, metadata=described("The document both ends belong to"))
    type = _type(required=True)
    source_id = _source_id(required=True)
    target_id = _target_id(required=True)
    attributes = fields.Dict(
        keys=fields.String(), required=True, metadata=described(ATTRIBUTES_DESCRIPTION)
    )
    dangling = fields.Boolean(
        required=True,
        metadata=described(
            "True when an end is an orphaned annotation (one a change of the text left "
            "without a place); the link is kept",
            example=False,
        ),
    )
    created_by = fields.String(
        required=True, metadata=described("Who made it", example="annotator-7")
    )
    created_at = fields.AwareDateTime(required=True, metadata=described("Creation time (UTC)"))
    updated_at = fields.AwareDateTime(required=True, metadata=described("Last change (UTC)"))
    version = fields.Integer(
        required=True, metadata=described("Increases on every change", example=1)
    )


class LinkPageSchema(ma.Schema):
    items = page_items(LinkSchema, "The page's links, in id order")
    next_cursor = NEXT_CURSOR


class LinkListArgsSchema(PageArgsSchema):
    document_id = fields.UUID(metadata=described("Only links within this document"))
    annotation_id = fields.UUID(
        metadata=described("Only links that have this annotation at either end")
    )
    type = fields.String(metadata=described("Only links of this type", example="speaker"))


class DocumentLinkListArgsSchema(PageArgsSchema):
    type = fields.String(metadata=described("Only links of this type", example="speaker"))
