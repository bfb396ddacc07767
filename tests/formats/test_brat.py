from __future__ import annotations

import pytest

from service.formats import brat
from service.services import exports
from tests.factories import make_annotation, make_document, make_link

TEXT = "Kim met\nPutin. He said: “We are allies.”"


@pytest.fixture
def exported(session):
    document = make_document(session, TEXT, external_id="talk.txt")
    kim = make_annotation(session, document, "Kim", attributes={"mention": "name", "kb": "Q1"})
    he = make_annotation(session, document, "He", status="proposed", confidence=0.5)
    crossing = make_annotation(session, document, "met\nPutin", type="claim", label="FACTUAL")
    quote = make_annotation(session, document, "We are allies.", type="quote", label="DIRECT")
    make_link(session, "coreference", he, kim)
    make_link(session, "speaker", quote, he)
    make_link(session, "about", crossing, kim)
    return exports.exported(session, document)


def test_ann_lines(exported):
    lines = brat.ann(exported).splitlines()
    assert "T1\tPERSON 0 3\tKim" in lines
    assert "T2\tFACTUAL 4 7;8 13\tmet Putin" in lines, "a span crossing a line break is fragments"
    assert "A1\tType T1 entity" in lines
    assert "A2\tmention T1 name" in lines
    assert any(line.startswith("A") and "Status T3 proposed" in line for line in lines)
    assert any(line.endswith("\tspeaker Arg1:T4 Arg2:T3") for line in lines)
    assert "*\tEquiv T1 T3" in lines
    assert any(
        line.startswith("#") and "AnnotatorNotes T3" in line and '"confidence": 0.5' in line
        for line in lines
    )


def test_ann_reads_back(exported):
    incoming = brat.parse(exported.document["text"], brat.ann(exported))
    got = [
        (a.type, a.label, a.start, a.end, a.attributes, a.status or "accepted", a.confidence)
        for a in incoming.annotations
    ]
    want = [
        (a["type"], a["label"], a["start"], a["end"], a["attributes"], a["status"], a["confidence"])
        for a in exported.annotations
    ]
    assert got == want
    assert sorted(link.type for link in incoming.links) == ["about", "coreference", "speaker"]


def test_a_file_from_brat_itself_gets_its_chains_as_links():
    text = "Kim said he would."
    ann = (
        "T1\tPERSON 0 3\tKim\nT2\tPERSON 9 11\the\n*\tEquiv T1 T2\n"
        "#1\tAnnotatorNotes T1\tchecked by hand\n"
    )
    incoming = brat.parse(text, ann)
    assert [(link.type, link.source, link.target) for link in incoming.links] == [
        ("coreference", "T2", "T1")
    ]
    assert incoming.annotations[0].attributes == {}


@pytest.mark.parametrize(
    ("ann", "where", "reason"),
    [
        pytest.param("T1\tPERSON 0 3\tKix\n", "doc.ann:1", "is not what the .txt has", id="text"),
        pytest.param("T1\tPERSON zero 3\tKim\n", "doc.ann:1", "malformed line", id="offsets"),
        pytest.param(
            "T1\tPERSON 0 3\tKim\nR1\tspeaker Arg1:T9 Arg2:T1\n",
            "doc.ann:2",
            "T9 is not a T",
            id="ref",
        ),
        pytest.param(
            "T1\tPERSON 0 3\tKim\nX1\tfoo\n", "doc.ann:2", "unknown annotation kind", id="kind"
        ),
    ],
)
def test_errors_name_the_file_and_line(ann, where, reason):
    with pytest.raises(brat.FormatError) as raised:
        brat.parse("Kim said.", ann, "doc.ann")
    assert raised.value.where == where
    assert reason in raised.value.reason


def test_an_independent_brat_reader_reads_the_output(exported, tmp_path):
    parser = pytest.importorskip("pybrat.parser")
    pair = brat.files(exported)
    (tmp_path / f"{pair.name}.txt").write_text(pair.txt, encoding="utf-8")
    (tmp_path / f"{pair.name}.ann").write_text(pair.ann, encoding="utf-8")
    (example,) = parser.BratParser(error="raise").parse(tmp_path)
    spans = {
        (entity.type, entity.spans[0].start, entity.spans[-1].end, entity.mention)
        for entity in example.entities
    }
    text = exported.document["text"]
    assert spans == {
        (a["label"], a["start"], a["end"], text[a["start"] : a["end"]].replace("\n", " "))
        for a in exported.annotations
    }
    relations = {(r.type, r.arg1.mention, r.arg2.mention) for r in example.relations}
    assert ("speaker", "We are allies.", "He") in relations
    assert ("about", "met Putin", "Kim") in relations
