"""Highlighting: a text cut into segments at every annotation boundary, each with the
annotations that cover it, so that nested and overlapping spans can all be shown."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

# Drawn from the outside in: a claim frames a quote, which frames the entities in it.
TYPE_ORDER = {"claim": 0, "quote": 1, "entity": 2}


@dataclass(frozen=True)
class Segment:
    text: str
    start: int
    covering: tuple[str, ...]  # annotation ids, outermost first
    types: tuple[str, ...]  # their types, without repeats


def segments(text: str, annotations: Iterable[Mapping[str, Any]]) -> list[Segment]:
    spans = sorted(
        annotations,
        key=lambda a: (TYPE_ORDER.get(a["type"], 3), -(a["end"] - a["start"]), a["start"]),
    )
    cuts = sorted({0, len(text), *(a["start"] for a in spans), *(a["end"] for a in spans)})
    out = []
    for start, end in pairwise(cuts):
        covering = [a for a in spans if a["start"] <= start and a["end"] >= end]
        out.append(
            Segment(
                text[start:end],
                start,
                tuple(str(a["id"]) for a in covering),
                tuple(dict.fromkeys(a["type"] for a in covering)),
            )
        )
    return out
