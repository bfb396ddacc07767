from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate
from webargs.fields import DelimitedList

from service.schemas.common import (
    MAX_INTEGER,
    NEXT_CURSOR,
    PageArgsSchema,
    RequestSchema,
    StrictInteger,
    described,
    page_items,
)
from service.schemas.links import LinkSchema

STATUSES = ("proposed", "accepted", "rejected")
ANCHORS = ("exact", "shifted", "fuzzy", "orphaned")


def _type(**options: Any) -> fields.Field:
    return fields.String(
        validate=validate.Length(min=1, max=64),
        metadata=described(
            "Annotation type from the label schema: entity, quote or claim by default",
            example="entity",
        ),
        **options,
    )


def _label(**options: Any) -> fields.Field:
    return fields.String(
        validate=validate.Length(min=1, max=128),
        metadata=described("A label of that type in the label schema", example="NORP"),
        **options,
    )


def _start(**options: Any) -> fields.Field:
    return StrictInteger(
        validate=validate.Range(min=0, max=MAX_INTEGER),
        metadata=described("First code point of the span (0-based, inclusive)", example=0),
        **options,
    )


def _end(**options: Any) -> fields.Field:
    return StrictInteger(
        validate=validate.Range(min=1, max=MAX_INTEGER),
        metadata=described(
            "Code point after the span (exclusive); start < end <= the document's length",
            example=12,
        ),
        **options,
    )


TEXT_DESCRIPTION = "The document's text at [start, end), filled by the server"


class AnnotationOptionalFields(ma.Schema):
    text = fields.String(
        metadata=described(
            TEXT_DESCRIPTION + "; if a client sends it, it must equal that slice",
            example="North Korean",
        )
    )
    attributes = fields.Dict(
        keys=fields.String(),
        allow_none=True,
        metadata=described("Free-form JSON object", example={"mention": "name"}),
    )
    confidence = fields.Float(
        allow_none=True,
        allow_nan=False,
        validate=validate.Range(min=0, max=1),
        metadata=described("Confidence of the annotator or model, 0 to 1", example=0.98),
    )
    status = fields.String(
        validate=validate.OneOf(STATUSES),
        metadata=described("Review status: proposed, accepted (default) or rejected"),
    )


class AnnotationCreateSchema(RequestSchema, AnnotationOptionalFields):
    type = _type(required=True)
    label = _label(required=True)
    start = _start(required=True)
    end = _end(required=True)


class AnnotationUpdateSchema(RequestSchema, AnnotationOptionalFields):
    type = _type()
    label = _label()
    start = _start()
    end = _end()


class AnnotationSchema(ma.Schema):
    id = fields.UUID(required=True, metadata=described("The annotation's id"))
    document_id = fields.UUID(required=True, metadata=described("The annotated document"))
    type = _type(required=True)
    label = _label(required=True)
    start = _start(required=True)
    end = _end(required=True)
    text = fields.String(
        required=True, metadata=described(TEXT_DESCRIPTION, example="North Korean")
    )
    attributes = fields.Dict(
        keys=fields.String(),
        required=True,
        metadata=described("Free-form JSON object", example={"mention": "name"}),
    )
    confidence = fields.Float(
        required=True, allow_none=True, metadata=described("0 to 1, or null", example=0.98)
    )
    status = fields.String(
        required=True,
        validate=validate.OneOf(STATUSES),
        metadata=described("Review status: proposed, accepted or rejected"),
    )
    anchor = fields.String(
        required=True,
        validate=validate.OneOf(ANCHORS),
        metadata=described(
            "How the span came through the last change of the document's text: exact "
            "(untouched), shifted (same text, moved), fuzzy (its text changed slightly and "
            "was found again) or orphaned (not found: start, end and text are where it "
            "last was, in an earlier revision)"
        ),
    )
    created_by = fields.String(
        required=True,
        metadata=described("Who made it: the authenticated identity", example="ner-tagger"),
    )
    created_at = fields.AwareDateTime(required=True, metadata=described("Creation time (UTC)"))
    updated_at = fields.AwareDateTime(required=True, metadata=described("Last change (UTC)"))
    version = fields.Integer(
        required=True, metadata=described("Increases on every change", example=1)
    )


class AnnotationPageSchema(ma.Schema):
    items = page_items(AnnotationSchema, "The page's annotations, in span order")
    next_cursor = NEXT_CURSOR


class SpanParameter(fields.Field):
    """``START,END`` in a query string: two integers, 0 <= START < END."""

    default_error_messages = {  # noqa: RUF012 (marshmallow's convention)
        "invalid": f"Must be START,END with 0 <= START < END <= {MAX_INTEGER}."
    }

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple[int, int]:
        try:
            start, end = (int(part) for part in str(value).split(","))
        except ValueError:
            raise self.make_error("invalid") from None
        if not 0 <= start < end <= MAX_INTEGER:
            raise self.make_error("invalid")
        return start, end


def _span(description: str) -> SpanParameter:
    return SpanParameter(
        metadata=described(description, type="string", pattern=r"^\d+,\d+$", example="10,25")
    )


class OffsetUnitArgsSchema(ma.Schema):
    offset_unit = fields.String(
        validate=validate.OneOf(("codepoint", "utf16", "utf8")),
        metadata=described(
            "Unit of every offset in the request and the response: Unicode code points "
            "(default), UTF-16 code units (JavaScript's string indexes) or UTF-8 bytes. "
            "The response names it in an Offset-Unit header",
            example="utf16",
        ),
    )


class AnnotationListArgsSchema(PageArgsSchema, OffsetUnitArgsSchema):
    type = fields.String(metadata=described("Only annotations of this type", example="quote"))
    label = DelimitedList(
        fields.String(),
        metadata=described("Only these labels, comma-separated", example=["PERSON", "ORG"]),
    )
    status = fields.String(
        validate=validate.OneOf(STATUSES), metadata=described("Only this review status")
    )
    created_by = fields.String(metadata=described("Only annotations made by this identity"))
    overlaps = _span("Only spans that intersect [START, END); touching spans do not")
    within = _span("Only spans inside [START, END)")
    at = fields.Integer(
        validate=validate.Range(min=0, max=MAX_INTEGER),
        metadata=described("Only spans containing this offset", example=12),
    )
    anchor = fields.String(
        validate=validate.OneOf(ANCHORS),
        metadata=described(
            "Only annotations with this anchor status. Without it, lists leave out the "
            "orphaned ones (which a change of the text left without a place); "
            "anchor=orphaned lists those"
        ),
    )


class DocumentAnnotationListArgsSchema(AnnotationListArgsSchema):
    revision = fields.Integer(
        validate=validate.Range(min=1, max=MAX_INTEGER),
        metadata=described(
            "Show the text and spans as they were at this revision of the text "
            "(GET .../revisions lists them); the current one by default",
            example=1,
        ),
    )


class CorpusAnnotationListArgsSchema(AnnotationListArgsSchema):
    document_id = fields.UUID(metadata=described("Only annotations of this document"))
    q = fields.String(
        validate=validate.Length(min=1, max=500),
        metadata=described("Only spans whose text contains this, ignoring case", example="kim"),
    )


class AnnotationRestoredSchema(ma.Schema):
    annotation = fields.Nested(AnnotationSchema, required=True)
    links = fields.List(
        fields.Nested(LinkSchema),
        required=True,
        metadata=described("The links its deletion removed that came back with it"),
    )


class BatchAnnotationSchema(AnnotationCreateSchema):
    ref = fields.String(
        metadata=described(
            "A name for this annotation within the batch, for links to use", example="q1"
        )
    )


class BatchLinkSchema(RequestSchema):
    type = fields.String(required=True, metadata=described("Link type", example="speaker"))
    source_ref = fields.String(
        metadata=described("The ref of an annotation of this batch", example="q1")
    )
    source_id = fields.UUID(metadata=described("Or a stored annotation of this document"))
    target_ref = fields.String(
        metadata=described("The ref of an annotation of this batch", example="p1")
    )
    target_id = fields.UUID(metadata=described("Or a stored annotation of this document"))
    attributes = fields.Dict(
        keys=fields.String(), allow_none=True, metadata=described("Free-form JSON object")
    )


class BatchWriteSchema(RequestSchema):
    annotations = fields.List(
        fields.Nested(BatchAnnotationSchema),
        load_default=list,
        metadata=described("Annotations to create, each checked as a single create is"),
    )
    links = fields.List(
        fields.Nested(BatchLinkSchema),
        load_default=list,
        metadata=described(
            "Links to create; each end is a `*_ref` to an annotation of this batch or a "
            "`*_id` of a stored annotation of the document"
        ),
    )


class BatchWrittenSchema(ma.Schema):
    annotations = fields.List(
        fields.Nested(AnnotationSchema),
        required=True,
        metadata=described("The annotations created, in the order they were sent"),
    )
    links = fields.List(
        fields.Nested(LinkSchema),
        required=True,
        metadata=described("The links created, in the order they were sent"),
    )
