"""Each presenter produces exactly what its read schema documents."""

from __future__ import annotations

import pytest

from service.formats import native
from service.schemas.annotations import AnnotationSchema
from service.schemas.documents import DocumentSchema
from service.schemas.label_schema import LabelSchemaSchema
from service.schemas.links import LinkSchema
from service.services import label_schema
from tests.factories import make_annotation, make_document, make_link


@pytest.fixture
def objects(session):
    document = make_document(session, external_id="x", meta={"source": "test"})
    kim = make_annotation(session, document, "Kim Jong-un", confidence=0.5)
    he = make_annotation(session, document, "He")
    return {
        "document": (document, native.document, DocumentSchema),
        "annotation": (kim, native.annotation, AnnotationSchema),
        "link": (make_link(session, "coreference", kim, he), native.link, LinkSchema),
        "schema": (label_schema.current(session), native.label_schema, LabelSchemaSchema),
    }


@pytest.mark.parametrize("name", ["document", "annotation", "link", "schema"])
def test_presenter_matches_read_schema(objects, name):
    obj, present, schema = objects[name]
    body = present(obj)
    wire_names = {field.data_key or name for name, field in schema().fields.items()}
    assert set(body) == wire_names, "presenter and schema name different fields"
    assert schema().validate(body) == {}


def test_timestamps_are_utc_with_z(session):
    document = make_document(session)
    body = native.document(document)
    assert body["created_at"].endswith("Z")
    assert "+00:00" not in body["created_at"]
