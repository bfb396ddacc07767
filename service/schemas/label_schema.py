from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from service.schemas.common import RequestSchema, described

NAME = validate.Regexp(
    r"^[a-z][a-z0-9_]{0,63}$", error="Must be lower-case letters, digits and _ (at most 64)."
)
LABEL = validate.Length(min=1, max=128)


def _unique(values: list[str]) -> None:
    if len(set(values)) != len(values):
        raise ma.ValidationError("Must not repeat a value.")


class AnnotationTypeSpecSchema(ma.Schema):
    labels = fields.List(
        fields.String(validate=LABEL),
        required=True,
        validate=[validate.Length(min=1), _unique],
        metadata=described("The labels of this type", example=["PERSON", "ORG", "GPE"]),
    )


class LinkEndSpecSchema(ma.Schema):
    types = fields.List(
        fields.String(validate=NAME),
        required=True,
        validate=[validate.Length(min=1), _unique],
        metadata=described("Annotation types allowed at this end", example=["entity"]),
    )
    labels = fields.List(
        fields.String(validate=LABEL),
        validate=[validate.Length(min=1), _unique],
        metadata=described(
            "If present, only these labels are allowed at this end", example=["PERSON", "ORG"]
        ),
    )


class LinkTypeSpecSchema(ma.Schema):
    source = fields.Nested(LinkEndSpecSchema, required=True)
    target = fields.Nested(LinkEndSpecSchema, required=True)
    symmetric = fields.Boolean(
        load_default=False,
        metadata=described(
            "Whether (a, b) and (b, a) are the same link; source and target must then match",
            example=False,
        ),
    )


class LabelSchemaFields(ma.Schema):
    annotation_types = fields.Dict(
        keys=fields.String(validate=NAME),
        values=fields.Nested(AnnotationTypeSpecSchema),
        required=True,
        validate=validate.Length(min=1),
        metadata=described("Annotation types by name, with their labels"),
    )
    link_types = fields.Dict(
        keys=fields.String(validate=NAME),
        values=fields.Nested(LinkTypeSpecSchema),
        required=True,
        metadata=described("Link types by name, with what each end may be"),
    )


class LabelSchemaInputSchema(RequestSchema, LabelSchemaFields):
    pass


class LabelSchemaSchema(LabelSchemaFields):
    version = fields.Integer(
        required=True, metadata=described("Increases on every change of the schema", example=1)
    )
