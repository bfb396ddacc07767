"""Re-anchoring speed: 10,000 annotations on a ~100,000-character news document, mapped
through a small correction, through 50 and 200 scattered ones, and through a rewrite of
a third of the text. Target: well under a second for corrections.

    .venv/bin/python -m bench.reanchor

The document is deterministic: paragraphs of news-like sentences about a few recurring
people and places, with figures, curly quotes and the odd emoji. Annotations are mostly
short entity mentions (every "Kim", "Putin", "3,000", ...), plus whole sentences (quotes,
claims).
"""

from __future__ import annotations

import os
import random
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator

from service.anchoring import Placement, Span, reanchor

LENGTH = 100_000
ANNOTATIONS = 10_000
SENTENCES = 1_000
RUNS = 5
STATUSES = ("exact", "shifted", "fuzzy", "orphaned")

PEOPLE = ["Kim Jong Un", "Kim", "Vladimir Putin", "Putin", "Yoon Suk Yeol", "Zelensky"]
PLACES = ["Pyongyang", "Moscow", "Seoul", "Kyiv", "Kursk", "Russia", "North Korea", "Ukraine"]
FIGURES = ["3,000", "11,000", "12,000", "1,500", "40", "two", "hundreds of"]
UNITS = ["troops", "soldiers", "shells", "missiles", "casualties", "workers"]
VERBS = ["said", "told reporters", "denied", "confirmed", "warned", "added"]
DAYS = ["on Monday", "on Tuesday", "on Friday", "last week", "in October", "overnight"]
TEMPLATES = [
    "{person} {verb} {day} that {figure} {unit} had been sent to {place}.",
    "According to officials in {place}, {figure} {unit} were moved towards the front {day}.",
    "“We will not be intimidated,” {person} {verb} in {place} {day}.",
    "{person} met {person2} in {place} {day}, the state news agency reported.",
    "Analysts in {place} estimate that {figure} {unit} have been lost since the spring.",
    "The deal between {place} and {place2} was signed {day} 👍🏽, {person} {verb}.",
]
NAMES = PEOPLE + PLACES + FIGURES + UNITS + DAYS
ENTITY = re.compile("|".join(map(re.escape, sorted(NAMES, key=len, reverse=True))))
WORD = re.compile(r"\w+")
SENTENCE = re.compile(r"[^.\n]+\.")


def sentence(rng: random.Random) -> str:
    return rng.choice(TEMPLATES).format(
        person=rng.choice(PEOPLE),
        person2=rng.choice(PEOPLE),
        place=rng.choice(PLACES),
        place2=rng.choice(PLACES),
        figure=rng.choice(FIGURES),
        unit=rng.choice(UNITS),
        verb=rng.choice(VERBS),
        day=rng.choice(DAYS),
    )


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))


def document(rng: random.Random) -> str:
    paragraphs: list[str] = []
    while sum(len(p) + 2 for p in paragraphs) < LENGTH:
        paragraphs.append(paragraph(rng))
    return "\n\n".join(paragraphs)


def annotations(text: str, rng: random.Random) -> list[Span]:
    entities = [Span(m.start(), m.end(), m.group()) for m in ENTITY.finditer(text)]
    words = [Span(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]
    sentences = [Span(m.start(), m.end(), m.group()) for m in SENTENCE.finditer(text)]
    # Every entity mention, then single words (tokens, as a tagger would add) to fill up.
    fill = ANNOTATIONS - SENTENCES - len(entities)
    spans = entities + rng.sample(words, fill) + rng.sample(sentences, SENTENCES)
    return sorted(spans, key=lambda s: (s.start, s.end))


def small_edit(text: str, rng: random.Random) -> str:
    """A corrected figure and a paragraph inserted in the middle."""
    text = text.replace("3,000 troops", "3,500 troops", 1)
    middle = text.index("\n\n", len(text) // 2)
    return text[:middle] + "\n\n" + paragraph(rng) + text[middle:]


def scattered_edits(text: str, rng: random.Random, count: int = 50) -> str:
    """Word swaps, typo fixes, deleted and inserted sentences, normalised quotes, and a
    paragraph moved to the end: ``count`` edits spread over the document."""
    paragraphs = text.split("\n\n")
    paragraphs.append(paragraphs.pop(len(paragraphs) // 3))
    text = "\n\n".join(paragraphs)
    kinds: list[Callable[[str, int], str]] = [
        lambda t, at: t[:at] + t[at:].replace(" said", " says", 1),
        lambda t, at: t[:at] + t[at:].replace("Kim", "Kim Yo Jong", 1),
        lambda t, at: t[:at] + t[at:].replace("troops", "soldiers", 1),
        lambda t, at: t[:at] + t[at:].replace("“", '"', 1).replace("”", '"', 1),
        lambda t, at: t[:at] + sentence(rng) + " " + t[at:],
        lambda t, at: t[:at] + SENTENCE.sub("", t[at:], count=1),
    ]
    for _ in range(count - 1):
        at = text.index(". ", rng.randrange(len(text) - 2_000)) + 2
        text = rng.choice(kinds)(text, at)
    return text


def measure(old: str, new: str, spans: list[Span]) -> tuple[list[float], list[Placement]]:
    times, placements = [], []
    for _ in range(RUNS):
        began = time.perf_counter()
        placements = reanchor(old, new, spans)
        times.append(time.perf_counter() - began)
    return times, placements


def through_the_api(url: str, old: str, new: str, spans: list[Span]) -> str:
    """PUT /v1/documents/{id}/text in-process on a fresh database: the re-anchoring with
    everything around it (reading the spans, moving them, their history, the old
    revision kept), in one transaction."""
    from service import migrate
    from service.app import create_app
    from service.db import make_engine

    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "AUTH_MODE": "none", "LOG_LEVEL": "WARNING"})
    client = app.test_client()
    document = client.post("/v1/documents", json={"text": old}).json
    items = [{"type": "entity", "label": "PERSON", "start": s.start, "end": s.end} for s in spans]
    written = client.post(
        f"/v1/documents/{document['id']}/annotations/batch", json={"annotations": items}
    )
    assert written.status_code == 201, written.json
    began = time.perf_counter()
    response = client.put(
        f"/v1/documents/{document['id']}/text", json={"text": new}, headers={"If-Match": '"1"'}
    )
    took = time.perf_counter() - began
    assert response.status_code == 200, response.json
    counts = response.json["anchoring"]["counts"]
    moved = response.json["anchoring"]["moved"]
    return f"{took * 1000:7.1f} ms, {moved:,} annotations moved  | " + ", ".join(
        f"{status} {counts[status]:,}" for status in STATUSES
    )


def postgresql_scratch() -> Iterator[str | None]:
    """A scratch PostgreSQL database for the API measure, if one is reachable."""
    from sqlalchemy import create_engine, text

    admin_url = os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres"
    )
    name = f"bench_reanchor_{os.getpid()}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        print(f"PostgreSQL not measured: {error.__class__.__name__}")
        yield None
        return
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    rng = random.Random(20261127)
    old = document(rng)
    spans = annotations(old, rng)
    # The same document on one line (paragraph breaks as two spaces: same offsets).
    line = old.replace("\n\n", "  ")
    rewritten = old[: LENGTH // 3] + document(rng)[: LENGTH // 3] + old[2 * LENGTH // 3 :]
    print(f"document: {len(old):,} characters, {len(spans):,} annotations, best of {RUNS}")
    for name, before, after in [
        ("small edit: figure + paragraph", old, small_edit(old, rng)),
        ("50 scattered edits + moved paragraph", old, scattered_edits(old, rng)),
        ("200 scattered edits, one-line document", line, scattered_edits(line, rng, 200)),
        ("middle third rewritten (worst case)", old, rewritten),
    ]:
        times, placements = measure(before, after, spans)
        counts = Counter(p.status for p in placements)
        statuses = ", ".join(
            f"{s} {counts[s]:,}" for s in ("exact", "shifted", "fuzzy", "orphaned")
        )
        print(
            f"{name:40} best {min(times) * 1000:6.1f} ms  median "
            f"{statistics.median(times) * 1000:6.1f} ms  | {statuses}"
        )
    corrected = small_edit(old, random.Random(1))
    print("PUT /v1/documents/{id}/text with the small edit, whole request:")
    with tempfile.TemporaryDirectory() as folder:
        print(
            f"  {'SQLite':10} "
            + through_the_api(f"sqlite:///{folder}/store.db", old, corrected, spans)
        )
    scratch = postgresql_scratch()
    url = next(scratch)
    if url is not None:
        print(f"  {'PostgreSQL':10} " + through_the_api(url, old, corrected, spans))
    scratch.close()


if __name__ == "__main__":
    main()
