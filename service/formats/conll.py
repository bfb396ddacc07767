"""CoNLL-2003-style token-per-line NER tags (IOB2), export only.

Tokenizer: a token is a run of word characters and combining marks ("Zu\u0308rich" in
decomposed form is one token), possibly joined by hyphens or apostrophes
("Yong-hyun", "Korea\u2019s"), or any single other non-space character with the marks
after it.
Sentences end after ".", "!", "?" or "…" and at every line break; a blank line
separates them, and each document starts with ``-DOCSTART- -X- -X- O``. Columns are
token, two placeholders (no part-of-speech or chunk tags) and the tag. A token takes
the label of the entity that contains its first character — the longest one where
entities nest — B- on the entity's first token, I- after; white space in a label
becomes ``_`` ("WORK OF ART" -> ``B-WORK_OF_ART``), as columns are split on it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from service.formats.exchange import Exported, one_word

# Combining diacritical marks (and their supplements, extensions and half marks).
MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
WORD = rf"\w[\w{MARKS}]*"
TOKEN = re.compile(rf"{WORD}(?:[-'\u2019]{WORD})*|[^\w\s][{MARKS}]*")
SENTENCE_END = frozenset(".!?…")


def tokens(text: str) -> Iterator[tuple[int, int]]:
    for match in TOKEN.finditer(text):
        yield match.start(), match.end()


def document(exported: Exported) -> str:
    text = exported.document["text"]
    entities = sorted(
        (a for a in exported.annotations if a["type"] == "entity"),
        key=lambda a: (a["start"], -(a["end"] - a["start"])),
    )
    lines = ["-DOCSTART- -X- -X- O", ""]
    sentence: list[str] = []
    previous_end = 0
    current = None  # the entity the previous token was tagged with
    for start, end in tokens(text):
        if sentence and ("\n" in text[previous_end:start]):
            lines += [*sentence, ""]
            sentence = []
        owner = _owner(entities, start)
        position = "I-" if owner is current else "B-"
        tag = "O" if owner is None else position + one_word(owner["label"])
        current = owner
        sentence.append(f"{text[start:end]} _ _ {tag}")
        previous_end = end
        if text[start:end] in SENTENCE_END:
            lines += [*sentence, ""]
            sentence = []
            current = None
    if sentence:
        lines += [*sentence, ""]
    return "\n".join(lines) + "\n"


def _owner(entities: list[dict], offset: int) -> dict | None:
    """The longest entity containing ``offset``."""
    best = None
    for entity in entities:
        if entity["start"] > offset:
            break
        if entity["end"] > offset and (
            best is None or entity["end"] - entity["start"] > best["end"] - best["start"]
        ):
            best = entity
    return best


def stream(exports: Iterator[Exported]) -> Iterator[str]:
    for exported in exports:
        yield document(exported)
