"""The W3C output follows the Web Annotation Data Model's rules, checked here as the
specification states them (https://www.w3.org/TR/annotation-model/)."""

from __future__ import annotations

import re

import pytest

from service.formats import w3c
from service.formats.exchange import Exported
from service.services import exports
from tests.factories import make_annotation, make_document, make_link

UTC_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
MOTIVATIONS = {
    "assessing",
    "bookmarking",
    "classifying",
    "commenting",
    "describing",
    "editing",
    "highlighting",
    "identifying",
    "linking",
    "moderating",
    "questioning",
    "replying",
    "tagging",
}


def check_annotation(item, text=None):
    """The model's requirements for one Annotation (sections 3.1-4.2)."""
    assert item["type"] == "Annotation"
    assert isinstance(item["id"], str)
    assert ":" in item["id"], "id is an IRI"
    assert item["motivation"] in MOTIVATIONS
    for stamp in ("created", "modified"):
        assert UTC_TIME.match(item[stamp]), f"{stamp} is xsd:dateTime in UTC with Z"
    assert item["creator"]["type"] in ("Person", "Software", "Organization")
    assert item["generator"]["type"] == "Software"
    for body in item["body"]:
        if isinstance(body, dict):
            assert body["type"] == "TextualBody"
            assert isinstance(body["value"], str)
            assert body.get("purpose") in MOTIVATIONS
    target = item["target"]
    if item["motivation"] == "linking":
        assert isinstance(target, str)
        return
    assert target["type"] == "SpecificResource"
    selectors = {s["type"]: s for s in target["selector"]}
    position, quote = selectors["TextPositionSelector"], selectors["TextQuoteSelector"]
    assert isinstance(position["start"], int)
    assert 0 <= position["start"] < position["end"]
    if text is not None:
        # Positions count code points; the quote is the text there, with context.
        assert text[position["start"] : position["end"]] == quote["exact"]
        assert text[: position["start"]].endswith(quote["prefix"])
        assert text[position["end"] :].startswith(quote["suffix"])


@pytest.fixture
def exported(session) -> Exported:
    document = make_document(session, "“Yes 😀,” said Kim Jong-un to Putin.", title="Talk")
    quote = make_annotation(session, document, "Yes 😀,", type="quote", label="DIRECT")
    kim = make_annotation(session, document, "Kim Jong-un", attributes={"mention": "name"})
    make_link(session, "speaker", quote, kim)
    return exports.exported(session, document)


def test_collection_follows_the_model(exported):
    collection = w3c.collection(exported, w3c.urn_iri)
    assert collection["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert collection["type"] == "AnnotationCollection"
    assert collection["total"] == 3
    page = collection["first"]
    assert page["type"] == "AnnotationPage"
    assert len(page["items"]) == 3
    for item in page["items"]:
        assert "@context" not in item, "the context is given once, on the collection"
        check_annotation(item, exported.document["text"])


def test_a_single_annotation_carries_its_context(exported):
    item = w3c.annotation(exported.annotations[1], exported.document["text"], w3c.urn_iri)
    assert item["@context"] == "http://www.w3.org/ns/anno.jsonld"
    check_annotation(item, exported.document["text"])
    position = item["target"]["selector"][0]
    assert (position["start"], position["end"]) == (14, 25)  # code points: UTF-16 says 15


def test_links_are_linking_annotations_between_the_annotations(exported):
    (link_item,) = [
        i
        for i in w3c.collection(exported, w3c.urn_iri)["first"]["items"]
        if i["motivation"] == "linking"
    ]
    quote, kim = exported.annotations[0], exported.annotations[1]
    assert link_item["target"] == f"urn:uuid:{quote['id']}"
    assert link_item["body"][0] == f"urn:uuid:{kim['id']}"
    assert link_item["body"][1]["value"] == "speaker"


def test_parse_reads_back_spans_links_and_extras(exported):
    incoming = w3c.parse(w3c.collection(exported, w3c.urn_iri))
    assert [(a.type, a.label, a.start, a.end) for a in incoming.annotations] == [
        (a["type"], a["label"], a["start"], a["end"]) for a in exported.annotations
    ]
    assert incoming.annotations[1].attributes == {"mention": "name"}
    assert incoming.annotations[0].exact == "Yes 😀,"
    (link,) = incoming.links
    assert (link.type, link.source, link.target) == (
        "speaker",
        f"urn:uuid:{exported.annotations[0]['id']}",
        f"urn:uuid:{exported.annotations[1]['id']}",
    )


@pytest.mark.parametrize(
    ("data", "where"),
    [
        pytest.param({"type": "Nothing"}, "/type", id="not-annotation"),
        pytest.param(
            {"type": "AnnotationPage", "items": [{"type": "Note"}]}, "/items/0", id="bad-item"
        ),
        pytest.param(
            {"type": "Annotation", "id": "x", "target": "doc"}, "/target", id="target-not-specific"
        ),
        pytest.param(
            {"type": "Annotation", "id": "x", "target": {"selector": [{"type": "XPathSelector"}]}},
            "/target/selector/0",
            id="unknown-selector",
        ),
    ],
)
def test_malformed_input_points_at_the_place(data, where):
    with pytest.raises(w3c.FormatError) as raised:
        w3c.parse(data)
    assert raised.value.where == where
