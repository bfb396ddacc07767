"""Export, then import into a store without the document: the same annotations,
labels, attributes and links come back, whatever the text holds (astral characters,
combining marks, CRLF line ends, right-to-left scripts) and wherever the spans fall."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.formats import brat, bundle, pubannotation, w3c
from service.formats.exchange import Exported
from service.models import Document
from service.services import exports, imports
from tests.factories import make_annotation, make_document, make_link

ALPHABET = st.sampled_from(
    [*"abc XYZ.,;’“”\t", "\r\n", "\n", "😀", "👍🏽", "e\u0301", "שלום", "مرحبا", "日本", "\u2028"]
)
TEXTS = st.lists(ALPHABET, min_size=1, max_size=40).map("".join)
# Any character the store keeps (it refuses U+0000, which PostgreSQL cannot store, and
# unpaired surrogates, which no UTF-8 database can).
STORABLE = st.text(
    alphabet=st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=8
)
ATTRIBUTES = st.dictionaries(
    st.sampled_from(["mention", "note", "n", "flag", "nested", "with space"]),
    st.one_of(
        STORABLE,
        st.integers(-5, 5),
        st.booleans(),
        st.lists(st.integers(0, 3), max_size=2),
        st.fixed_dictionaries({"k": STORABLE}),
    ),
    max_size=3,
)


@st.composite
def documents(draw):
    text = draw(TEXTS)
    spans = []
    for _ in range(draw(st.integers(1, 6))):
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, len(text)))
        kind, label = draw(
            st.sampled_from(
                [("entity", "PERSON"), ("entity", "GPE"), ("quote", "DIRECT"), ("claim", "FACTUAL")]
            )
        )
        extras = {
            "attributes": draw(ATTRIBUTES),
            "status": draw(st.sampled_from(["accepted", "proposed", "rejected"])),
            "confidence": draw(st.one_of(st.none(), st.floats(0, 1))),
        }
        spans.append((start, end, kind, label, extras))
    links = draw(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), ATTRIBUTES), max_size=4))
    return text, spans, links


def build(session, text, spans, links):
    document = make_document(session, text)
    made, seen = [], set()
    for start, end, kind, label, extras in spans:
        if (kind, label, start, end) in seen:
            continue
        seen.add((kind, label, start, end))
        made.append(
            make_annotation(
                session, document, start=start, end=end, type=kind, label=label, **extras
            )
        )
    pairs = set()
    for a, b, attributes in links:
        source, target = made[a % len(made)], made[b % len(made)]
        kinds = (source.type, target.type)
        link_type = {
            ("entity", "entity"): "coreference",
            ("quote", "entity"): "speaker",
            ("claim", "entity"): "about",
            ("quote", "claim"): "supports",
        }.get(kinds)
        if link_type is None or source.id == target.id:
            continue
        if link_type == "speaker" and target.label != "PERSON":
            continue
        key = (
            (link_type, *sorted((source.id, target.id)))
            if link_type == "coreference"
            else (link_type, source.id, target.id)
        )
        if key in pairs:
            continue
        pairs.add(key)
        link = make_link(session, link_type, source, target)
        link.attributes = attributes
    session.flush()
    return document


def picture(exported: Exported):
    """What must survive, with ids replaced by the spans they name."""
    spans = {a["id"]: (a["type"], a["label"], a["start"], a["end"]) for a in exported.annotations}
    annotations = sorted(
        (
            *spans[a["id"]],
            a["text"],
            json.dumps(a["attributes"], sort_keys=True),
            a["status"],
            a["confidence"],
        )
        for a in exported.annotations
    )
    links = sorted(
        (
            link["type"],
            spans[link["source_id"]],
            spans[link["target_id"]],
            json.dumps(link["attributes"], sort_keys=True),
        )
        for link in exported.links
    )
    return annotations, links


FORMATS = {
    "jsonl": lambda e: bundle.parse_jsonl("".join(bundle.jsonl(iter([e])))),
    "pubannotation": lambda e: pubannotation.parse(
        json.loads(json.dumps(pubannotation.document(e)))
    ),
    "brat": lambda e: brat.parse_zip(b"".join(brat.zip_stream(iter([e])))),
    "w3c": lambda e: [w3c.parse(json.loads(json.dumps(w3c.collection(e, w3c.urn_iri))))],
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_export_then_import_gives_the_same_layer(session, fmt):
    @settings(
        max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(documents())
    def round_trip(drawn):
        savepoint = session.begin_nested()
        try:
            original = build(session, *drawn)
            before = exports.exported(session, original)
            incoming = FORMATS[fmt](before)
            text = original.text
            session.delete(original)
            session.flush()
            target = None
            if fmt == "w3c":  # W3C carries no text: the text is stored first, as it would be
                target = make_document(session, text)
            (report,) = imports.apply(session, incoming, actor="test", target=target)
            assert report.annotations.not_located == report.links.not_located == 0
            stored = session.get(Document, uuid.UUID(report.document_id))
            after = exports.exported(session, stored)
            assert after.document["text"] == text
            assert picture(after) == picture(before)
        finally:
            savepoint.rollback()

    round_trip()
