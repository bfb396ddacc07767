from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from service.schemas.common import NEXT_CURSOR, RequestSchema, described, page_items
from service.schemas.documents import TEXT_DESCRIPTION, TEXT_EXAMPLE, DocumentSchema


class DocumentTextSchema(RequestSchema):
    text = fields.String(
        required=True,
        validate=validate.Length(min=1, error="Must not be empty."),
        metadata=described(
            "The new text. " + TEXT_DESCRIPTION,
            example=TEXT_EXAMPLE.replace("likely", "probably"),
        ),
    )


def _count(description: str, example: int) -> fields.Field:
    return fields.Integer(required=True, metadata=described(description, example=example))


class AnchorCountsSchema(ma.Schema):
    exact = _count("Untouched by the edit: same offsets, same text", 140)
    shifted = _count("Same text at new offsets", 8)
    fuzzy = _count("Text changed slightly; found again by quote and context", 1)
    orphaned = _count("Could not be placed: kept, with their last span and text", 1)


class AnchoringSchema(ma.Schema):
    counts = fields.Nested(AnchorCountsSchema, required=True)
    orphaned_ids = fields.List(
        fields.String(),
        required=True,
        metadata=described("The annotations this change orphaned"),
    )
    moved = fields.Integer(
        required=True,
        metadata=described(
            "Annotations whose span, text or status changed (each a new version, in its history)",
            example=10,
        ),
    )
    dangling_links = fields.Integer(
        required=True,
        metadata=described("Links this change flagged dangling (an end orphaned)", example=2),
    )


class TextRevisedSchema(ma.Schema):
    changed = fields.Boolean(
        required=True,
        metadata=described(
            "False when the text sent is the current one: nothing was stored", example=True
        ),
    )
    document = fields.Nested(DocumentSchema, required=True)
    anchoring = fields.Nested(AnchoringSchema, required=True)


class RevisionSchema(ma.Schema):
    revision = fields.Integer(
        required=True, metadata=described("1 for the text as created", example=2)
    )
    length = fields.Integer(
        required=True, metadata=described("Length of its text in code points", example=4210)
    )
    created_at = fields.AwareDateTime(required=True, metadata=described("When it was stored"))
    created_by = fields.String(
        required=True, metadata=described("Who stored it", example="desk-editor")
    )
    current = fields.Boolean(
        required=True, metadata=described("Whether it is the document's text now", example=True)
    )
    anchoring = fields.Nested(
        AnchoringSchema,
        required=True,
        allow_none=True,
        metadata=described(
            "What re-anchoring did when this revision replaced the one before; null for the first"
        ),
    )


class RevisionPageSchema(ma.Schema):
    items = page_items(RevisionSchema, "The page's revisions, oldest first")
    next_cursor = NEXT_CURSOR
