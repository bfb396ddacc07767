"""The service's own JSON form of each resource: the API's wire representation.

Plain functions rather than marshmallow dumps, because the read paths are hot; a test
holds each of them to its read schema in ``service.schemas``."""

from __future__ import annotations

import functools
import operator
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from sqlalchemy import Row

from service.models import Annotation, ApiKey, Change, Document, LabelSchema, Link
from service.services.entities import Entity

if TYPE_CHECKING:
    from service.services.entities import Entity

T = TypeVar("T")


@functools.lru_cache(maxsize=1024)
def timestamp(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a ``Z``. (Remembered: the rows of a batch, and of many a
    list, share their times.)"""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def document(doc: Document) -> dict[str, Any]:
    return {
        "id": str(doc.id),
        "external_id": doc.external_id,
        "title": doc.title,
        "text": doc.text,
        "length": doc.length,
        "source_url": doc.source_url,
        "published_at": timestamp(doc.published_at),
        "language": doc.language,
        "metadata": doc.meta,
        "revision": doc.revision,
        "created_at": timestamp(doc.created_at),
        "updated_at": timestamp(doc.updated_at),
        "version": doc.version,
    }


def document_from_wire(row: Sequence[Any]) -> dict[str, Any]:
    """The same as ``document()`` for a row of wire columns, in the order of
    services.bundle.WIRE_ATTRIBUTES."""
    (i, external, title, text, length, url, published, language, meta, revision, c, u, v) = row
    return {
        "id": _id(i),
        "external_id": external,
        "title": title,
        "text": text,
        "length": length,
        "source_url": url,
        "published_at": _time(published),
        "language": language,
        "metadata": orjson.loads(meta),
        "revision": revision,
        "created_at": _time(c),
        "updated_at": _time(u),
        "version": v,
    }


def annotation(ann: Annotation | Row[Any]) -> dict[str, Any]:
    """An annotation, from the model or from a row of the same columns."""
    return {
        "id": str(ann.id),
        "document_id": str(ann.document_id),
        "type": ann.type,
        "label": ann.label,
        "start": ann.start,
        "end": ann.end,
        "text": ann.text,
        "attributes": ann.attributes,
        "confidence": ann.confidence,
        "status": ann.status,
        "anchor": ann.anchor,
        "created_by": ann.created_by,
        "created_at": timestamp(ann.created_at),
        "updated_at": timestamp(ann.updated_at),
        "version": ann.version,
    }


def link(lnk: Link | Row[Any]) -> dict[str, Any]:
    return {
        "id": str(lnk.id),
        "document_id": str(lnk.document_id),
        "type": lnk.type,
        "source_id": str(lnk.source_id),
        "target_id": str(lnk.target_id),
        "attributes": lnk.attributes,
        "dangling": lnk.dangling,
        "created_by": lnk.created_by,
        "created_at": timestamp(lnk.created_at),
        "updated_at": timestamp(lnk.updated_at),
        "version": lnk.version,
    }


def revision(info: Any) -> dict[str, Any]:
    return {
        "revision": info.revision,
        "length": info.length,
        "created_at": timestamp(info.created_at),
        "created_by": info.created_by,
        "current": info.current,
        "anchoring": info.anchoring,
    }


def label_schema(schema: LabelSchema) -> dict[str, Any]:
    return {
        "annotation_types": schema.annotation_types,
        "link_types": schema.link_types,
        "version": schema.version,
    }


def entity(found: Entity) -> dict[str, Any]:
    return {
        "id": str(found.mentions[0].id),
        "name": found.name,
        "label": found.label,
        "mentions": [
            {
                "id": str(m.id),
                "label": m.label,
                "start": m.start,
                "end": m.end,
                "text": m.text,
            }
            for m in found.mentions
        ],
    }


def api_key(key: ApiKey) -> dict[str, Any]:
    return {
        "id": str(key.id),
        "name": key.name,
        "role": key.role,
        "created_at": timestamp(key.created_at),
        "revoked_at": timestamp(key.revoked_at),
    }


# --- from wire rows (services.wire): the hot lists ------------------------------------


def _id(value: str) -> str:
    """A stored id in its dashed form (SQLite keeps 32 hex digits)."""
    if len(value) == 36:
        return value
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


def _time(value: str | None) -> str | None:
    """A UTC time read as "YYYY-MM-DD HH:MM:SS.ffffff" (SQLite) or with the fraction's
    trailing zeros left out, the fraction too if it is zero (PostgreSQL), as
    ``timestamp()`` writes it."""
    if value is None:
        return None
    if len(value) == 19 or value.endswith(".000000"):
        return f"{value[:10]}T{value[11:19]}Z"
    return f"{value[:10]}T{value[11:]}{'0' * (26 - len(value))}Z"


def annotations_from_wire(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """The same as ``annotation()`` for each row of wire columns, in the order of
    services.annotations.WIRE_ATTRIBUTES. Inlined, as it runs for every row of every
    list, and what rows share is worked out once: their document's id, and times
    (a batch writes its annotations at one time, and most are never changed)."""
    items: list[dict[str, Any]] = []
    append = items.append
    document_wire = document = time_wire = time = None
    for (
        i,
        d,
        kind,
        label,
        start,
        end,
        text,
        attributes,
        confidence,
        status,
        by,
        c,
        u,
        version,
        anchor,
    ) in rows:
        if d != document_wire:
            document_wire, document = d, _id(d)
        if len(i) == 32:
            i = f"{i[:8]}-{i[8:12]}-{i[12:16]}-{i[16:20]}-{i[20:]}"
        if c != time_wire:
            time_wire, time = c, _time(c)
        append(
            {
                "id": i,
                "document_id": document,
                "type": kind,
                "label": label,
                "start": start,
                "end": end,
                "text": text,
                "attributes": orjson.Fragment(attributes),
                "confidence": confidence,
                "status": status,
                "anchor": anchor,
                "created_by": by,
                "created_at": time,
                "updated_at": time if u == c else _time(u),
                "version": version,
            }
        )
    return items


def json_array(rows: Sequence[Sequence[Any]]) -> orjson.Fragment:
    """Rows of an annotation's JSON text (``annotations.api_json``) as a JSON array,
    written into the response as it is. On SQLite the text has the confidence null, and
    a row has the confidence beside it: one that is not null is written in its place,
    the last ``"confidence":null`` of the text, as keys of the attributes come before
    it, and a string can hold that only with its quotes escaped. (repr writes the
    shortest text that reads back as the same double.)"""
    # PostgreSQL writes the confidence itself; on SQLite, a page may have none to write.
    if not rows or len(rows[0]) == 1 or list(map(_second, rows)).count(None) == len(rows):
        return orjson.Fragment("[" + ",".join(map(_first, rows)) + "]")
    items = []
    for text, confidence in rows:
        if confidence is not None:
            head, _, tail = text.rpartition(_NULL_CONFIDENCE)
            text = f'{head}"confidence":{confidence!r}{tail}'
        items.append(text)
    return orjson.Fragment("[" + ",".join(items) + "]")


_first = operator.itemgetter(0)
_second = operator.itemgetter(1)
_NULL_CONFIDENCE = '"confidence":null'


def annotation_from_wire(row: Sequence[Any]) -> dict[str, Any]:
    return annotations_from_wire((row,))[0]


def links_from_wire(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """The same as ``link()`` for each row of wire columns, in the order of
    services.links.WIRE_ATTRIBUTES; what rows share (their document, their times) is
    worked out once, as in ``annotations_from_wire``."""
    items: list[dict[str, Any]] = []
    document_wire = document = None
    times: dict[str, str | None] = {}
    for i, d, kind, source, target, attributes, by, created, updated, version, dangling in rows:
        if d != document_wire:
            document_wire, document = d, _id(d)
        for wire in (created, updated):
            if wire not in times:
                times[wire] = _time(wire)
        items.append(
            {
                "id": _id(i),
                "document_id": document,
                "type": kind,
                "source_id": _id(source),
                "target_id": _id(target),
                "attributes": orjson.Fragment(attributes),
                "dangling": bool(dangling),
                "created_by": by,
                "created_at": times[created],
                "updated_at": times[updated],
                "version": version,
            }
        )
    return items


def link_from_wire(row: Sequence[Any]) -> dict[str, Any]:
    return links_from_wire((row,))[0]


def each(present: Callable[[T], Any]) -> Callable[[list[T]], list[Any]]:
    """A presenter of one item made a presenter of a list."""
    return lambda items: [present(item) for item in items]


def page(
    items: Iterable[T], next_cursor: str | None, present: Callable[[T], Any]
) -> dict[str, Any]:
    return {"items": [present(item) for item in items], "next_cursor": next_cursor}


# --- back from the wire form (history snapshots), for restores -----------------------


def _datetime(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def annotation_values(wire: dict[str, Any]) -> dict[str, Any]:
    """The model attributes of an annotation's wire form."""
    return {
        "id": uuid.UUID(wire["id"]),
        "document_id": uuid.UUID(wire["document_id"]),
        **{name: wire[name] for name in ("type", "label", "start", "end", "text")},
        **{name: wire[name] for name in ("attributes", "confidence", "status", "created_by")},
        # Snapshots from before text revisions have no anchor.
        "anchor": wire.get("anchor", "exact"),
        "created_at": _datetime(wire["created_at"]),
        "updated_at": _datetime(wire["updated_at"]),
        "version": wire["version"],
    }


def link_values(wire: dict[str, Any]) -> dict[str, Any]:
    """The model attributes of a link's wire form."""
    return {
        **{name: uuid.UUID(wire[name]) for name in ("id", "document_id", "source_id", "target_id")},
        **{name: wire[name] for name in ("type", "attributes", "created_by", "version")},
        "dangling": wire.get("dangling", False),
        "created_at": _datetime(wire["created_at"]),
        "updated_at": _datetime(wire["updated_at"]),
    }


def change(entry: Change) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "action": entry.action,
        "resource": entry.resource,
        "id": entry.resource_id,
        "document_id": entry.document_id,
        "at": timestamp(entry.at),
        "by": entry.by,
        "request_id": entry.request_id,
        "caused_by": entry.caused_by,
        "before": entry.before,
        "after": entry.after,
    }
