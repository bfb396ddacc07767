"""The persistent model: one module per aggregate."""

from service.models.annotations import Annotation, Link
from service.models.api_keys import ApiKey
from service.models.changes import Change
from service.models.documents import Document
from service.models.idempotency import IdempotencyRecord
from service.models.label_schema import LabelSchema
from service.models.revisions import AnnotationSpan, DocumentRevision

__all__ = [
    "Annotation",
    "AnnotationSpan",
    "ApiKey",
    "Change",
    "Document",
    "DocumentRevision",
    "IdempotencyRecord",
    "LabelSchema",
    "Link",
]
