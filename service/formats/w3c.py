"""W3C Web Annotation Data Model (JSON-LD), https://www.w3.org/TR/annotation-model/.

A span is an Annotation with motivation "classifying" whose target is a
SpecificResource of the document with two selectors: a TextPositionSelector (code
points) and a TextQuoteSelector (exact, prefix, suffix). Its bodies are
TextualBodies: the annotation type (purpose "classifying"), the label (purpose
"tagging"), and, as JSON text (purpose "describing"), its attributes, status and
confidence, so that nothing is lost. A link is an Annotation with motivation
"linking": its target is the link's source annotation, its body the link's target
annotation and a TextualBody naming the link type. A document's export is an
AnnotationCollection with one AnnotationPage."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from service.formats.exchange import (
    Exported,
    FormatError,
    IncomingAnnotation,
    IncomingDocument,
    IncomingLink,
    extras,
    json_array,
    mapping,
    quote,
)

CONTEXT = "http://www.w3.org/ns/anno.jsonld"
MEDIA_TYPE = 'application/ld+json;profile="http://www.w3.org/ns/anno.jsonld"'
GENERATOR = {"type": "Software", "name": "Annotation Store"}
EXTRAS_FORMAT = "application/json"
UUID_IN_IRI = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")

IriOf = Callable[[str, str], str]  # (collection, id) -> IRI


def urn_iri(_collection: str, identifier: str) -> str:
    return f"urn:uuid:{identifier}"


def _creator(name: str) -> dict[str, str]:
    return {"type": "Software" if name in ("seed", "import") else "Person", "name": name}


def annotation(item: Mapping[str, Any], text: str, iri: IriOf) -> dict[str, Any]:
    exact, prefix, suffix = quote(text, item["start"], item["end"])
    return {
        "@context": CONTEXT,
        "id": iri("annotations", item["id"]),
        "type": "Annotation",
        "motivation": "classifying",
        "created": item["created_at"],
        "modified": item["updated_at"],
        "creator": _creator(item["created_by"]),
        "generator": GENERATOR,
        "body": [
            {"type": "TextualBody", "purpose": "classifying", "value": item["type"]},
            {"type": "TextualBody", "purpose": "tagging", "value": item["label"]},
            {
                "type": "TextualBody",
                "purpose": "describing",
                "format": EXTRAS_FORMAT,
                "value": json.dumps(extras(dict(item)), ensure_ascii=False, sort_keys=True),
            },
        ],
        "target": {
            "type": "SpecificResource",
            "source": iri("documents", item["document_id"]),
            "selector": [
                {"type": "TextPositionSelector", "start": item["start"], "end": item["end"]},
                {"type": "TextQuoteSelector", "exact": exact, "prefix": prefix, "suffix": suffix},
            ],
        },
    }


def link(item: Mapping[str, Any], iri: IriOf) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "id": iri("links", item["id"]),
        "type": "Annotation",
        "motivation": "linking",
        "created": item["created_at"],
        "modified": item["updated_at"],
        "creator": _creator(item["created_by"]),
        "generator": GENERATOR,
        "body": [
            iri("annotations", item["target_id"]),
            {"type": "TextualBody", "purpose": "tagging", "value": item["type"]},
            {
                "type": "TextualBody",
                "purpose": "describing",
                "format": EXTRAS_FORMAT,
                "value": json.dumps({"attributes": item["attributes"]}, ensure_ascii=False),
            },
        ],
        "target": iri("annotations", item["source_id"]),
    }


def collection(exported: Exported, iri: IriOf) -> dict[str, Any]:
    document = exported.document
    items = [annotation(a, document["text"], iri) for a in exported.annotations]
    items += [link(item, iri) for item in exported.links]
    for item in items:
        del item["@context"]  # once, on the collection
    collection_id = iri("documents", document["id"]) + "/annotations"
    return {
        "@context": CONTEXT,
        "id": collection_id,
        "type": "AnnotationCollection",
        "label": document.get("title") or document.get("external_id") or document["id"],
        "total": len(items),
        "first": {
            "id": f"{collection_id}#page-1",
            "type": "AnnotationPage",
            "startIndex": 0,
            "items": items,
        },
        "last": f"{collection_id}#page-1",
    }


def stream(exports: Iterator[Exported], iri: IriOf) -> Iterator[str]:
    """A JSON array of collections, one document at a time."""
    return json_array(collection(exported, iri) for exported in exports)


# --- import -----------------------------------------------------------------------------


def _id_of(value: Any, where: str) -> str:
    identifier = value.get("id") if isinstance(value, Mapping) else value
    match = UUID_IN_IRI.search(identifier) if isinstance(identifier, str) else None
    if match is None:
        raise FormatError(where, "needs an id (an IRI ending in a UUID, or any string)")
    return match.group(1)


def _ref(value: Any, where: str) -> str:
    identifier = value.get("id") if isinstance(value, Mapping) else value
    if not isinstance(identifier, str) or not identifier:
        raise FormatError(where, "needs an id")
    return identifier


def _bodies(annotation: Mapping[str, Any]) -> list[Any]:
    body = annotation.get("body", [])
    return body if isinstance(body, list) else [body]


def _textual(bodies: list[Any], purpose: str) -> Any:
    for body in bodies:
        if isinstance(body, Mapping) and body.get("purpose") == purpose:
            return body.get("value")
    return None


def parse(data: Any) -> IncomingDocument:
    """An AnnotationCollection, an AnnotationPage, a list of Annotations or one
    Annotation, for one document named by the caller (W3C carries no text)."""
    items, base = _items(data)
    incoming = IncomingDocument(where="")
    for index, item in enumerate(items):
        where = f"{base}/{index}" if base is not None else ""
        if not isinstance(item, Mapping) or item.get("type") != "Annotation":
            raise FormatError(where, 'must be an object with "type": "Annotation"')
        if item.get("motivation") == "linking":
            incoming.links.append(_link(item, where))
        else:
            incoming.annotations.append(_span(item, where))
    return incoming


def _items(data: Any) -> tuple[list[Any], str | None]:
    """The annotations, and the pointer of their array (None: the input is one)."""
    if isinstance(data, list):
        return data, ""
    if not isinstance(data, Mapping):
        raise FormatError("", "must be a JSON object or array")
    kind = data.get("type")
    if kind == "AnnotationCollection":
        first = data.get("first")
        if not isinstance(first, Mapping) or not isinstance(first.get("items"), list):
            raise FormatError("/first", "must be an embedded AnnotationPage with items")
        return first["items"], "/first/items"
    if kind == "AnnotationPage":
        if not isinstance(data.get("items"), list):
            raise FormatError("/items", "must be an array")
        return data["items"], "/items"
    if kind == "Annotation":
        return [data], None
    raise FormatError("/type", "must be AnnotationCollection, AnnotationPage or Annotation")


def _span(item: Mapping[str, Any], where: str) -> IncomingAnnotation:
    bodies = _bodies(item)
    target = item.get("target")
    if not isinstance(target, Mapping):
        raise FormatError(f"{where}/target", "must be a SpecificResource with selectors")
    selectors = target.get("selector", [])
    selectors = selectors if isinstance(selectors, list) else [selectors]
    incoming = IncomingAnnotation(
        ref=_ref(item, f"{where}/id"),
        type=_textual(bodies, "classifying"),
        label=_textual(bodies, "tagging"),
        where=where,
    )
    for number, selector in enumerate(selectors):
        if not isinstance(selector, Mapping):
            continue
        if selector.get("type") == "TextPositionSelector":
            incoming.start, incoming.end = selector.get("start"), selector.get("end")
        elif selector.get("type") == "TextQuoteSelector":
            incoming.exact = selector.get("exact")
            incoming.prefix, incoming.suffix = selector.get("prefix"), selector.get("suffix")
        else:
            raise FormatError(
                f"{where}/target/selector/{number}",
                "only TextPositionSelector and TextQuoteSelector are understood",
            )
    if incoming.start is None and incoming.exact is None:
        raise FormatError(f"{where}/target/selector", "needs a position or a quote selector")
    described = _textual(bodies, "describing")
    if described is not None:
        more = _described(described, f"{where}/body")
        incoming.attributes = mapping(more.get("attributes"), f"{where}/body/attributes")
        incoming.status, incoming.confidence = more.get("status"), more.get("confidence")
    return incoming


def _described(value: Any, where: str) -> Mapping[str, Any]:
    """What a describing body holds: a JSON object as text."""
    try:
        more = json.loads(value)
    except (TypeError, ValueError, RecursionError):
        raise FormatError(where, "the describing body is not JSON") from None
    if not isinstance(more, Mapping):
        raise FormatError(where, "the describing body is not a JSON object")
    return more


def _link(item: Mapping[str, Any], where: str) -> IncomingLink:
    bodies = _bodies(item)
    ends = [
        b for b in bodies if isinstance(b, str) or (isinstance(b, Mapping) and "purpose" not in b)
    ]
    if len(ends) != 1:
        raise FormatError(f"{where}/body", "a linking annotation has one linked annotation")
    described = _textual(bodies, "describing")
    attributes = {}
    if described is not None:
        more = _described(described, f"{where}/body")
        attributes = mapping(more.get("attributes"), f"{where}/body/attributes")
    return IncomingLink(
        type=_textual(bodies, "tagging"),
        source=_ref(item.get("target"), f"{where}/target"),
        target=_ref(ends[0], f"{where}/body"),
        where=where,
        attributes=attributes,
    )
