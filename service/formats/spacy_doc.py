"""spaCy: JSON in the shape of ``spacy.tokens.Doc.to_json()``, so that
``Doc(nlp.vocab).from_json(data)`` rebuilds the document; and, when spaCy is
installed, a ``.spacy`` DocBin of it.

Tokens are the runs of non-space characters, cut at every annotation boundary, with
white space as spaCy itself keeps it, so every span is whole tokens and keeps its
exact character offsets (a span that begins or ends in white space, which spaCy
cannot cut, is widened to whole tokens). ``ents`` holds the entities that
do not overlap (spaCy allows no overlap there: the longest wins); ``spans`` holds
every annotation by type ("entity", "quote", "claim")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from service.formats.exchange import Exported, json_array

NON_SPACE = re.compile(r"\S+")


def _tokens(text: str, cuts: set[int]) -> list[dict[str, int]]:
    """Tokens as spaCy rebuilds them from a text: runs of non-space characters (cut at
    annotation boundaries), each taking one following space as its trailing white
    space; any other white space is a token of its own."""
    pieces: list[tuple[int, int]] = []
    for match in NON_SPACE.finditer(text):
        start = match.start()
        for cut in sorted(c for c in cuts if match.start() < c < match.end()):
            pieces.append((start, cut))
            start = cut
        pieces.append((start, match.end()))
    tokens: list[tuple[int, int]] = []
    position = 0
    for start, end in [*pieces, (len(text), len(text))]:
        gap_start = position
        if tokens and gap_start < start and text[gap_start] == " ":
            gap_start += 1  # the previous token's trailing space
        if gap_start < start:
            tokens.append((gap_start, start))
        if start < end:
            tokens.append((start, end))
        position = end
    return [{"id": i, "start": s, "end": e} for i, (s, e) in enumerate(tokens)]


def _aligned(start: int, end: int, tokens: list[dict[str, int]]) -> tuple[int, int]:
    """The span widened to whole tokens (it already is, unless it begins or ends in
    white space, which spaCy keeps inside tokens)."""
    first = max((t["start"] for t in tokens if t["start"] <= start), default=0)
    last = min((t["end"] for t in tokens if t["end"] >= end), default=end)
    return first, last


def document(exported: Exported) -> dict[str, Any]:
    text = exported.document["text"]
    annotations = exported.annotations
    cuts = {a["start"] for a in annotations} | {a["end"] for a in annotations}
    tokens = _tokens(text, cuts)
    ents: list[dict[str, Any]] = []
    taken: list[tuple[int, int]] = []
    for entity in sorted(
        (a for a in annotations if a["type"] == "entity"),
        key=lambda a: (-(a["end"] - a["start"]), a["start"]),
    ):
        start, end = _aligned(entity["start"], entity["end"], tokens)
        if all(end <= s or start >= e for s, e in taken):
            taken.append((start, end))
            ents.append({"start": start, "end": end, "label": entity["label"]})
    spans: dict[str, list[dict[str, Any]]] = {}
    for a in annotations:
        start, end = _aligned(a["start"], a["end"], tokens)
        spans.setdefault(a["type"], []).append(
            {"start": start, "end": end, "label": a["label"], "kb_id": ""}
        )
    return {
        "text": text,
        "ents": sorted(ents, key=lambda e: e["start"]),
        "spans": spans,
        "tokens": tokens,
    }


def stream(exports: Iterator[Exported]) -> Iterator[str]:
    return json_array(map(document, exports))


def docbin(exported: Exported) -> bytes | None:
    """The .spacy DocBin of one document, or None without spaCy."""
    try:
        import spacy
        from spacy.tokens import Doc, DocBin
    except ImportError:
        return None
    doc = Doc(spacy.blank("xx").vocab).from_json(document(exported))
    bin_ = DocBin(store_user_data=True)
    bin_.add(doc)
    return bin_.to_bytes()
