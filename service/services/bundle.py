"""A document as it is now, with its annotations and links if asked, read from one
snapshot of the database in one round trip: what an annotation tool loads to show a
document. (A revision of the text, or offsets in another unit, go through the
session instead.)"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, select

from service.db import ReadTogether
from service.errors import NotFound
from service.models import Document
from service.services import annotations, links, wire

WIRE_ATTRIBUTES = (
    Document.id,
    Document.external_id,
    Document.title,
    Document.text,
    Document.length,
    Document.source_url,
    Document.published_at,
    Document.language,
    Document.meta,
    Document.revision,
    Document.created_at,
    Document.updated_at,
    Document.version,
)


@dataclass
class Bundle:
    document: Sequence[Any]  # wire row (native.document_from_wire)
    annotations: list[Sequence[Any]] = field(default_factory=list)  # native.json_array
    links: list[Sequence[Any]] = field(default_factory=list)  # native.links_from_wire


def read(
    read_together: ReadTogether,
    postgresql: bool,
    document_id: uuid.UUID,
    *,
    with_annotations: bool,
    with_links: bool,
) -> Bundle:
    """The document's wire row, its annotations but the orphans as JSON rows in span
    order, its links as wire rows in id order; 404 if there is no such document."""
    parameters = {"document_id": document_id}
    reads = [(_document(postgresql), parameters)]
    if with_annotations:
        reads.append((annotations.json_of_document_statement(postgresql), parameters))
    if with_links:
        reads.append((links.of_document_statement(postgresql), parameters))
    found = read_together(reads)
    if not found[0]:
        raise NotFound(f"document {document_id} does not exist")
    rest = iter(found[1:])
    return Bundle(
        found[0][0],
        next(rest) if with_annotations else [],
        next(rest) if with_links else [],
    )


@lru_cache(maxsize=2)
def _document(postgresql: bool) -> Select[Any]:
    return select(*wire.columns_for(postgresql, WIRE_ATTRIBUTES)).where(
        Document.id == bindparam("document_id")
    )
