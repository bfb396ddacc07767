"""The persistent model: one module per aggregate."""

from service.models.annotations import Annotation, Link
from service.models.api_keys import ApiKey
from service.models.documents import Document
from service.models.label_schema import LabelSchema

__all__ = ["Annotation", "ApiKey", "Document", "LabelSchema", "Link"]
