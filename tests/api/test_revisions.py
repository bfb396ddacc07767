"""PUT /v1/documents/{id}/text: new revisions, annotations carried over, earlier
revisions readable."""

from __future__ import annotations

from tests.factories import TEXT, make_annotation, make_document, make_link

# TEXT = "Kim Jong-un met Vladimir Putin in Pyongyang. He said: “We are allies.”"
CORRECTED = "On Monday, Kim Jong-un met Vladimir Putin in Pyongyang. He said: “We are friends.”"


def put_text(client, document_id, text, etag='"1"', **headers):
    if etag is not None:
        headers["If-Match"] = etag
    return client.put(f"/v1/documents/{document_id}/text", json={"text": text}, headers=headers)


def layer(session):
    """A document with a person, a place, a quote, a claim, and links between them."""
    document = make_document(session)
    kim = make_annotation(session, document, "Kim Jong-un")
    putin = make_annotation(session, document, "Vladimir Putin")
    place = make_annotation(session, document, "Pyongyang", label="GPE")
    quote = make_annotation(session, document, "We are allies.", type="quote", label="DIRECT")
    allies = make_annotation(session, document, "allies", type="claim", label="FACTUAL")
    make_link(session, "speaker", quote, kim)
    make_link(session, "about", allies, putin)
    session.commit()
    return document, {"kim": kim, "putin": putin, "place": place, "quote": quote, "allies": allies}


def by_id(client, document_id, query=""):
    items = client.get(f"/v1/documents/{document_id}/annotations?limit=1000{query}").json["items"]
    return {item["id"]: item for item in items}


def test_a_correction_moves_every_annotation_and_reports_each_status(client, session):
    document, made = layer(session)
    response = put_text(client, document.id, CORRECTED)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["changed"] is True
    assert body["document"]["text"] == CORRECTED
    assert body["document"]["revision"] == 2
    assert response.headers["ETag"] == f'"{body["document"]["version"]}"'
    # "allies" was replaced by "friends": the claim on it is orphaned; the quote
    # around it changed by one word out of three and is found again, fuzzy.
    assert body["anchoring"]["counts"] == {"exact": 0, "shifted": 3, "fuzzy": 1, "orphaned": 1}
    assert body["anchoring"]["orphaned_ids"] == [str(made["allies"].id)]
    assert body["anchoring"]["dangling_links"] == 1

    current = by_id(client, document.id)
    assert str(made["allies"].id) not in current  # orphans leave the default list
    kim = current[str(made["kim"].id)]
    assert (kim["start"], kim["text"], kim["anchor"]) == (11, "Kim Jong-un", "shifted")
    assert kim["version"] == 2
    quote = current[str(made["quote"].id)]
    assert (quote["text"], quote["anchor"]) == ("We are friends.", "fuzzy")
    assert CORRECTED[quote["start"] : quote["end"]] == "We are friends."


def test_orphans_keep_their_last_span_and_are_listed_on_request(client, session):
    document, made = layer(session)
    put_text(client, document.id, CORRECTED)
    orphans = by_id(client, document.id, "&anchor=orphaned")
    (orphan,) = orphans.values()
    assert orphan["id"] == str(made["allies"].id)
    assert (orphan["start"], orphan["end"], orphan["text"]) == (62, 68, "allies")
    assert orphan["anchor"] == "orphaned"
    shifted = by_id(client, document.id, "&anchor=shifted")
    assert len(shifted) == 3
    single = client.get(f"/v1/annotations/{orphan['id']}").json
    assert single["anchor"] == "orphaned"


def test_links_to_orphans_are_kept_and_flagged(client, session):
    document, made = layer(session)
    put_text(client, document.id, CORRECTED)
    links = client.get(f"/v1/documents/{document.id}/links").json["items"]
    flags = {(link["type"], link["dangling"]) for link in links}
    assert flags == {("speaker", False), ("about", True)}
    refused = client.post(
        "/v1/links",
        json={
            "type": "about",
            "source_id": str(made["allies"].id),
            "target_id": str(made["kim"].id),
        },
    )
    assert refused.status_code == 422
    assert "orphaned" in refused.json["detail"]


def _place_the_orphan_again(client, annotation_id):
    """PATCH the orphaned "allies" annotation onto "friends" in the corrected text."""
    orphan = client.get(f"/v1/annotations/{annotation_id}").json
    start = CORRECTED.index("friends")
    return client.patch(
        f"/v1/annotations/{orphan['id']}",
        json={"start": start, "end": start + 7},
        headers={"If-Match": f'"{orphan["version"]}"'},
    )


def test_placing_an_orphan_again_clears_its_links(client, session):
    document, made = layer(session)
    put_text(client, document.id, CORRECTED)
    placed = _place_the_orphan_again(client, made["allies"].id)
    assert placed.status_code == 200, placed.json
    assert (placed.json["text"], placed.json["anchor"]) == ("friends", "exact")
    links = client.get(f"/v1/documents/{document.id}/links").json["items"]
    assert [link["dangling"] for link in links] == [False, False]


def test_a_link_deleted_while_dangling_comes_back_as_its_ends_are_now(client, session):
    document, made = layer(session)
    put_text(client, document.id, CORRECTED)
    links = client.get(f"/v1/documents/{document.id}/links").json["items"]
    assert True in [link["dangling"] for link in links]
    for link in links:
        assert client.delete(f"/v1/links/{link['id']}").status_code == 204
    placed = _place_the_orphan_again(client, made["allies"].id)
    assert placed.status_code == 200, placed.json
    restored = [client.post(f"/v1/links/{link['id']}/restore") for link in links]
    assert [(r.status_code, r.json["dangling"]) for r in restored] == [(200, False)] * 2


def test_an_orphan_sent_back_as_read_may_be_relabelled(client, session):
    document, made = layer(session)
    put_text(client, document.id, CORRECTED)
    orphan = client.get(f"/v1/annotations/{made['allies'].id}").json
    response = client.patch(f"/v1/annotations/{orphan['id']}", json={**orphan, "label": "OPINION"})
    assert response.status_code == 200, response.json
    assert (response.json["label"], response.json["anchor"]) == ("OPINION", "orphaned")


def test_earlier_revisions_can_be_read_with_their_spans(client, session):
    document, _made = layer(session)
    put_text(client, document.id, CORRECTED)
    old = client.get(f"/v1/documents/{document.id}?revision=1")
    assert old.status_code == 200
    assert (old.json["text"], old.json["revision"], old.json["length"]) == (TEXT, 1, len(TEXT))
    assert old.headers["ETag"] != client.get(f"/v1/documents/{document.id}").headers["ETag"]
    spans = by_id(client, document.id, "&revision=1")
    assert len(spans) == 5  # the claim was placed then
    for item in spans.values():
        assert TEXT[item["start"] : item["end"]] == item["text"]
        assert item["anchor"] == "exact"
    bundle = client.get(f"/v1/documents/{document.id}?revision=1&include=annotations").json
    assert [a["text"] for a in bundle["annotations"]] == [
        "Kim Jong-un",
        "Vladimir Putin",
        "Pyongyang",
        "We are allies.",
        "allies",
    ]
    current = client.get(f"/v1/documents/{document.id}?revision=2").json
    assert current["text"] == CORRECTED


def test_earlier_revision_lists_page_and_filter(client, session):
    document, _made = layer(session)
    put_text(client, document.id, CORRECTED)
    base = f"/v1/documents/{document.id}/annotations?revision=1"
    first = client.get(f"{base}&limit=2").json
    second = client.get(f"{base}&limit=2&cursor={first['next_cursor']}").json
    third = client.get(f"{base}&limit=2&cursor={second['next_cursor']}").json
    texts = [a["text"] for page in (first, second, third) for a in page["items"]]
    assert texts == ["Kim Jong-un", "Vladimir Putin", "Pyongyang", "We are allies.", "allies"]
    assert third["next_cursor"] is None
    persons = client.get(f"{base}&label=PERSON").json["items"]
    assert [a["text"] for a in persons] == ["Kim Jong-un", "Vladimir Putin"]
    inside = client.get(f"{base}&within=50,71").json["items"]
    assert [a["text"] for a in inside] == ["We are allies.", "allies"]


def test_revisions_are_listed_with_what_each_did(client, session):
    document, _made = layer(session)
    put_text(client, document.id, CORRECTED)
    put_text(client, document.id, CORRECTED + " More.", etag='"2"')
    revisions = client.get(f"/v1/documents/{document.id}/revisions").json["items"]
    assert [(r["revision"], r["length"], r["current"]) for r in revisions] == [
        (1, len(TEXT), False),
        (2, len(CORRECTED), False),
        (3, len(CORRECTED) + 6, True),
    ]
    assert revisions[0]["anchoring"] is None
    assert revisions[0]["created_by"] == "test"
    assert revisions[1]["anchoring"]["counts"]["orphaned"] == 1
    # The orphan stays an orphan; the others were not moved by an edit at the end.
    assert revisions[2]["anchoring"]["counts"] == {
        "exact": 4,
        "shifted": 0,
        "fuzzy": 0,
        "orphaned": 1,
    }
    assert client.get(f"/v1/documents/{document.id}?revision=2").json["text"] == CORRECTED


def test_a_never_revised_document_has_one_revision(client, session):
    document = make_document(session)
    session.commit()
    (only,) = client.get(f"/v1/documents/{document.id}/revisions").json["items"]
    assert (only["revision"], only["current"], only["anchoring"]) == (1, True, None)


def test_moves_are_in_the_history(client, session):
    document, made = layer(session)
    put_text(client, document.id, CORRECTED)
    changes = client.get(f"/v1/annotations/{made['kim'].id}/history").json["items"]
    assert [c["action"] for c in changes] == ["create", "update"]
    assert (changes[1]["before"]["start"], changes[1]["after"]["start"]) == (0, 11)
    assert changes[1]["after"]["anchor"] == "shifted"
    document_changes = client.get(f"/v1/documents/{document.id}/history").json["items"]
    assert document_changes[-1]["after"]["text"] == CORRECTED


def test_the_text_needs_if_match(client, session):
    document, _made = layer(session)
    missing = put_text(client, document.id, CORRECTED, etag=None)
    assert missing.status_code == 428
    stale = put_text(client, document.id, CORRECTED, etag='"7"')
    assert stale.status_code == 412
    assert client.get(f"/v1/documents/{document.id}").json["text"] == TEXT


def test_an_unchanged_text_stores_nothing(client, session):
    document, _made = layer(session)
    response = put_text(client, document.id, TEXT)
    assert response.status_code == 200
    assert response.json["changed"] is False
    assert response.json["document"]["revision"] == 1
    assert response.json["document"]["version"] == 1


def test_bad_texts_are_refused_and_change_nothing(client, session):
    document, _made = layer(session)
    empty = put_text(client, document.id, "")
    assert empty.status_code == 422
    assert empty.json["errors"]["text"] == ["Must not be empty."]
    nul = put_text(client, document.id, "a\x00b")
    assert nul.status_code == 422
    assert nul.json["errors"]["text"] == ["must not contain U+0000"]
    unknown = client.put(
        f"/v1/documents/{document.id}/text",
        json={"text": "x", "title": "y"},
        headers={"If-Match": '"1"'},
    )
    assert unknown.status_code == 422
    assert client.get(f"/v1/documents/{document.id}").json["revision"] == 1


def test_a_revision_it_never_had_is_404(client, session):
    document, _made = layer(session)
    response = client.get(f"/v1/documents/{document.id}?revision=2")
    assert response.status_code == 404
    assert response.json["errors"]["revision"] == ["must be between 1 and 1"]
    listing = client.get(f"/v1/documents/{document.id}/annotations?revision=9")
    assert listing.status_code == 404


def test_orphans_cannot_be_had_in_other_units(client, session):
    document, made = layer(session)
    put_text(client, document.id, CORRECTED)
    response = client.get(
        f"/v1/documents/{document.id}/annotations?anchor=orphaned&offset_unit=utf16"
    )
    assert response.status_code == 400
    assert response.json["errors"]["offset_unit"] == ["must be codepoint for orphaned annotations"]
    w3c = client.get(
        f"/v1/annotations/{made['allies'].id}", headers={"Accept": "application/ld+json"}
    )
    assert w3c.status_code == 409


def test_exports_leave_orphans_and_their_links_out(client, session):
    document, made = layer(session)
    put_text(client, document.id, CORRECTED)
    exported = client.get(f"/v1/documents/{document.id}/export?format=jsonl").get_data(as_text=True)
    assert str(made["allies"].id) not in exported
    assert "about" not in exported
    assert "speaker" in exported


# A correction of the seed article as a newsroom would publish it: a figure changed in
# two places, a number revised, and a paragraph inserted after the second one.
SEED_CORRECTIONS = [
    ("reports that six North Korean", "reports that seven North Korean"),
    ("the six officers", "the seven officers"),
    ("4.8 million artillery shells", "4.9 million artillery shells"),
    (
        "were “highly likely”.\n\n",
        "were “highly likely”.\n\nThe ministry revised its estimate on Wednesday after "
        "new intelligence reached Seoul.\n\n",
    ),
]


def test_the_seed_article_corrected(client, session):
    from service.paths import project_directory
    from service.services.corpus import MANIFEST, import_folder

    (report,) = import_folder(session, project_directory("seeds", MANIFEST), actor="seed")
    session.commit()
    seed = report.document_id
    document = client.get(f"/v1/documents/{seed}").json
    text = document["text"]
    for old, new in SEED_CORRECTIONS:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    response = put_text(client, seed, text, etag=f'"{document["version"]}"')
    assert response.status_code == 200, response.json
    anchoring = response.json["anchoring"]
    # The two "six" (CARDINAL) have no place: "seven" is too different. The six quotes
    # and claims around the changed figures are found again, fuzzy, and so is "4.8
    # million"; the nine spans before the first edit stay; the rest shift.
    assert anchoring["counts"] == {"exact": 9, "shifted": 132, "fuzzy": 7, "orphaned": 2}
    orphans = [client.get(f"/v1/annotations/{i}").json for i in anchoring["orphaned_ids"]]
    assert [(o["text"], o["label"]) for o in orphans] == [("six", "CARDINAL")] * 2
    assert anchoring["dangling_links"] == 0
    placed = client.get(f"/v1/documents/{seed}?include=annotations").json["annotations"]
    assert len(placed) == 148
    for annotation in placed:
        assert text[annotation["start"] : annotation["end"]] == annotation["text"]
    fuzzy = [a["text"] for a in placed if a["anchor"] == "fuzzy"]
    assert "4.9 million" in fuzzy
