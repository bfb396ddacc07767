from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.formats.bundle import FORMAT
from service.models import Annotation, Document, Link
from service.services.corpus import CorpusError, import_folder

TEXT = "Kim met Putin. Kim said: “Putin is a friend.”"


def write_bundle(folder: Path, stem: str, annotations, links=()):
    (folder / "annotations").mkdir(exist_ok=True)
    data = {
        "format": FORMAT,
        "document": {},
        "annotations": list(annotations),
        "links": list(links),
    }
    (folder / "annotations" / f"{stem}.bundle.json").write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture
def corpus(tmp_path):
    (tmp_path / "a.txt").write_text(" date 2024-01-02  " + TEXT, encoding="utf-8")
    (tmp_path / "b.txt").write_text("No header here.", encoding="utf-8")
    write_bundle(
        tmp_path,
        "a",
        [
            {"ref": "q", "type": "quote", "label": "DIRECT", "text": "Putin is a friend."},
            {"ref": "k1", "type": "entity", "label": "PERSON", "text": "Kim", "context": "Kim met"},
            {
                "ref": "k2",
                "type": "entity",
                "label": "PERSON",
                "text": "Kim",
                "context": "Kim said",
            },
        ],
        [
            {"type": "speaker", "source": "q", "target": "k2"},
            {"type": "coreference", "source": "k2", "target": "k1"},
        ],
    )
    return tmp_path


def counts(session):
    return tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (Document, Annotation, Link)
    )


def test_a_folder_without_manifest_loads_every_text_and_its_bundle(session, corpus):
    before = counts(session)
    reports = import_folder(session, corpus, actor="tester")
    assert [r.external_id for r in reports] == ["a.txt", "b.txt"]
    assert reports[0].annotations.created == 3
    assert reports[0].links.created == 2
    document = session.get(Document, __import__("uuid").UUID(reports[0].document_id))
    assert document.text == TEXT
    assert document.published_at.isoformat() == "2024-01-02T00:00:00+00:00"
    created_by = set(
        session.scalars(select(Annotation.created_by).where(Annotation.document_id == document.id))
    )
    assert created_by == {"tester"}
    assert counts(session) == (before[0] + 2, before[1] + 3, before[2] + 2)


def test_importing_twice_changes_nothing(session, corpus):
    import_folder(session, corpus, actor="tester")
    after_first = counts(session)
    reports = import_folder(session, corpus, actor="tester")
    assert counts(session) == after_first
    assert reports[0].annotations.matched == 3
    assert reports[0].links.matched == 2
    assert not reports[0].document_created


def test_manifest_names_metadata(session, corpus):
    (corpus / "manifest.json").write_text(
        json.dumps(
            {
                "documents": [
                    {
                        "file": "b.txt",
                        "external_id": "B",
                        "title": "Bee",
                        "language": "en",
                        "source": {"publisher": "unknown"},
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    (report,) = import_folder(session, corpus, actor="tester")
    document = session.scalars(select(Document).where(Document.external_id == "B")).one()
    assert (document.title, document.language) == ("Bee", "en")
    assert document.meta == {"source": {"publisher": "unknown"}}
    assert report.annotations.created == 0


def test_text_that_does_not_occur_fails_naming_file_item_and_reason(session, corpus):
    write_bundle(corpus, "a", [{"ref": "x", "type": "entity", "label": "PERSON", "text": "Lenin"}])
    with pytest.raises(CorpusError) as raised:
        import_folder(session, corpus, actor="tester")
    message = str(raised.value)
    assert str(corpus / "annotations" / "a.bundle.json") in message
    assert "/annotations/0 (ref x)" in message
    assert "'Lenin' occurs 0 times in the document" in message


def test_a_label_outside_the_schema_fails_naming_the_item(session, corpus):
    write_bundle(corpus, "a", [{"type": "entity", "label": "VILLAIN", "text": "met"}])
    with pytest.raises(
        CorpusError, match=r"a\.bundle\.json: /annotations/0: label: 'VILLAIN' is not a label"
    ):
        import_folder(session, corpus, actor="tester")


def test_a_link_against_the_schema_fails_naming_the_link(session, corpus):
    write_bundle(
        corpus,
        "a",
        [
            {"ref": "k", "type": "entity", "label": "PERSON", "text": "met"},
            {
                "ref": "p",
                "type": "entity",
                "label": "PERSON",
                "text": "Putin",
                "context": "Putin is",
            },
        ],
        [{"type": "speaker", "source": "k", "target": "p"}],
    )
    with pytest.raises(
        CorpusError, match=r"/links/0: source_id: must be of type 'quote', not 'entity'"
    ):
        import_folder(session, corpus, actor="tester")


def test_a_stored_document_with_another_text_is_refused(session, corpus):
    import_folder(session, corpus, actor="tester")
    (corpus / "b.txt").write_text("Changed text.", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"b\.txt: document .* with a different text"):
        import_folder(session, corpus, actor="tester")


def test_flask_import_command_loads_a_folder_and_reports(app, corpus, session):
    result = app.test_cli_runner().invoke(args=["import", str(corpus), "--as", "me"])
    assert result.exit_code == 0, result.output
    assert "a.txt: document" in result.output
    assert "annotations 3 created" in result.output


def test_flask_import_command_fails_with_the_reason(app, corpus):
    shutil.copy(corpus / "a.txt", corpus / "c.txt")
    write_bundle(corpus, "c", [{"type": "entity", "label": "PERSON", "text": "Kim"}])
    result = app.test_cli_runner().invoke(args=["import", str(corpus)])
    assert result.exit_code == 1
    assert "c.bundle.json: /annotations/0: text 'Kim' occurs 2 times" in result.output
