"""The project's own bundle format: one document with its annotations and links.

A bundle is a JSON object ``{"format", "document", "annotations", "links"}``; a
``.jsonl`` file holds one per line. An annotation is placed either by offsets
(``start``/``end``, with ``text`` checked against the slice) or, for bundles written
by hand, by its exact ``text`` — unique in the document, or made unique by a
``context``: a longer exact string that occurs once in the document and contains the
text once. Links name their ends by the annotations' ``ref``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import marshmallow as ma

from service.formats.exchange import (
    Exported,
    FormatError,
    IncomingAnnotation,
    IncomingDocument,
    IncomingLink,
    mapping,
)
from service.schemas.documents import DocumentMetadataFields

FORMAT = "annotation-store/bundle@1"

METADATA = ("external_id", "title", "language", "source_url", "published_at", "metadata")
# Fields the server writes; an exported bundle carries them, an import ignores them.
SERVER_FIELDS = frozenset(
    {
        "id",
        "document_id",
        "text",
        "created_by",
        "created_at",
        "updated_at",
        "version",
        "revision",
        "anchor",
        "dangling",
    }
)
ANNOTATION_KEYS = frozenset(
    {
        "ref",
        "type",
        "label",
        "start",
        "end",
        "text",
        "context",
        "attributes",
        "confidence",
        "status",
    }
)
LINK_KEYS = frozenset({"type", "source", "target", "attributes"})

# A corpus file may start with "date YYYY-MM-DD" (after white space).
DATE_HEADER = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})(?:\s+|\Z)")


BundleError = FormatError  # a bundle item that cannot be loaded


@dataclass(frozen=True)
class CorpusText:
    text: str
    published_at: datetime | None


def read_corpus_text(raw: str) -> CorpusText:
    """Split a corpus file into its optional date header and its text. The header and
    the white space around it are dropped; the rest is kept as it is."""
    match = DATE_HEADER.match(raw)
    if match is None:
        return CorpusText(raw, None)
    day = date.fromisoformat(match.group(1))
    return CorpusText(raw[match.end() :], datetime(day.year, day.month, day.day, tzinfo=UTC))


def _occurrences(haystack: str, needle: str) -> list[int]:
    found, at = [], haystack.find(needle)
    while at != -1:
        found.append(at)
        at = haystack.find(needle, at + 1)
    return found


def place(text: str, item: Mapping[str, Any], where: str) -> tuple[int, int]:
    """The span ``[start, end)`` an annotation item names in ``text``."""
    quote = item.get("text")
    if "start" in item or "end" in item:
        start, end = item.get("start"), item.get("end")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
            raise BundleError(where, "start and end must both be integers")
        assert isinstance(start, int)
        assert isinstance(end, int)
        if not 0 <= start < end <= len(text):
            raise BundleError(
                where, f"the span [{start}, {end}) is not within the text (0 to {len(text)})"
            )
        if quote is not None and text[start:end] != quote:
            raise BundleError(
                where,
                f"text {quote!r} is not what the document has at [{start}, {end}): "
                f"{text[start:end]!r}",
            )
        return start, end
    if not isinstance(quote, str) or not quote:
        raise BundleError(where, "needs start and end, or the exact text to anchor it")
    context = item.get("context")
    if context is None:
        found = _occurrences(text, quote)
        if len(found) != 1:
            raise BundleError(
                where,
                f"text {quote!r} occurs {len(found)} times in the document; "
                + ("give a context that occurs once" if found else "it must occur exactly once"),
            )
        return found[0], found[0] + len(quote)
    if not isinstance(context, str):
        raise BundleError(where, "context must be a string")
    in_document = _occurrences(text, context)
    if len(in_document) != 1:
        raise BundleError(
            where, f"context {context!r} occurs {len(in_document)} times in the document, not once"
        )
    in_context = _occurrences(context, quote)
    if len(in_context) != 1:
        raise BundleError(
            where,
            f"text {quote!r} occurs {len(in_context)} times in its context {context!r}, not once",
        )
    start = in_document[0] + in_context[0]
    return start, start + len(quote)


def parse(data: Any, text: str | None = None) -> IncomingDocument:
    """Check a bundle's shape and place its annotations in ``text`` (by default the
    bundle's own document text)."""
    if not isinstance(data, Mapping):
        raise BundleError("", "a bundle is a JSON object")
    if data.get("format") != FORMAT:
        raise BundleError("/format", f"must be {FORMAT!r}, not {data.get('format')!r}")
    unknown = set(data) - {"format", "document", "annotations", "links"}
    if unknown:
        raise BundleError("", f"unknown members {sorted(unknown)}")
    document = data.get("document") or {}
    if not isinstance(document, Mapping):
        raise BundleError("/document", "must be an object")
    if text is None:
        text = document.get("text")
        if not isinstance(text, str) or not text:
            raise BundleError("/document/text", "a bundle without a corpus file carries its text")
    incoming = IncomingDocument(where="", text=text, fields=_document_fields(document))
    incoming.annotations = _annotations(_list(data, "annotations"), text)
    refs = {a.ref for a in incoming.annotations}
    for index, item in enumerate(_list(data, "links")):
        where = f"/links/{index}"
        _check_keys(item, LINK_KEYS, where)
        for end in ("source", "target"):
            if not isinstance(item.get(end), str) or item[end] not in refs:
                raise BundleError(
                    f"{where}/{end}", f"{item.get(end)!r} is not the ref of an annotation"
                )
        if not isinstance(item.get("type"), str):
            raise BundleError(f"{where}/type", "must be a link type")
        incoming.links.append(
            IncomingLink(
                type=item["type"],
                source=item["source"],
                target=item["target"],
                where=where,
                attributes=mapping(item.get("attributes"), f"{where}/attributes"),
            )
        )
    return incoming


def _document_fields(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document's metadata, checked as POST /v1/documents checks it."""
    given = {name: document[name] for name in METADATA if document.get(name) is not None}
    try:
        fields: dict[str, Any] = DocumentMetadataFields().load(given)
    except ma.ValidationError as error:
        name, messages = next(iter(error.normalized_messages().items()))
        words = " ".join(messages) if isinstance(messages, list) else str(messages)
        raise BundleError(f"/document/{name}", words) from None
    return fields


def _list(data: Mapping[str, Any], member: str) -> Sequence[Any]:
    value = data.get(member, [])
    if not isinstance(value, list):
        raise BundleError(f"/{member}", "must be an array")
    return value


def _check_keys(item: Any, allowed: frozenset[str], where: str) -> None:
    if not isinstance(item, Mapping):
        raise BundleError(where, "must be an object")
    unknown = set(item) - allowed - SERVER_FIELDS
    if unknown:
        raise BundleError(where, f"unknown members {sorted(unknown)}")


def _annotations(items: Sequence[Any], text: str) -> list[IncomingAnnotation]:
    placed: list[IncomingAnnotation] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"/annotations/{index}"
        _check_keys(item, ANNOTATION_KEYS, where)
        ref = item.get("ref")
        if ref is not None:
            if not isinstance(ref, str):
                raise BundleError(f"{where}/ref", "must be a string")
            where += f" (ref {ref})"
            if ref in seen:
                raise BundleError(where, f"ref {ref!r} is used twice")
            seen.add(ref)
        for required in ("type", "label"):
            if not isinstance(item.get(required), str):
                raise BundleError(where, f"{required} must be a string")
        start, end = place(text, item, where)
        placed.append(
            IncomingAnnotation(
                ref=ref if ref is not None else f"#{index}",
                type=item["type"],
                label=item["label"],
                where=where,
                start=start,
                end=end,
                attributes=mapping(item.get("attributes"), f"{where}/attributes"),
                status=item.get("status"),
                confidence=item.get("confidence"),
            )
        )
    return placed


# --- export -----------------------------------------------------------------------------


def bundle(exported: Exported) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "document": exported.document,
        "annotations": [{**a, "ref": a["id"]} for a in exported.annotations],
        "links": [
            {
                **{k: v for k, v in link.items() if k not in ("source_id", "target_id")},
                "source": link["source_id"],
                "target": link["target_id"],
            }
            for link in exported.links
        ],
    }


def jsonl(exports: Iterator[Exported]) -> Iterator[str]:
    for exported in exports:
        yield json.dumps(bundle(exported), ensure_ascii=False) + "\n"


def parse_jsonl(text: str) -> list[IncomingDocument]:
    documents = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except (ValueError, RecursionError):
            raise BundleError(f"line {number}", "is not JSON") from None
        try:
            incoming = parse(data)
        except FormatError as error:
            raise BundleError(f"line {number}{error.where}", error.reason) from None
        incoming.where = f"line {number}"
        for span in incoming.annotations:
            span.where = f"line {number}{span.where}"
        for link in incoming.links:
            link.where = f"line {number}{link.where}"
        documents.append(incoming)
    return documents
