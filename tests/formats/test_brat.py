from __future__ import annotations

import io
import zipfile

import pytest

from service.formats import brat
from service.formats.exchange import FormatError
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
    # A lines numbered in the attributes' order, which PostgreSQL's JSONB sorts.
    assert "mention T1 name" in [line.split("\t")[1] for line in lines if line[0] == "A"]
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


def test_what_a_line_cannot_hold_goes_in_the_note_and_comes_back(session):
    document = make_document(session, "Mona Lisa is in Paris.")
    mona = make_annotation(
        session,
        document,
        "Mona Lisa",
        label="WORK_OF_ART",
        attributes={
            "Type": "quote",
            "Status": "x",
            "k\n": "v",
            "normalizations": [
                {"db": "Wiki data", "id": "Q 1"},
                {"db": "wd", "id": "Q2", "name": "a\nb"},
                {"db": "wd", "id": "Q12418", "name": "Mona Lisa"},
            ],
        },
    )
    paris = make_annotation(session, document, "Paris", label="GPE")
    make_link(session, "coreference", mona, paris)
    exported = exports.exported(session, document)
    exported.annotations[0]["label"] = "WORK OF ART"  # a label the schema may hold
    text = brat.ann(exported)
    lines = text.splitlines()
    assert lines[0] == "T1\tWORK_OF_ART 0 9\tMona Lisa"
    assert [line.split("\t")[1] for line in lines if line.startswith("N")] == [
        "Reference T1 wd:Q12418"
    ]
    assert not any("Type T1 quote" in line or "Status T1" in line for line in lines)
    assert not any(line.startswith("k") or line.startswith("b") for line in lines)
    incoming = brat.parse(exported.document["text"], text)
    first = incoming.annotations[0]
    assert (first.type, first.label) == ("entity", "WORK OF ART")
    assert first.attributes == mona.attributes


def _zip(files):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as written:
        for name, content in files.items():
            written.writestr(name, content)
    return archive.getvalue()


def _zipped(session, documents):
    """The brat zip of ``documents`` and the names of its entries."""
    archive = b"".join(brat.zip_stream(iter(exports.exported(session, d) for d in documents)))
    return archive, zipfile.ZipFile(io.BytesIO(archive)).namelist()


def test_a_zip_names_each_document_once(session):
    first = make_document(session, "One.", external_id="col a.txt")
    second = make_document(session, "Two.", external_id="col_a.txt")
    third = make_document(session, "Three.", external_id="COL_A")
    archive, names = _zipped(session, (first, second, third))
    assert names == [
        "col_a.txt",
        "col_a.ann",
        "col_a-2.txt",
        "col_a-2.ann",
        "COL_A-3.txt",
        "COL_A-3.ann",
    ]
    texts = [d.text for d in brat.parse_zip(archive)]
    assert sorted(texts) == ["One.", "Three.", "Two."]


def test_files_of_one_name_in_two_folders_are_two_documents():
    archive = _zip(
        {"a/dup.txt": "One.", "a/dup.ann": "", "b/dup.txt": "Two.", "c/solo.txt": "Three."}
    )
    parsed = brat.parse_zip(archive)
    assert [(d.fields["external_id"], d.text) for d in parsed] == [
        ("a/dup.txt", "One."),
        ("b/dup.txt", "Two."),
        ("solo.txt", "Three."),
    ]


def test_a_zip_keeps_the_folders_of_external_ids_and_comes_back_to_them(session):
    parsed = brat.parse_zip(_zip({"a/dup.txt": "One.", "b/dup.txt": "Two."}))
    made = [make_document(session, d.text, external_id=d.fields["external_id"]) for d in parsed]
    archive, names = _zipped(session, made)
    assert names == ["a/dup.txt", "a/dup.ann", "b/dup.txt", "b/dup.ann"]
    again = brat.parse_zip(archive)
    assert [(d.fields["external_id"], d.text) for d in again] == [
        ("a/dup.txt", "One."),
        ("b/dup.txt", "Two."),
    ]


def test_no_zip_entry_leaves_the_archive_root(session):
    made = [
        make_document(session, "One.", external_id="../../etc/passwd"),
        make_document(session, "Two.", external_id="/abs//x y.txt"),
        make_document(session, "Three.", external_id="./."),
    ]
    _, names = _zipped(session, made)
    assert names == [
        "_/_/etc/passwd.txt",
        "_/_/etc/passwd.ann",
        "_/abs/_/x_y.txt",
        "_/abs/_/x_y.ann",
        "_/_.txt",
        "_/_.ann",
    ]


def test_an_ann_without_its_txt_is_refused():
    with pytest.raises(FormatError) as refused:
        brat.parse_zip(_zip({"a.txt": "One.", "b.ann": "T1\tPERSON 0 1\tO\n"}))
    assert (refused.value.where, refused.value.reason) == ("b.ann", "has no .txt beside it")


def test_normalizations_that_are_not_a_list_come_back_as_they_were(session):
    document = make_document(session, "Kim met Putin.")
    kim = make_annotation(session, document, "Kim", attributes={"normalizations": "abc"})
    exported = exports.exported(session, document)
    text = brat.ann(exported)
    assert not any("normalizations" in line for line in text.splitlines() if line[0] in "AN")
    (read,) = brat.parse(exported.document["text"], text).annotations
    assert read.attributes == kim.attributes


def test_a_hand_written_normalizations_attribute_is_an_attribute():
    incoming = brat.parse("Kim met Putin.", "T1\tPERSON 0 3\tKim\nA1\tnormalizations T1 x\n")
    assert incoming.annotations[0].attributes == {"normalizations": "x"}


def test_a_label_edited_in_brat_wins_over_the_note_of_the_old_one(session):
    document = make_document(session, "Mona Lisa is in Paris.")
    make_annotation(session, document, "Mona Lisa", label="WORK_OF_ART")
    exported = exports.exported(session, document)
    exported.annotations[0]["label"] = "WORK OF ART"
    edited = brat.ann(exported).replace("T1\tWORK_OF_ART", "T1\tPRODUCT")
    assert brat.parse(exported.document["text"], edited).annotations[0].label == "PRODUCT"


def test_a_damaged_entry_is_refused_with_its_name():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as written:
        written.writestr("a.txt", "Hello world. " * 50)
    data = bytearray(archive.getvalue())
    at = data.find(b"a.txt") + 10
    data[at : at + 10] = b"\xff" * 10
    with pytest.raises(FormatError) as refused:
        brat.parse_zip(bytes(data))
    assert refused.value.where == "a.txt"
    assert refused.value.reason.startswith("cannot be read from the archive")


def test_a_path_too_long_for_an_external_id_is_refused():
    name = "d/" * 300 + "dup.txt"
    archive = _zip({name: "One.", "e/dup.txt": "Two."})
    with pytest.raises(FormatError) as refused:
        brat.parse_zip(archive)
    assert (refused.value.where, refused.value.reason) == (
        name,
        "a name longer than 512 characters",
    )
