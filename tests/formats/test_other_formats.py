"""PubAnnotation, CoNLL and spaCy output."""

from __future__ import annotations

import pytest

from service.formats import conll, pubannotation, spacy_doc
from service.services import exports
from tests.factories import make_annotation, make_document, make_link

TEXT = "South Korea’s minister Kim Yong-hyun met Putin.\n\nHe said “yes”."


@pytest.fixture
def exported(session):
    document = make_document(session, TEXT, external_id="a.txt")
    korea = make_annotation(session, document, "South Korea", label="GPE")
    minister = make_annotation(
        session,
        document,
        "South Korea’s minister Kim Yong-hyun",
        label="PERSON",
        attributes={"mention": "nominal"},
    )
    kim = make_annotation(session, document, "Kim Yong-hyun")
    make_annotation(session, document, "Putin")
    he = make_annotation(session, document, "He")
    quote = make_annotation(session, document, "yes", type="quote", label="DIRECT")
    make_link(session, "coreference", he, kim)
    make_link(session, "speaker", quote, he)
    del korea, minister
    return exports.exported(session, document)


def test_pubannotation_denotations_relations_and_attributes(exported):
    doc = pubannotation.document(exported)
    assert doc["text"] == TEXT
    assert doc["sourceid"] == "a.txt"
    spans = {d["id"]: (d["span"]["begin"], d["span"]["end"], d["obj"]) for d in doc["denotations"]}
    assert (0, 11, "GPE") in spans.values()
    (speaker,) = [r for r in doc["relations"] if r["pred"] == "speaker"]
    assert spans[speaker["subj"]][2] == "DIRECT"
    types = {a["subj"]: a["obj"] for a in doc["attributes"] if a["pred"] == "type"}
    assert types[speaker["subj"]] == "quote"
    (mention,) = [a for a in doc["attributes"] if a["pred"] == "mention"]
    assert mention["obj"] == "nominal"
    assert spans[mention["subj"]] == (0, 36, "PERSON")


def test_pubannotation_reads_back(exported):
    (incoming,) = pubannotation.parse(pubannotation.document(exported))
    assert [(a.type, a.label, a.start, a.end, a.attributes) for a in incoming.annotations] == [
        (a["type"], a["label"], a["start"], a["end"], a["attributes"]) for a in exported.annotations
    ]
    assert incoming.fields == {"external_id": "a.txt"}


def test_pubannotation_errors_point_at_the_item():
    with pytest.raises(pubannotation.FormatError) as raised:
        pubannotation.parse([{"text": "x", "denotations": [{"id": "T1"}]}])
    assert raised.value.where == "/0/denotations/0"


def test_conll_tags_entities_with_iob2(exported):
    lines = conll.document(exported).splitlines()
    assert lines[0] == "-DOCSTART- -X- -X- O"
    rows = [line.split(" ") for line in lines if line and not line.startswith("-DOCSTART-")]
    tags = [(row[0], row[3]) for row in rows]
    # The nominal mention is the longest entity, so its tokens carry its label.
    assert tags[:6] == [
        ("South", "B-PERSON"),
        ("Korea’s", "I-PERSON"),
        ("minister", "I-PERSON"),
        ("Kim", "I-PERSON"),
        ("Yong-hyun", "I-PERSON"),
        ("met", "O"),
    ]
    assert ("Putin", "B-PERSON") in tags
    assert ("He", "B-PERSON") in tags
    assert ("yes", "O") in tags, "quotes are not entities"


def test_conll_separates_sentences_with_blank_lines(exported):
    blocks = [b for b in conll.document(exported).split("\n\n") if b.strip()]
    assert blocks[1].splitlines()[-1].startswith(". ")
    assert blocks[2].splitlines()[0].startswith("He ")


def test_spacy_json_rebuilds_a_doc_with_the_same_offsets(exported):
    spacy = pytest.importorskip("spacy")
    from spacy.tokens import Doc

    data = spacy_doc.document(exported)
    doc = Doc(spacy.blank("en").vocab).from_json(data)
    assert doc.text == TEXT
    entities = {(e.start_char, e.end_char, e.label_) for e in doc.ents}
    # Overlapping entities cannot all be ents: the longest wins there.
    assert (0, 36, "PERSON") in entities
    assert (41, 46, "PERSON") in entities
    every = {(s.start_char, s.end_char, s.label_) for s in doc.spans["entity"]}
    assert {
        (a["start"], a["end"], a["label"]) for a in exported.annotations if a["type"] == "entity"
    } == every
    assert [(s.start_char, s.end_char) for s in doc.spans["quote"]] == [(58, 61)]


def test_spacy_docbin(exported):
    spacy = pytest.importorskip("spacy")
    from spacy.tokens import DocBin

    (doc,) = DocBin().from_bytes(spacy_doc.docbin(exported)).get_docs(spacy.blank("en").vocab)
    assert doc.text == TEXT
    assert len(doc.spans["entity"]) == 5


def test_pubannotation_attributes_named_like_its_own_members_come_back_as_attributes(session):
    document = make_document(session, "Kim met Putin.")
    kim = make_annotation(
        session,
        document,
        "Kim",
        status="accepted",
        attributes={"status": "rejected", "confidence": 0.5, "type": "z", "attributes.x": 1},
    )
    putin = make_annotation(session, document, "Putin")
    make_link(session, "coreference", kim, putin)
    exported = exports.exported(session, document)
    exported.links[0]["attributes"] = {"type": "alias"}
    data = pubannotation.document(exported)
    predicates = {a["pred"] for a in data["attributes"] if a["subj"] == "T1"}
    assert predicates == {
        "type",
        "attributes.status",
        "attributes.confidence",
        "attributes.type",
        "attributes.attributes.x",
    }
    (incoming,) = pubannotation.parse(data)
    first = incoming.annotations[0]
    assert (first.type, first.status, first.confidence) == ("entity", None, None)
    assert first.attributes == kim.attributes
    assert incoming.links[0].attributes == {"type": "alias"}


def test_conll_keeps_decomposed_words_whole_and_labels_one_column(session):
    text = "Zu\u0308rich hosts the Mona Lisa."
    document = make_document(session, text)
    make_annotation(session, document, "Zu\u0308rich", label="GPE")
    make_annotation(session, document, "Mona Lisa", label="WORK_OF_ART")
    exported = exports.exported(session, document)
    exported.annotations[-1]["label"] = "WORK OF ART"  # a label the schema may hold
    lines = conll.document(exported).splitlines()
    assert "Zu\u0308rich _ _ B-GPE" in lines
    assert "Mona _ _ B-WORK_OF_ART" in lines
    assert "Lisa _ _ I-WORK_OF_ART" in lines
    assert all(len(line.split()) == 4 for line in lines if line)
