"""The persistent model: one module per aggregate."""

from service.models.annotations import Annotation, Link
from service.models.documents import Document
from service.models.label_schema import LabelSchema

__all__ = ["Annotation", "Document", "LabelSchema", "Link"]
