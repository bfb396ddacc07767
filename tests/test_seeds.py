"""The seed corpus and its gold annotation layer load through the services, follow the
span conventions of seeds/ANNOTATION_GUIDE.md, and load idempotently."""

from __future__ import annotations

import json
import shutil
import uuid
from collections import defaultdict

import pytest
from sqlalchemy import func, select

from service.models import Annotation, Document, Link
from service.paths import project_directory
from service.services.corpus import MANIFEST, CorpusError, import_folder

SEEDS = project_directory("seeds", MANIFEST)
EXTERNAL_ID = "000_56075bffde052d65.txt"
BUNDLE = SEEDS / "annotations" / "000_56075bffde052d65.bundle.json"


@pytest.fixture
def seeded(session):
    (report,) = import_folder(session, SEEDS, actor="seed")
    return session.get(Document, uuid.UUID(report.document_id))


@pytest.fixture
def layer(session, seeded):
    annotations = {
        a.id: a
        for a in session.scalars(select(Annotation).where(Annotation.document_id == seeded.id))
    }
    links = list(session.scalars(select(Link).where(Link.document_id == seeded.id)))
    return annotations, links


def test_seed_article_is_found_by_external_id_with_its_date(client, seeded):
    response = client.get(f"/v1/documents/{seeded.id}")
    document = response.json
    assert document["external_id"] == EXTERNAL_ID
    assert document["published_at"] == "2024-10-09T00:00:00Z"
    assert document["text"].startswith("North Korean soldiers")
    assert document["language"] == "en"
    assert document["title"]
    assert document["metadata"]["source"]["kind"] == "news article"


def test_seed_text_is_the_corpus_file_without_its_header(seeded):
    raw = (SEEDS / EXTERNAL_ID).read_text(encoding="utf-8")
    assert raw.startswith(" date 2024-10-09 ")
    assert seeded.text == raw.removeprefix(" date 2024-10-09 ")


def test_every_span_text_equals_the_document_slice(client, seeded):
    items = client.get(f"/v1/documents/{seeded.id}/annotations?limit=1000").json["items"]
    assert len(items) > 100
    for item in items:
        assert item["text"] == seeded.text[item["start"] : item["end"]]


def test_the_layer_covers_entities_quotes_and_claims(layer):
    annotations, links = layer
    types = {a.type for a in annotations.values()}
    assert types == {"entity", "quote", "claim"}
    link_types = {link.type for link in links}
    assert {"speaker", "claimant", "coreference", "about"} <= link_types


def test_every_quote_has_one_speaker_or_says_it_has_none(layer):
    annotations, links = layer
    speakers = defaultdict(list)
    for link in links:
        if link.type == "speaker":
            speakers[link.source_id].append(link.target_id)
    for quote in (a for a in annotations.values() if a.type == "quote"):
        if quote.attributes.get("attribution") == "none":
            assert speakers[quote.id] == [], quote.text
        else:
            assert len(speakers[quote.id]) == 1, quote.text


def test_speaker_and_claimant_targets_are_entities(layer):
    annotations, links = layer
    for link in links:
        if link.type in ("speaker", "claimant"):
            assert annotations[link.target_id].type == "entity"


def test_names_exclude_determiners_and_possessives(layer):
    annotations, _ = layer
    for a in annotations.values():
        if a.type == "entity" and a.attributes.get("mention") == "name" and a.label != "DATE":
            assert not a.text.lower().startswith("the "), a.text
            assert not a.text.endswith(("\u2019s", "'s")), a.text


def test_provenance_names_the_seed_layer(layer):
    annotations, links = layer
    assert {a.created_by for a in annotations.values()} == {"seed"}
    assert {a.status for a in annotations.values()} == {"accepted"}
    assert {link.created_by for link in links} == {"seed"}


def clusters(annotations, links):
    parent = {a: a for a in annotations}

    def root(a):
        while parent[a] != a:
            a = parent[a]
        return a

    for link in links:
        if link.type == "coreference":
            parent[root(link.source_id)] = root(link.target_id)
    groups = defaultdict(set)
    for a in annotations:
        groups[root(a)].add(annotations[a].text)
    return list(groups.values())


def test_coreference_keeps_the_two_kims_apart(layer):
    groups = clusters(*layer)
    (jong_un,) = [g for g in groups if "Kim Jong-un" in g]
    assert {"Kim", "North Korean dictator"} <= jong_un
    assert "Kim Yong-hyun" not in jong_un
    (yong_hyun,) = [g for g in groups if "Kim Yong-hyun" in g]
    assert "He" in yong_hyun


def counts(session):
    return [
        session.scalar(select(func.count()).select_from(model))
        for model in (Document, Annotation, Link)
    ]


def test_seeding_twice_leaves_counts_unchanged(session, seeded):
    before = counts(session)
    (report,) = import_folder(session, SEEDS, actor="seed")
    assert counts(session) == before
    assert report.annotations.created == report.links.created == 0
    assert not report.document_created


@pytest.fixture
def seeds_copy(tmp_path):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    return tmp_path / "seeds"


def test_a_corrupted_seed_fails_with_file_item_and_reason(session, seeds_copy):
    bundle_path = seeds_copy / "annotations" / BUNDLE.name
    bundle = json.loads(bundle_path.read_text(encoding="utf-8"))
    index = next(i for i, a in enumerate(bundle["annotations"]) if a["text"] == "Kim Yong-hyun")
    bundle["annotations"][index]["text"] = "Kim Yong-hyon"
    bundle_path.write_text(json.dumps(bundle), encoding="utf-8")
    with pytest.raises(CorpusError) as raised:
        import_folder(session, seeds_copy, actor="seed")
    ref = bundle["annotations"][index]["ref"]
    assert str(raised.value) == (
        f"{bundle_path}: /annotations/{index} (ref {ref}): "
        "text 'Kim Yong-hyon' occurs 0 times in the document; it must occur exactly once"
    )


def test_a_changed_corpus_file_fails_its_checksum(session, seeds_copy):
    path = seeds_copy / EXTERNAL_ID
    path.write_text(path.read_text(encoding="utf-8").replace("six", "seven"), encoding="utf-8")
    with pytest.raises(CorpusError, match="sha256 differs"):
        import_folder(session, seeds_copy, actor="seed")


def test_flask_seed_loads_the_corpus(app, session):
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert f"{EXTERNAL_ID}: document" in result.output
    assert session.scalars(select(Document).where(Document.external_id == EXTERNAL_ID)).one()
