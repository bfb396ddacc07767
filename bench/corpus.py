"""A synthetic corpus shaped like the seed article: documents of ~4,000 characters with
60 annotations (50 entity mentions, 10 quotes) and 30 links (20 coreference, 10
speaker) each. Deterministic for a given seed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

WORDS = [
    "north",
    "korean",
    "soldiers",
    "likely",
    "killed",
    "fighting",
    "kremlin",
    "front",
    "lines",
    "ukraine",
    "south",
    "korea",
    "defence",
    "minister",
    "reports",
    "officers",
    "missile",
    "strike",
    "donetsk",
    "casualties",
    "artillery",
    "shells",
    "russia",
    "alliance",
    "agreement",
    "pyongyang",
    "putin",
    "kim",
    "analysts",
    "supplies",
    "weapons",
    "war",
    "troops",
]
LABELS = ("PERSON", "ORG", "GPE", "NORP", "DATE", "CARDINAL")
ENTITIES, QUOTES, COREFERENCES, SPEAKERS = 50, 10, 20, 10
LENGTH = 4000


@dataclass(frozen=True)
class Document:
    text: str
    annotations: list[dict[str, Any]]
    links: list[dict[str, Any]]


def document(rng: random.Random) -> Document:
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < LENGTH:
        words.append(rng.choice(WORDS))
    text = " ".join(words)[:LENGTH]
    # 60 slots of ~66 characters: an entity or a quote in each, so spans never collide.
    slot = LENGTH // (ENTITIES + QUOTES)
    annotations = []
    for index in range(ENTITIES + QUOTES):
        start = index * slot + rng.randrange(0, slot // 3)
        if index % 6 == 5:
            end = start + rng.randrange(20, slot // 2)
            annotations.append(
                {"ref": f"q{index}", "type": "quote", "label": "DIRECT", "start": start, "end": end}
            )
            continue
        label = "PERSON" if index % 6 == 4 else rng.choice(LABELS)
        end = start + rng.randrange(3, 15)
        annotations.append(
            {
                "ref": f"e{index}",
                "type": "entity",
                "label": label,
                "start": start,
                "end": end,
                "attributes": {"mention": "name"},
            }
        )
    entities = [a["ref"] for a in annotations if a["type"] == "entity"]
    people = [a["ref"] for a in annotations if a["type"] == "entity" and a["label"] == "PERSON"]
    quotes = [a["ref"] for a in annotations if a["type"] == "quote"]
    links = [
        {"type": "coreference", "source_ref": entities[2 * i + 1], "target_ref": entities[2 * i]}
        for i in range(COREFERENCES)
    ]
    links += [
        {"type": "speaker", "source_ref": quote, "target_ref": rng.choice(people)}
        for quote in quotes[:SPEAKERS]
    ]
    return Document(text, annotations, links)


def corpus(count: int, seed: int = 7) -> list[Document]:
    rng = random.Random(seed)
    return [document(rng) for _ in range(count)]
