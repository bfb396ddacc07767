"""Export and import over HTTP, and offset units."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import pytest

from service.models import Document
from service.paths import project_directory
from service.services.corpus import MANIFEST, import_folder
from tests.factories import make_annotation, make_document


@pytest.fixture
def seed(session):
    (report,) = import_folder(session, project_directory("seeds", MANIFEST), actor="seed")
    session.commit()
    return report.document_id


@pytest.mark.parametrize(
    ("fmt", "media_type", "extension"),
    [
        ("w3c", "application/ld+json", "jsonld"),
        ("pubannotation", "application/json", "json"),
        ("brat", "text/plain", "ann"),
        ("conll", "text/plain", "conll"),
        ("spacy", "application/json", "spacy.json"),
        ("jsonl", "application/x-ndjson", "jsonl"),
    ],
)
def test_the_seed_article_exports_in_every_format(client, seed, fmt, media_type, extension):
    response = client.get(f"/v1/documents/{seed}/export?format={fmt}")
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert f'.{extension}"' in response.headers["Content-Disposition"]
    assert len(response.data) > 1000


def test_w3c_export_uses_the_public_urls_as_ids(client, seed):
    collection = client.get(f"/v1/documents/{seed}/export?format=w3c").json
    assert collection["id"] == f"http://localhost/v1/documents/{seed}/annotations"
    first = collection["first"]["items"][0]
    assert first["id"].startswith("http://localhost/v1/annotations/")
    assert collection["total"] == 150 + 146


def test_an_annotation_in_w3c_by_content_negotiation(client, seed):
    items = client.get(f"/v1/documents/{seed}/annotations?limit=1").json["items"]
    url = f"/v1/annotations/{items[0]['id']}"
    response = client.get(url, headers={"Accept": "application/ld+json"})
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    assert response.json["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert response.json["type"] == "Annotation"
    assert "Accept" in response.headers["Vary"]
    plain = client.get(url)
    assert plain.json == items[0]
    assert plain.headers["ETag"] != response.headers["ETag"]


def test_corpus_export_streams_jsonl(client, session, seed):
    make_document(session, "Another text.", external_id="b.txt")
    session.commit()
    response = client.get("/v1/export?format=jsonl")
    assert response.is_streamed
    lines = response.get_data(as_text=True).strip().split("\n")
    assert len(lines) == 2
    assert {json.loads(line)["document"]["external_id"] for line in lines} == {
        "000_56075bffde052d65.txt",
        "b.txt",
    }


def test_corpus_export_of_brat_is_a_zip_of_pairs(client, session, seed):
    make_document(session, "Another text.", external_id="b.txt")
    session.commit()
    response = client.get("/v1/export?format=brat")
    assert response.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert sorted(names) == [
        "000_56075bffde052d65.ann",
        "000_56075bffde052d65.txt",
        "b.ann",
        "b.txt",
    ]


def test_corpus_export_filters(client, session, seed):
    make_document(session, "Other news about Moscow.", external_id="b.txt")
    session.commit()
    text = client.get("/v1/export?format=jsonl&q=moscow%20news").get_data(as_text=True)
    assert [json.loads(line)["document"]["external_id"] for line in text.strip().split("\n")] == [
        "b.txt"
    ]


# --- import -------------------------------------------------------------------------------


def post_import(client, fmt, body, content_type, **query):
    params = "&".join(f"{k}={v}" for k, v in {"format": fmt, **query}.items())
    return client.post(f"/v1/import?{params}", data=body, content_type=content_type)


PUBANNOTATION = {
    "text": "Kim met Putin.",
    "sourcedb": "annotation-store",
    "sourceid": "talk.txt",
    "denotations": [
        {"id": "T1", "span": {"begin": 0, "end": 3}, "obj": "PERSON"},
        {"id": "T2", "span": {"begin": 8, "end": 13}, "obj": "PERSON"},
    ],
    "relations": [{"id": "R1", "subj": "T1", "pred": "coreference", "obj": "T2"}],
}


def test_import_creates_then_matches(client):
    first = post_import(client, "pubannotation", json.dumps(PUBANNOTATION), "application/json")
    assert first.status_code == 200, first.json
    (report,) = first.json["documents"]
    assert report["document_created"] is True
    assert report["annotations"] == {"created": 2, "matched": 0, "not_located": 0}
    assert report["links"] == {"created": 1, "matched": 0, "not_located": 0}
    again = post_import(client, "pubannotation", json.dumps(PUBANNOTATION), "application/json").json
    assert again["documents"][0]["id"] == report["id"]
    assert again["documents"][0]["annotations"] == {"created": 0, "matched": 2, "not_located": 0}
    assert again["documents"][0]["links"]["matched"] == 1
    stored = client.get(f"/v1/documents/{report['id']}/annotations").json["items"]
    assert [a["text"] for a in stored] == ["Kim", "Putin"]


def test_import_onto_a_changed_text_relocates_by_quote_and_reports_the_rest(client, session):
    document = make_document(
        session, "Yesterday, Putin met Kim in Pyongyang.", external_id="talk.txt"
    )
    session.commit()
    body = {**PUBANNOTATION, "text": "Kim met Putin. Zelensky was absent."}
    body["denotations"] = [
        *PUBANNOTATION["denotations"],
        {"id": "T3", "span": {"begin": 15, "end": 23}, "obj": "PERSON"},
    ]
    response = post_import(client, "pubannotation", json.dumps(body), "application/json")
    (report,) = response.json["documents"]
    assert report["id"] == str(document.id)
    assert report["annotations"] == {"created": 2, "matched": 0, "not_located": 1}
    assert report["not_located"] == ["/denotations/2"]
    stored = client.get(f"/v1/documents/{document.id}/annotations").json["items"]
    assert [(a["text"], a["start"]) for a in stored] == [("Putin", 11), ("Kim", 21)]


def test_w3c_import_names_its_document(client, session, seed):
    collection = client.get(f"/v1/documents/{seed}/export?format=w3c").get_data()
    original = session.get(Document, uuid.UUID(seed))
    copy = make_document(session, original.text, external_id="copy.txt")
    session.commit()
    response = post_import(client, "w3c", collection, "application/ld+json", external_id="copy.txt")
    assert response.status_code == 200, response.json
    (report,) = response.json["documents"]
    assert report["id"] == str(copy.id)
    assert report["annotations"]["created"] == 150
    assert report["links"]["created"] == 146
    missing = post_import(client, "w3c", collection, "application/ld+json")
    assert missing.status_code == 422
    assert "document_id" in missing.json["errors"]


def test_brat_zip_import(client, session, seed):
    archive = client.get("/v1/export?format=brat").data
    client.delete(f"/v1/documents/{seed}")
    response = post_import(client, "brat", archive, "application/zip")
    assert response.status_code == 200, response.json
    (report,) = response.json["documents"]
    assert report["document_created"]
    assert report["annotations"]["created"] == 150
    assert report["links"]["created"] == 146


def test_jsonl_import_round_trips_the_seed(client, seed):
    before = client.get(f"/v1/documents/{seed}?include=annotations,links").json
    exported = client.get(f"/v1/documents/{seed}/export?format=jsonl").data
    client.delete(f"/v1/documents/{seed}")
    report = post_import(client, "jsonl", exported, "application/x-ndjson").json["documents"][0]
    after = client.get(f"/v1/documents/{report['id']}?include=annotations,links").json

    def spans(doc):
        return sorted(
            (
                a["type"],
                a["label"],
                a["start"],
                a["end"],
                json.dumps(a["attributes"], sort_keys=True),
            )
            for a in doc["annotations"]
        )

    assert spans(after) == spans(before)
    assert len(after["links"]) == len(before["links"])
    assert after["published_at"] == before["published_at"]


def test_refused_items_are_named_by_their_place(client):
    body = {
        **PUBANNOTATION,
        "denotations": [
            {"id": "T1", "span": {"begin": 0, "end": 3}, "obj": "VILLAIN"},
            {"id": "T2", "span": {"begin": 8, "end": 99}, "obj": "PERSON"},
        ],
    }
    response = post_import(client, "pubannotation", json.dumps(body), "application/json")
    assert response.status_code == 422
    errors = response.json["errors"]
    assert "'VILLAIN' is not a label" in errors["/denotations/0"][0]
    assert "must be <= 14" in errors["/denotations/1"][0]
    assert client.get("/v1/documents?external_id=talk.txt").json["items"] == []


def test_malformed_input_is_422_with_its_place(client):
    response = post_import(
        client,
        "jsonl",
        b'{"format": "annotation-store/bundle@1"}\nnot json\n',
        "application/x-ndjson",
    )
    assert response.status_code == 422
    assert "line 1/document/text" in response.json["errors"]


@pytest.mark.parametrize(
    ("fmt", "content_type", "status"),
    [("brat", "application/json", 422), ("pubannotation", "text/csv", 415)],
)
def test_media_types_must_fit_the_format(client, fmt, content_type, status):
    assert post_import(client, fmt, b"x", content_type).status_code == status


# --- offset units ---------------------------------------------------------------------

EMOJI = "😀 Kim met 👍🏽 Putin."  # Kim: code points 2-5, UTF-16 3-6, UTF-8 5-8


@pytest.fixture
def emoji_document(session):
    document = make_document(session, EMOJI)
    make_annotation(session, document, "Putin")
    session.commit()
    return document


@pytest.mark.parametrize(
    ("unit", "start", "end"), [("codepoint", 2, 5), ("utf16", 3, 6), ("utf8", 5, 8)]
)
def test_create_and_list_in_the_unit_asked_for(client, emoji_document, unit, start, end):
    url = f"/v1/documents/{emoji_document.id}/annotations?offset_unit={unit}"
    created = client.post(
        url, json={"type": "entity", "label": "PERSON", "start": start, "end": end}
    )
    assert created.status_code == 201, created.json
    assert created.json["text"] == "Kim"
    assert (created.json["start"], created.json["end"]) == (start, end)
    assert created.headers["Offset-Unit"] == unit
    listed = client.get(url)
    assert listed.headers["Offset-Unit"] == unit
    putin = EMOJI.index("Putin")
    expected = {
        "codepoint": putin,
        "utf16": len(EMOJI[:putin].encode("utf-16-le")) // 2,
        "utf8": len(EMOJI[:putin].encode()),
    }[unit]
    assert [(a["text"], a["start"]) for a in listed.json["items"]][-1] == ("Putin", expected)
    single = client.get(f"/v1/annotations/{created.json['id']}?offset_unit={unit}").json
    assert (single["start"], single["end"]) == (start, end)


def test_an_offset_inside_a_surrogate_pair_is_422(client, emoji_document):
    url = f"/v1/documents/{emoji_document.id}/annotations?offset_unit=utf16"
    response = client.post(url, json={"type": "entity", "label": "PERSON", "start": 1, "end": 6})
    assert response.status_code == 422
    assert "inside a character" in response.json["errors"]["start"][0]


def test_positions_across_the_corpus_in_utf16_need_a_document(client):
    assert client.get("/v1/annotations?overlaps=1,4&offset_unit=utf16").status_code == 400


@pytest.mark.parametrize("query", ["at=1", "overlaps=1,4", "within=0,1"])
def test_a_query_position_inside_a_character_is_400(client, emoji_document, query):
    for url in (
        f"/v1/documents/{emoji_document.id}/annotations",
        f"/v1/annotations?document_id={emoji_document.id}&",
    ):
        separator = "" if url.endswith("&") else "?"
        response = client.get(f"{url}{separator}{query}&offset_unit=utf16")
        assert response.status_code == 400, response.json
        (field,) = response.json["errors"]
        assert query.startswith(field)
        assert "inside a character" in response.json["detail"]


def test_positions_in_utf16_of_a_document_that_does_not_exist_are_404(client):
    response = client.get(
        "/v1/annotations?offset_unit=utf16&at=1&document_id=01932c07-8a1e-7c3b-9f4d-2b6e5a7c8d90"
    )
    assert response.status_code == 404


def test_bundle_and_batch_in_utf16(client, emoji_document):
    url = f"/v1/documents/{emoji_document.id}"
    batch = client.post(
        f"{url}/annotations/batch?offset_unit=utf16",
        json={"annotations": [{"type": "entity", "label": "PERSON", "start": 3, "end": 6}]},
    )
    assert batch.status_code == 201
    assert batch.json["annotations"][0]["text"] == "Kim"
    assert batch.json["annotations"][0]["start"] == 3
    bundle = client.get(f"{url}?include=annotations&offset_unit=utf16").json
    assert {(a["text"], a["start"]) for a in bundle["annotations"]} >= {("Kim", 3)}
    history = client.get(f"/v1/annotations/{batch.json['annotations'][0]['id']}/history").json
    assert history["items"][0]["after"]["start"] == 2, "the history keeps code points"


@pytest.mark.parametrize(
    ("external_id", "expected"),
    [
        ("a.txt", 'attachment; filename="a.txt.jsonl"'),
        (
            'snow☃ "x"; y=1',
            'attachment; filename="snow___x___y_1.jsonl"; '
            "filename*=UTF-8''snow%E2%98%83%20%22x%22%3B%20y%3D1.jsonl",
        ),
        ("tab\there", "attachment; filename=\"tab_here.jsonl\"; filename*=UTF-8''tab%09here.jsonl"),
    ],
)
def test_download_names_are_safe_header_values(client, session, external_id, expected):
    document = make_document(session, "Putin", external_id=external_id)
    session.commit()
    response = client.get(f"/v1/documents/{document.id}/export?format=jsonl")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition == expected
    disposition.encode("latin-1")  # what a WSGI server can send


# --- what an import refuses, and what it must not lose ----------------------------------


def _pubannotation(**changes):
    return json.dumps({**PUBANNOTATION, **changes})


def _w3c_span(**selector_or_bodies):
    bodies = selector_or_bodies.pop("bodies", [{"purpose": "tagging", "value": "PERSON"}])
    selector = {"type": "TextQuoteSelector", "exact": "Kim", **selector_or_bodies}
    return json.dumps(
        {"type": "Annotation", "id": "a1", "body": bodies, "target": {"selector": selector}}
    )


def _bundle(document=None, annotation=None, link=None):
    annotations = [{"ref": "k", "type": "entity", "label": "PERSON", "start": 0, "end": 3}]
    annotations[0].update(annotation or {})
    annotations.append({"ref": "p", "type": "entity", "label": "PERSON", "start": 8, "end": 13})
    links = [{"type": "coreference", "source": "k", "target": "p", **(link or {})}]
    body = {
        "format": "annotation-store/bundle@1",
        "document": {"text": "Kim met Putin.", **(document or {})},
        "annotations": annotations,
        "links": links,
    }
    return json.dumps(body)


@pytest.mark.parametrize(
    ("fmt", "body", "place", "words"),
    [
        (
            "pubannotation",
            _pubannotation(
                denotations=[{"id": "T1", "span": {"begin": 0, "end": 3}, "obj": ["P"]}]
            ),
            "/denotations/0",
            "label must be a string, not an array",
        ),
        (
            "pubannotation",
            _pubannotation(relations=[{"id": "R1", "subj": "T1", "pred": [1], "obj": "T2"}]),
            "/relations/0",
            "type must be a string, not an array",
        ),
        (
            "pubannotation",
            _pubannotation(
                attributes=[{"id": "A1", "subj": "T1", "pred": "confidence", "obj": "x"}]
            ),
            "/denotations/0",
            "confidence must be a number, not a string",
        ),
        (
            "pubannotation",
            _pubannotation(
                denotations=[{"id": "T1", "span": {"begin": "0", "end": 3}, "obj": "PERSON"}]
            ),
            "/denotations/0",
            "start must be an integer, not a string",
        ),
        ("pubannotation", _pubannotation(sourceid=["a"]), "/sourceid", "must be a string"),
        ("w3c", _w3c_span(exact=5), "/", "exact must be a string, not an integer"),
        (
            "w3c",
            _w3c_span(bodies=[{"purpose": "tagging", "value": {"x": 1}}]),
            "/",
            "label must be a string, not an object",
        ),
        (
            "w3c",
            _w3c_span(bodies=[{"purpose": "describing", "value": "[1]"}]),
            "/body",
            "the describing body is not a JSON object",
        ),
        (
            "w3c",
            _w3c_span(bodies=[{"purpose": "describing", "value": '{"attributes": [1]}'}]),
            "/body/attributes",
            "must be a JSON object, not an array",
        ),
        ("jsonl", _bundle(annotation={"ref": ["k"]}), "line 1/annotations/0/ref", "string"),
        (
            "jsonl",
            _bundle(annotation={"attributes": "ab"}),
            "line 1/annotations/0 (ref k)/attributes",
            "must be a JSON object, not a string",
        ),
        (
            "jsonl",
            _bundle(link={"attributes": [1]}),
            "line 1/links/0/attributes",
            "must be a JSON object, not an array",
        ),
        ("jsonl", _bundle(link={"source": ["k"]}), "line 1/links/0/source", "not the ref"),
        ("jsonl", _bundle(document={"metadata": [1]}), "line 1/document/metadata", "Not a valid"),
        ("jsonl", _bundle(document={"title": {"a": 1}}), "line 1/document/title", "Not a valid"),
        (
            "jsonl",
            _bundle(document={"published_at": "2024-10-09T00:00:00"}),
            "line 1/document/published_at",
            "Not a valid aware datetime.",
        ),
        (
            "jsonl",
            _bundle(document={"language": "not a tag!!"}),
            "line 1/document/language",
            "Not a BCP 47 language tag.",
        ),
        (
            "jsonl",
            _bundle(document={"source_url": "nope"}),
            "line 1/document/source_url",
            "Not a valid URL.",
        ),
        (
            "jsonl",
            _bundle(document={"external_id": "e" * 513}),
            "line 1/document/external_id",
            "Length must be between 1 and 512.",
        ),
    ],
)
def test_members_of_the_wrong_kind_are_422_at_their_place(client, session, fmt, body, place, words):
    media_type = {"w3c": "application/ld+json", "jsonl": "application/x-ndjson"}.get(
        fmt, "application/json"
    )
    query = {"external_id": "talk.txt"} if fmt == "w3c" else {}
    if fmt == "w3c":
        make_document(session, "Kim met Putin.", external_id="talk.txt")
        session.commit()
    before = client.get("/v1/documents").json["items"]
    response = post_import(client, fmt, body, media_type, **query)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    messages = response.json["errors"][place]
    assert any(words in message for message in messages), messages
    assert client.get("/v1/documents").json["items"] == before
    assert client.get("/v1/annotations").json["items"] == []


def test_a_brat_note_of_the_wrong_kind_is_422(client):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as written:
        written.writestr("talk.txt", "Kim met Putin.")
        written.writestr(
            "talk.ann", 'T1\tPERSON 0 3\tKim\n#1\tAnnotatorNotes T1\t{"attributes": [1]}\n'
        )
    response = post_import(client, "brat", archive.getvalue(), "application/zip")
    assert response.status_code == 422
    assert response.json["errors"]["talk.ann:2"] == ["must be a JSON object, not an array"]


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("url", "media_type", "status"),
    [
        ("/v1/documents", "application/json", 400),
        ("/v1/links", "application/json", 400),
        ("/v1/import?format=pubannotation", "application/json", 422),
        ("/v1/import?format=jsonl", "application/x-ndjson", 422),
    ],
)
def test_json_nested_deeper_than_python_goes_is_a_clean_error(client, url, media_type, status):
    for headers in ({}, {"Idempotency-Key": "deep"}):
        response = client.post(url, data=DEEP, content_type=media_type, headers=headers)
        assert response.status_code == status
        assert response.mimetype == "application/problem+json"
        assert "JSON" in response.json["detail"]


def test_a_batch_nested_too_deep_is_400(client, session):
    document = make_document(session, "Kim met Putin.")
    session.commit()
    response = client.post(
        f"/v1/documents/{document.id}/annotations/batch", data=DEEP, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json["detail"] == "the request body is not valid JSON"


def _chunked(client, url, body, content_type):
    """A body sent without a Content-Length, as gunicorn hands a chunked one on."""
    return client.post(
        url,
        input_stream=io.BytesIO(body),
        content_type=content_type,
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_chunked_body_over_the_limit_is_413_and_nothing_is_written(make_app):
    client = make_app(max_body_bytes=400).test_client()
    line = _bundle().encode() + b"\n"  # about 300 bytes: the second line passes the limit
    response = _chunked(client, "/v1/import?format=jsonl", line * 2, "application/x-ndjson")
    assert response.status_code == 413
    assert response.json["detail"] == "the request body is larger than 400 bytes"
    assert client.get("/v1/documents").json["items"] == []
    document = json.dumps({"text": "x" * 500}).encode()
    assert _chunked(client, "/v1/documents", document, "application/json").status_code == 413


def test_a_chunked_body_within_the_limit_is_read_whole(make_app):
    client = make_app(max_body_bytes=400).test_client()
    body = json.dumps({"text": "Kim met Putin.", "title": "t" * 300}).encode()
    assert len(body) < 400
    response = _chunked(client, "/v1/documents", body, "application/json")
    assert response.status_code == 201, response.json
    assert response.json["title"] == "t" * 300


def test_an_import_does_not_match_an_orphaned_annotation(client, session):
    document = make_document(session, "Kim met Putin.", external_id="talk.txt")
    orphan = make_annotation(session, document, "Kim")
    session.commit()
    edited = client.put(
        f"/v1/documents/{document.id}/text",
        json={"text": "Zelensky met Putin."},
        headers={"If-Match": '"1"'},
    )
    assert edited.status_code == 200, edited.json
    assert edited.json["anchoring"]["orphaned_ids"] == [str(orphan.id)]
    body = {
        "text": "Zelensky met Putin.",
        "sourceid": "talk.txt",
        "denotations": [{"id": "T1", "span": {"begin": 0, "end": 3}, "obj": "PERSON"}],
    }
    response = post_import(client, "pubannotation", json.dumps(body), "application/json")
    (report,) = response.json["documents"]
    assert report["annotations"] == {"created": 1, "matched": 0, "not_located": 0}
    listed = client.get(f"/v1/documents/{document.id}/annotations").json["items"]
    assert [(a["start"], a["end"], a["text"]) for a in listed] == [(0, 3, "Zel")]


@pytest.mark.parametrize(
    ("fmt", "media_type", "body"),
    [
        ("pubannotation", "application/json", json.dumps(PUBANNOTATION)),
        ("jsonl", "application/x-ndjson", _bundle()),
    ],
)
def test_a_byte_order_mark_before_the_json_is_ignored(client, fmt, media_type, body):
    response = post_import(client, fmt, "\ufeff".encode() + body.encode(), media_type)
    assert response.status_code == 200, response.json
    assert response.json["documents"][0]["annotations"]["created"] == 2


def test_a_zip_that_unpacks_beyond_the_body_limit_is_refused(make_app):
    client = make_app(max_body_bytes=2_000).test_client()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as written:
        written.writestr("big.txt", "A" * 5_000)  # a few dozen bytes packed
    assert len(archive.getvalue()) < 2_000
    response = post_import(client, "brat", archive.getvalue(), "application/zip")
    assert response.status_code == 422
    assert response.json["errors"]["/"] == [
        "the archive unpacks to 5000 bytes, more than a body may hold (2000)"
    ]
    assert client.get("/v1/documents").json["items"] == []


def test_a_chunked_body_is_not_read_for_a_caller_without_a_key(make_app):
    client = make_app(auth_mode="apikey", max_body_bytes=400).test_client()
    stream = io.BytesIO(b'{"text": "' + b"x" * 1_000 + b'"}')
    response = client.post(
        "/v1/documents",
        input_stream=stream,
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 401
    assert stream.tell() == 0
