"""What every format exports from and imports into.

Exports start from a document's wire form (formats.native) with its annotations and
links. Imports end as IncomingDocuments: spans by offsets and/or by quote (exact,
prefix, suffix), links by the refs of the annotations they join, each item with a
``where`` that points at its place in the input (a JSON pointer, or a file and line)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

QUOTE_CONTEXT = 32  # code points of prefix and suffix kept with an exact quote


@dataclass(frozen=True)
class Exported:
    """One document as it leaves the store: wire forms, annotations in span order."""

    document: dict[str, Any]  # including "text"
    annotations: list[dict[str, Any]]
    links: list[dict[str, Any]]


@dataclass
class IncomingAnnotation:
    ref: str
    type: str | None
    label: str | None
    where: str
    start: int | None = None  # code points
    end: int | None = None
    exact: str | None = None  # the quoted text, to re-locate the span if the text differs
    prefix: str | None = None
    suffix: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    status: str | None = None
    confidence: float | None = None


@dataclass
class IncomingLink:
    type: str | None
    source: str  # refs of IncomingAnnotations
    target: str
    where: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class IncomingDocument:
    where: str
    text: str | None = None  # None: the format does not carry it (W3C)
    fields: dict[str, Any] = field(default_factory=dict)  # external_id, title, ...
    annotations: list[IncomingAnnotation] = field(default_factory=list)
    links: list[IncomingLink] = field(default_factory=list)


class FormatError(ValueError):
    """Input that is not the format it claims to be; ``where`` points at the place."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}" if where else reason)
        self.where = where
        self.reason = reason


def mapping(value: Any, where: str) -> dict[str, Any]:
    """An input's object (attributes, metadata), or FormatError; absent is empty."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise FormatError(where, f"must be a JSON object, not {_kind(value)}")
    return dict(value)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    kinds = {str: "a string", int: "an integer", float: "a number", list: "an array"}
    return kinds.get(type(value), "an object" if isinstance(value, Mapping) else "null")


# What each member of an incoming item may be.
_TEXT = ("a string", str, True)  # (in words, Python type, may be absent)
_MEMBERS = {
    "ref": ("a string", str, False),
    "type": _TEXT,
    "label": _TEXT,
    "exact": _TEXT,
    "prefix": _TEXT,
    "suffix": _TEXT,
    "status": _TEXT,
    "start": ("an integer", int, True),
    "end": ("an integer", int, True),
    "confidence": ("a number", (int, float), True),
    "attributes": ("a JSON object", dict, False),
}
_LINK_MEMBERS = {
    "type": _TEXT,
    "source": ("a string", str, False),
    "target": ("a string", str, False),
    "attributes": ("a JSON object", dict, False),
}


def check(documents: list[IncomingDocument]) -> list[IncomingDocument]:
    """The parsed documents, once every member of their items is of the type the store
    takes, or FormatError naming the first that is not: parsers pass values on as the
    input gives them."""
    for document in documents:
        for annotation in document.annotations:
            _check_members(annotation, annotation.where, _MEMBERS)
        for link in document.links:
            _check_members(link, link.where, _LINK_MEMBERS)
    return documents


def _check_members(item: object, where: str, members: dict[str, tuple[str, Any, bool]]) -> None:
    for name, (words, kind, optional) in members.items():
        value = getattr(item, name)
        if value is None and optional:
            continue
        if isinstance(value, bool) or not isinstance(value, kind):
            raise FormatError(where, f"{name} must be {words}, not {_kind(value)}")


def one_word(value: str) -> str:
    """A label as formats that split on white space hold it: each run of it ``_``."""
    return "_".join(value.split()) or "_"


def quote(text: str, start: int, end: int) -> tuple[str, str, str]:
    """The exact text of a span with some context on each side (TextQuoteSelector)."""
    return (
        text[start:end],
        text[max(0, start - QUOTE_CONTEXT) : start],
        text[end : end + QUOTE_CONTEXT],
    )


def extras(annotation: dict[str, Any]) -> dict[str, Any]:
    """What a format without room for them must still carry of an annotation."""
    return {
        "attributes": annotation["attributes"],
        "status": annotation["status"],
        "confidence": annotation["confidence"],
    }


def json_array(values: Iterable[Any]) -> Iterator[str]:
    """A JSON array written one value at a time, for exports of a whole corpus."""
    yield "["
    for number, value in enumerate(values):
        yield ("," if number else "") + json.dumps(value, ensure_ascii=False)
    yield "]"
