from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate
from webargs.fields import DelimitedList

from service.schemas.annotations import AnnotationSchema, OffsetUnitArgsSchema
from service.schemas.common import (
    MAX_INTEGER,
    NEXT_CURSOR,
    PageArgsSchema,
    RequestSchema,
    described,
    page_items,
)
from service.schemas.links import LinkSchema

# BCP 47 language tags ("en", "pt-BR", "zh-Hant-TW"), loosely.
LANGUAGE_TAG = validate.Regexp(
    r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$", error="Not a BCP 47 language tag."
)


class DocumentMetadataFields(ma.Schema):
    """The fields a client sets and may change later."""

    external_id = fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=512),
        metadata=described(
            "The document's id in its source system; unique across the store",
            example="000_56075bffde052d65.txt",
        ),
    )
    title = fields.String(
        allow_none=True,
        metadata=described("Headline or title", example="North Korean soldiers killed"),
    )
    source_url = fields.Url(
        allow_none=True,
        require_tld=False,
        metadata=described("Where the text was published", example="https://news.example/a/1"),
    )
    published_at = fields.AwareDateTime(
        allow_none=True,
        metadata=described(
            "Publication time, RFC 3339 with a time zone; returned in UTC",
            example="2024-10-09T00:00:00Z",
        ),
    )
    language = fields.String(
        allow_none=True,
        validate=LANGUAGE_TAG,
        metadata=described("BCP 47 language tag", example="en"),
    )
    meta = fields.Dict(
        data_key="metadata",
        keys=fields.String(),
        allow_none=True,
        metadata=described("Free-form JSON object kept with the document", example={}),
    )


TEXT_DESCRIPTION = "The text; annotation offsets count its Unicode code points"
TEXT_EXAMPLE = "North Korean soldiers have likely been killed, South Korea has said."


class DocumentCreateSchema(RequestSchema, DocumentMetadataFields):
    text = fields.String(
        required=True,
        validate=validate.Length(min=1, error="Must not be empty."),
        metadata=described(TEXT_DESCRIPTION, example=TEXT_EXAMPLE),
    )


class DocumentUpdateSchema(RequestSchema, DocumentMetadataFields):
    text = fields.String(
        metadata=described(
            "Accepted only unchanged, so that a client may send back what it read; "
            "a PATCH cannot change the text",
            example=TEXT_EXAMPLE,
        )
    )


class DocumentSchema(DocumentMetadataFields):
    id = fields.UUID(required=True, metadata=described("The document's id"))
    text = fields.String(required=True, metadata=described(TEXT_DESCRIPTION, example=TEXT_EXAMPLE))
    length = fields.Integer(
        required=True, metadata=described("Length of the text in Unicode code points", example=68)
    )
    revision = fields.Integer(
        required=True,
        metadata=described(
            "The text's revision: 1 as created, one more on every change of the text",
            example=1,
        ),
    )
    created_at = fields.AwareDateTime(required=True, metadata=described("Creation time (UTC)"))
    updated_at = fields.AwareDateTime(required=True, metadata=described("Last change (UTC)"))
    version = fields.Integer(
        required=True,
        metadata=described("Increases on every change; the ETag carries it", example=1),
    )


class DocumentWithRelationsSchema(DocumentSchema):
    annotations = fields.List(
        fields.Nested(AnnotationSchema),
        metadata=described("With include=annotations: all its annotations, in span order"),
    )
    links = fields.List(
        fields.Nested(LinkSchema),
        metadata=described("With include=links: all its links, in id order"),
    )


class DocumentGetArgsSchema(OffsetUnitArgsSchema):
    revision = fields.Integer(
        validate=validate.Range(min=1, max=MAX_INTEGER),
        metadata=described(
            "Show the text and spans as they were at this revision of the text "
            "(GET .../revisions lists them); the current one by default",
            example=1,
        ),
    )
    include = DelimitedList(
        fields.String(validate=validate.OneOf(("annotations", "links"))),
        metadata=described(
            "Also return all the document's annotations and/or links, in one response",
            example=["annotations", "links"],
        ),
    )


class EntityMentionSchema(ma.Schema):
    id = fields.UUID(required=True, metadata=described("The mention (an entity annotation)"))
    label = fields.String(required=True, metadata=described("Its label", example="PERSON"))
    start = fields.Integer(
        required=True, metadata=described("First code point of the mention", example=0)
    )
    end = fields.Integer(
        required=True, metadata=described("Code point after the mention", example=3)
    )
    text = fields.String(required=True, metadata=described("Its text", example="Kim"))


class EntitySchema(ma.Schema):
    id = fields.UUID(required=True, metadata=described("The id of its first mention in the text"))
    name = fields.String(
        required=True,
        metadata=described("Its longest proper-name mention", example="Kim Jong-un"),
    )
    label = fields.String(
        required=True, metadata=described("The label of that mention", example="PERSON")
    )
    mentions = fields.List(
        fields.Nested(EntityMentionSchema),
        required=True,
        metadata=described("Every mention, in text order"),
    )


class EntityListSchema(ma.Schema):
    items = fields.List(
        fields.Nested(EntitySchema),
        required=True,
        metadata=described("Entities, in the order of their first mention"),
    )
    next_cursor = fields.String(
        required=True,
        allow_none=True,
        metadata=described("Always null: a document's entities come in one page", example=None),
    )


class DocumentPageSchema(ma.Schema):
    items = page_items(
        DocumentSchema, "The page's documents: best match first with q, in id order otherwise"
    )
    next_cursor = NEXT_CURSOR


class DocumentListArgsSchema(PageArgsSchema):
    q = fields.String(
        validate=validate.Length(min=1, max=500),
        metadata=described(
            "Words that must all occur in the title or the text; results come best match "
            "first (title matches weigh more)",
            example="artillery shells",
        ),
    )
    external_id = fields.String(
        metadata=described("Only the document with this external_id", example="a.txt")
    )
    published_after = fields.AwareDateTime(
        metadata=described("Only documents published at or after this time (RFC 3339)")
    )
    published_before = fields.AwareDateTime(
        metadata=described("Only documents published at or before this time (RFC 3339)")
    )
