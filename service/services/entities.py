"""Entities: what a document's entity mentions refer to. Mentions joined by
``coreference`` links, directly or through others, are one entity; a mention linked
to nothing is an entity of its own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from service.models import Annotation, Link

COREFERENCE = "coreference"


@dataclass(frozen=True)
class Entity:
    name: str
    label: str
    mentions: list[Row[Any]]  # in text order; the first is the entity's id


def of_document(session: Session, document_id: uuid.UUID) -> list[Entity]:
    mentions = {
        row.id: row
        for row in session.execute(
            select(
                Annotation.id,
                Annotation.label,
                Annotation.start,
                Annotation.end,
                Annotation.text,
                Annotation.attributes,
            )
            .where(
                Annotation.document_id == document_id,
                Annotation.type == "entity",
                Annotation.anchor != "orphaned",
            )
            .order_by(Annotation.start, Annotation.end, Annotation.id)
        )
    }
    parent = {mention_id: mention_id for mention_id in mentions}

    def root(mention_id: uuid.UUID) -> uuid.UUID:
        while parent[mention_id] != mention_id:
            parent[mention_id] = parent[parent[mention_id]]
            mention_id = parent[mention_id]
        return mention_id

    for source, target in session.execute(
        select(Link.source_id, Link.target_id).where(
            Link.document_id == document_id, Link.type == COREFERENCE
        )
    ):
        if source in parent and target in parent:
            parent[root(source)] = root(target)

    groups: dict[uuid.UUID, list[Row[Any]]] = {}
    for mention_id, mention in mentions.items():  # text order is kept within groups
        groups.setdefault(root(mention_id), []).append(mention)
    entities = [_entity(group) for group in groups.values()]
    return sorted(entities, key=lambda e: (e.mentions[0].start, e.mentions[0].end))


def _entity(mentions: list[Row[Any]]) -> Entity:
    """Named by its longest proper-name mention: one marked ``mention: name``, or,
    where none is marked, one that starts with a capital letter."""
    names = [m for m in mentions if (m.attributes or {}).get("mention") == "name"]
    if not names:
        names = [m for m in mentions if m.text[:1].isupper()] or mentions
    canonical = max(names, key=lambda m: (len(m.text), -m.start))
    return Entity(canonical.text, canonical.label, mentions)
