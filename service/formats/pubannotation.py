"""PubAnnotation JSON, http://www.pubannotation.org/docs/annotation-format/.

``denotations`` are the spans (``obj`` is the label), ``relations`` the links
(``pred`` is the link type), ``attributes`` everything else about either: the
annotation type (pred "type"), "status", "confidence", and each attribute by its own
key (``obj`` may be any JSON value). An attribute whose key is one of those three
words, or begins with "attributes.", goes by "attributes." and its key, so that it
comes back as an attribute."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from service.formats.exchange import (
    Exported,
    FormatError,
    IncomingAnnotation,
    IncomingDocument,
    IncomingLink,
    json_array,
)

SOURCE_DB = "annotation-store"
RESERVED = ("type", "status", "confidence")
ESCAPE = "attributes."


def _predicate(key: str) -> str:
    """The pred of an attribute: its key, unless that would read as something else."""
    return f"{ESCAPE}{key}" if key in RESERVED or key.startswith(ESCAPE) else key


def document(exported: Exported) -> dict[str, Any]:
    doc = exported.document
    ids = {a["id"]: f"T{number}" for number, a in enumerate(exported.annotations, 1)}
    denotations = [
        {"id": ids[a["id"]], "span": {"begin": a["start"], "end": a["end"]}, "obj": a["label"]}
        for a in exported.annotations
    ]
    relations = []
    attributes: list[dict[str, Any]] = []

    def attribute(subject: str, predicate: str, value: Any) -> None:
        attributes.append(
            {"id": f"A{len(attributes) + 1}", "subj": subject, "pred": predicate, "obj": value}
        )

    for a in exported.annotations:
        subject = ids[a["id"]]
        attribute(subject, "type", a["type"])
        if a["status"] != "accepted":
            attribute(subject, "status", a["status"])
        if a["confidence"] is not None:
            attribute(subject, "confidence", a["confidence"])
        for key, value in a["attributes"].items():
            attribute(subject, _predicate(key), value)
    for number, item in enumerate(exported.links, 1):
        relation = f"R{number}"
        relations.append(
            {
                "id": relation,
                "subj": ids[item["source_id"]],
                "pred": item["type"],
                "obj": ids[item["target_id"]],
            }
        )
        for key, value in item["attributes"].items():
            attribute(relation, _predicate(key), value)
    return {
        "text": doc["text"],
        "sourcedb": SOURCE_DB,
        "sourceid": doc.get("external_id") or doc["id"],
        "denotations": denotations,
        "relations": relations,
        "attributes": attributes,
    }


def stream(exports: Iterator[Exported]) -> Iterator[str]:
    """A JSON array of documents, one at a time."""
    return json_array(map(document, exports))


def parse(data: Any) -> list[IncomingDocument]:
    """One document or an array of them."""
    documents = data if isinstance(data, list) else [data]
    base = "" if isinstance(data, list) else None
    return [
        _document(item, f"/{index}" if base is not None else "")
        for index, item in enumerate(documents)
    ]


def _document(data: Any, where: str) -> IncomingDocument:
    if not isinstance(data, Mapping) or not isinstance(data.get("text"), str):
        raise FormatError(where, 'a PubAnnotation document is an object with a "text"')
    fields: dict[str, Any] = {}
    source_id = data.get("sourceid")
    if data.get("sourcedb") in (SOURCE_DB, None) and source_id not in (None, ""):
        if isinstance(source_id, bool) or not isinstance(source_id, str | int):
            raise FormatError(f"{where}/sourceid", "must be a string or an integer")
        fields["external_id"] = str(source_id)
    incoming = IncomingDocument(where=where, text=data["text"], fields=fields)
    spans: dict[str, IncomingAnnotation] = {}
    for index, item in enumerate(_list(data, "denotations", where)):
        at = f"{where}/denotations/{index}"
        span = item.get("span") if isinstance(item, Mapping) else None
        if not isinstance(span, Mapping) or not isinstance(item.get("id"), str):
            raise FormatError(at, 'needs an "id" and a "span" with "begin" and "end"')
        annotation = IncomingAnnotation(
            ref=item["id"],
            type="entity",
            label=item.get("obj"),
            where=at,
            start=span.get("begin"),
            end=span.get("end"),
        )
        spans[item["id"]] = annotation
        incoming.annotations.append(annotation)
    relations: dict[str, IncomingLink] = {}
    for index, item in enumerate(_list(data, "relations", where)):
        at = f"{where}/relations/{index}"
        if not isinstance(item, Mapping):
            raise FormatError(at, "must be an object")
        link = IncomingLink(
            type=item.get("pred"),
            source=str(item.get("subj")),
            target=str(item.get("obj")),
            where=at,
        )
        relations[str(item.get("id"))] = link
        incoming.links.append(link)
    for index, item in enumerate(_list(data, "attributes", where)):
        at = f"{where}/attributes/{index}"
        if not isinstance(item, Mapping) or not isinstance(item.get("pred"), str):
            raise FormatError(at, 'needs "subj", "pred" and "obj"')
        subject, predicate, value = str(item.get("subj")), item["pred"], item.get("obj")
        escaped = predicate.startswith(ESCAPE)
        if escaped:
            predicate = predicate[len(ESCAPE) :]
        if subject in spans:
            annotation = spans[subject]
            if escaped:
                annotation.attributes[predicate] = value
            elif predicate == "type":
                annotation.type = value
            elif predicate == "status":
                annotation.status = value
            elif predicate == "confidence":
                annotation.confidence = value
            else:
                annotation.attributes[predicate] = value
        elif subject in relations:
            relations[subject].attributes[predicate] = value
        else:
            raise FormatError(f"{at}/subj", f"{subject!r} is not a denotation or relation id")
    return incoming


def _list(data: Mapping[str, Any], member: str, where: str) -> list[Any]:
    value = data.get(member) or []
    if not isinstance(value, list):
        raise FormatError(f"{where}/{member}", "must be an array")
    return value
