from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.formats.bundle import FORMAT, BundleError, parse, place, read_corpus_text

TEXT = "Kim met Putin. Kim said: “Putin is a friend.”"


def test_date_header_becomes_published_at_and_is_stripped_with_its_white_space():
    corpus = read_corpus_text(" date 2024-10-09 North Korean soldiers.\n\nMore.\n")
    assert corpus.published_at == datetime(2024, 10, 9, tzinfo=UTC)
    assert corpus.text == "North Korean soldiers.\n\nMore.\n"


def test_file_without_header_is_kept_as_it_is():
    corpus = read_corpus_text("  Plain text, with a date 2024-10-09 inside.\n")
    assert corpus.published_at is None
    assert corpus.text == "  Plain text, with a date 2024-10-09 inside.\n"


def test_unique_text_is_placed():
    assert place(TEXT, {"text": "met"}, "/a") == (4, 7)


def test_context_places_a_repeated_text():
    assert place(TEXT, {"text": "Kim", "context": "Kim said"}, "/a") == (15, 18)
    assert place(TEXT, {"text": "Putin", "context": "“Putin is"}, "/a") == (26, 31)


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        pytest.param(
            {"text": "Kim"}, "occurs 2 times in the document; give a context", id="repeated"
        ),
        pytest.param(
            {"text": "Lenin"}, "occurs 0 times in the document; it must occur", id="absent"
        ),
        pytest.param(
            {"text": "Kim", "context": "Kim"}, "context 'Kim' occurs 2 times", id="context-repeated"
        ),
        pytest.param(
            {"text": "Lenin", "context": "Kim said"},
            "occurs 0 times in its context",
            id="not-in-context",
        ),
        pytest.param(
            {"start": 0, "end": 3, "text": "Kix"},
            "'Kix' is not what the document has at [0, 3): 'Kim'",
            id="offsets-mismatch",
        ),
        pytest.param({"start": 40, "end": 99}, "is not within the text", id="out-of-range"),
        pytest.param({"start": "0", "end": 3}, "must both be integers", id="not-integers"),
        pytest.param({}, "needs start and end, or the exact text", id="nothing"),
    ],
)
def test_unplaceable_items_say_why(item, reason):
    with pytest.raises(BundleError, match=r"^/annotations/3: ") as raised:
        place(TEXT, item, "/annotations/3")
    assert reason in raised.value.reason


def bundle(**members):
    return {"format": FORMAT, "document": {}, "annotations": [], "links": [], **members}


def test_parse_places_annotations_and_resolves_link_refs():
    parsed = parse(
        bundle(
            annotations=[
                {"ref": "q", "type": "quote", "label": "DIRECT", "text": "Putin is a friend."},
                {
                    "ref": "k",
                    "type": "entity",
                    "label": "PERSON",
                    "text": "Kim",
                    "context": "Kim said",
                },
            ],
            links=[{"type": "speaker", "source": "q", "target": "k"}],
        ),
        TEXT,
    )
    assert [a.start for a in parsed.annotations] == [26, 15]
    assert parsed.links[0].source == "q"


@pytest.mark.parametrize(
    ("data", "where", "reason"),
    [
        pytest.param({"format": "other"}, "/format", "must be", id="format"),
        pytest.param(bundle(extra=1), "", "unknown members ['extra']", id="unknown-member"),
        pytest.param(
            bundle(
                annotations=[{"ref": "a", "type": "entity", "label": "PERSON", "text": "met"}] * 2
            ),
            "/annotations/1 (ref a)",
            "used twice",
            id="duplicate-ref",
        ),
        pytest.param(
            bundle(links=[{"type": "speaker", "source": "x", "target": "y"}]),
            "/links/0/source",
            "'x' is not the ref of an annotation",
            id="unknown-ref",
        ),
        pytest.param(
            bundle(annotations=[{"type": "entity", "text": "met"}]),
            "/annotations/0",
            "label must be a string",
            id="no-label",
        ),
        pytest.param(
            bundle(annotations=[{"type": "entity", "label": "X", "text": "met", "colour": 1}]),
            "/annotations/0",
            "unknown members ['colour']",
            id="unknown-annotation-member",
        ),
    ],
)
def test_malformed_bundles_point_at_the_item(data, where, reason):
    with pytest.raises(BundleError) as raised:
        parse(data, TEXT)
    assert raised.value.where == where
    assert reason in raised.value.reason
