"""No edit lost or applied twice, under gunicorn with several workers: concurrent
read-modify-write with If-Match, a change-feed consumer rebuilding the store during a
mixed workload, and batches retried after their worker was killed."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest

from tests.conftest import scratch_database
from tests.live import Client, LiveServer, live_server

CLIENTS = 8
EDITS = 200


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("live")
    with scratch_database(tmp) as url, live_server(url, tmp) as live:
        yield live


def new_document(client: Client, text: str) -> str:
    response = client.request("POST", "/v1/documents", {"text": text})
    assert response.status == 201, response.body
    return response.body["id"]


def new_annotation(client: Client, document_id: str, start: int, end: int) -> dict[str, Any]:
    body = {"type": "entity", "label": "PERSON", "start": start, "end": end}
    response = client.request("POST", f"/v1/documents/{document_id}/annotations", body)
    assert response.status == 201, response.body
    return response.body


def test_concurrent_read_modify_write_loses_no_update(server: LiveServer):
    setup = server.client()
    document_id = new_document(setup, "Kim met Putin in Pyongyang.")
    targets = [
        new_annotation(setup, document_id, 0, 3)["id"],
        new_annotation(setup, document_id, 8, 13)["id"],
    ]

    def annotator(number: int) -> list[tuple[str, int, int]]:
        client, done, rng = server.client(), [], random.Random(number)
        for edit in range(EDITS):
            annotation_id = rng.choice(targets)
            while True:
                current = client.get(f"/v1/annotations/{annotation_id}")
                count = current.body["attributes"].get("count", 0)
                attributes = {"count": count + 1, "by": number, "edit": edit}
                response = client.request(
                    "PATCH",
                    f"/v1/annotations/{annotation_id}",
                    {"attributes": attributes},
                    {"If-Match": current.headers["ETag"]},
                )
                if response.status == 200:
                    done.append((annotation_id, response.body["version"], number * EDITS + edit))
                    break
                assert response.status == 412, response.body
        return done

    with ThreadPoolExecutor(CLIENTS) as pool:
        successes = [s for batch in pool.map(annotator, range(CLIENTS)) for s in batch]
    assert len(successes) == CLIENTS * EDITS

    client = server.client()
    for annotation_id in targets:
        mine = sorted((v, e) for a, v, e in successes if a == annotation_id)
        final = client.get(f"/v1/annotations/{annotation_id}").body
        # Every successful edit read the previous one: the counter saw them all.
        assert final["attributes"]["count"] == len(mine)
        assert final["version"] == len(mine) + 1
        assert [v for v, _ in mine] == list(range(2, len(mine) + 2))
        _, last_edit = mine[-1]
        assert final["attributes"]["by"] * EDITS + final["attributes"]["edit"] == last_edit
        updates = [
            c
            for c in client.all_items(f"/v1/annotations/{annotation_id}/history")
            if c["action"] == "update"
        ]
        assert [c["after"]["version"] for c in updates] == [v for v, _ in mine]
        assert [
            c["after"]["attributes"]["by"] * EDITS + c["after"]["attributes"]["edit"]
            for c in updates
        ] == [e for _, e in mine]


def apply(state: dict[tuple[str, str], dict[str, Any]], change: dict[str, Any]) -> None:
    key = (change["resource"], change["id"])
    if change["action"] == "delete":
        state.pop(key, None)
    else:
        state[key] = change["after"]


def test_a_feed_consumer_rebuilds_the_store_during_a_concurrent_workload(server: LiveServer):
    client = server.client()
    start = client.get("/v1/changes?limit=1000")
    cursor = start.body["next_cursor"]
    while start.body["items"]:
        start = client.get(f"/v1/changes?limit=1000&cursor={cursor}")
        cursor = start.body["next_cursor"]
    # The consumer starts from an empty picture of everything written from now on.
    state: dict[tuple[str, str], dict[str, Any]] = {}
    seen: list[int] = []
    stop = threading.Event()

    def consume() -> None:
        nonlocal cursor
        feed = server.client()
        while True:
            # Read before the page is asked for: an empty page asked for after every
            # writer finished is the end; one asked for before may miss their last
            # commits.
            writers_done = stop.is_set()
            page = feed.get(f"/v1/changes?limit=200&cursor={cursor}").body
            for change in page["items"]:
                seen.append(change["seq"])
                apply(state, change)
            cursor = page["next_cursor"]
            if not page["items"]:
                if writers_done:
                    return
                time.sleep(0.01)

    def workload(number: int) -> set[str]:
        worker, rng, documents = server.client(), random.Random(number), set()
        for _ in range(15):
            text = f"Document {number}: Kim met Putin in Pyongyang."
            document_id = new_document(worker, text)
            documents.add(document_id)
            made = [
                new_annotation(worker, document_id, text.index(w), text.index(w) + len(w))
                for w in ("Kim", "Putin", "Pyongyang")
            ]
            worker.request(
                "POST",
                "/v1/links",
                {"type": "coreference", "source_id": made[0]["id"], "target_id": made[1]["id"]},
            )
            worker.request("PATCH", f"/v1/annotations/{made[2]['id']}", {"label": "GPE"})
            worker.request("PATCH", f"/v1/documents/{document_id}", {"title": f"t{number}"})
            choice = rng.random()
            if choice < 0.3:
                worker.request("DELETE", f"/v1/annotations/{made[0]['id']}")
                if rng.random() < 0.5:
                    worker.request("POST", f"/v1/annotations/{made[0]['id']}/restore")
            elif choice < 0.45:
                worker.request("DELETE", f"/v1/documents/{document_id}")
                documents.discard(document_id)
        return documents

    consumer = threading.Thread(target=consume)
    consumer.start()
    try:
        with ThreadPoolExecutor(6) as pool:
            documents = set().union(*pool.map(workload, range(6)))
    finally:
        stop.set()
        consumer.join(timeout=120)

    assert seen == sorted(seen), "a change came out of order"
    assert len(seen) == len(set(seen)), "a change was repeated"
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    for document_id in documents:
        expected[("document", document_id)] = client.get(f"/v1/documents/{document_id}").body
        for item in client.all_items(f"/v1/documents/{document_id}/annotations"):
            expected[("annotation", item["id"])] = item
        for item in client.all_items(f"/v1/documents/{document_id}/links"):
            expected[("link", item["id"])] = item
    rebuilt = {key: value for key, value in state.items() if key[0] != "schema"}
    assert rebuilt == expected


def batch_body(size: int) -> dict[str, Any]:
    return {
        "annotations": [
            {"type": "entity", "label": "CARDINAL", "start": 5 * i, "end": 5 * i + 4}
            for i in range(size)
        ]
    }


def raw_post(port: int, path: str, body: dict[str, Any], headers: dict[str, str]) -> socket.socket:
    """Send a whole request on a fresh socket and return the socket, unread."""
    payload = json.dumps(body).encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n{head}\r\n".encode()
        + payload
    )
    return sock


def status_of(sock: socket.socket) -> int | None:
    """The status line's code, or None if the server died before answering."""
    with sock:
        try:
            first = sock.makefile("rb").readline()
        except OSError:
            return None
    return int(first.split()[1]) if first else None


@pytest.fixture(scope="module")
def batch_seconds(server: LiveServer) -> float:
    """How long this machine takes to write one 10,000-annotation batch."""
    client = server.client()
    document_id = new_document(client, "word " * 10_000)
    started = time.perf_counter()
    response = client.request(
        "POST", f"/v1/documents/{document_id}/annotations/batch", batch_body(10_000)
    )
    assert response.status == 201
    return time.perf_counter() - started


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_a_batch_retried_after_its_worker_was_killed_is_written_once(
    server: LiveServer, batch_seconds: float, fraction: float
):
    client = server.client()
    size = 10_000
    document_id = new_document(client, "word " * size)
    key = f"killed-{fraction}"
    url = f"/v1/documents/{document_id}/annotations/batch"

    sock = raw_post(server.port, url, batch_body(size), {"Idempotency-Key": key})
    time.sleep(fraction * batch_seconds)  # the request is in the worker's hands
    for pid in server.worker_pids():
        os.kill(pid, signal.SIGKILL)
    outcome = status_of(sock)
    assert outcome in (None, 201)
    if fraction < 0.5:
        assert outcome is None, "the worker answered before it was killed"

    for _ in range(100):  # the master replaces the killed workers
        try:
            retry = server.client().request("POST", url, batch_body(size), {"Idempotency-Key": key})
            break
        except OSError:
            time.sleep(0.1)
    assert retry.status == 201, retry.body
    assert len(client.all_items(f"/v1/documents/{document_id}/annotations")) == size
    again = client.request("POST", url, batch_body(size), {"Idempotency-Key": key})
    assert again.status == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(client.all_items(f"/v1/documents/{document_id}/annotations")) == size


def test_two_concurrent_requests_with_one_key_write_once(server: LiveServer):
    client = server.client()
    document_id = new_document(client, "word " * 2_000)
    url = f"/v1/documents/{document_id}/annotations/batch"

    def send(_: int):
        return server.client().request(
            "POST", url, batch_body(2_000), {"Idempotency-Key": "together"}
        )

    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(send, range(4)))
    assert {r.status for r in responses} == {201}
    assert len({tuple(a["id"] for a in r.body["annotations"]) for r in responses}) == 1
    assert len(client.all_items(f"/v1/documents/{document_id}/annotations")) == 2_000


def test_annotations_made_while_the_text_changes_fit_the_text(server: LiveServer):
    """Annotating and correcting the text at the same time: every annotation ends up
    checked against the text it is stored with (the document's row lock on
    PostgreSQL, one writer at a time on SQLite), so none holds a stale span."""
    setup = server.client()
    words = [f"word{i:03d}" for i in range(300)]
    document_id = new_document(setup, " ".join(words))
    stop = threading.Event()

    def annotator(number: int) -> int:
        client, rng, made = server.client(), random.Random(number), 0
        deadline = time.monotonic() + 120
        while not stop.is_set() and time.monotonic() < deadline:
            text = client.get(f"/v1/documents/{document_id}").body["text"]
            word = rng.choice(words)
            start = text.find(word)
            if start < 0:
                continue
            body = {"type": "entity", "label": "PERSON", "start": start, "end": start + 7}
            body["text"] = word
            response = client.request("POST", f"/v1/documents/{document_id}/annotations", body)
            # 422: the text changed between the read and the write; the span was refused.
            assert response.status in (201, 422), response.body
            made += response.status == 201
        return made

    def editor() -> None:
        client = server.client()
        try:
            for round_ in range(15):
                current = client.get(f"/v1/documents/{document_id}")
                # Insert a word at the front: everything after it shifts.
                response = client.request(
                    "PUT",
                    f"/v1/documents/{document_id}/text",
                    {"text": f"edit{round_:02d} " + current.body["text"]},
                    {"If-Match": current.headers["ETag"]},
                )
                assert response.status in (200, 412), response.body
        finally:
            stop.set()

    with ThreadPoolExecutor(5) as pool:
        made = [pool.submit(annotator, n) for n in range(4)]
        pool.submit(editor).result()
        created = sum(f.result() for f in made)
    assert created > 0
    final = setup.get(f"/v1/documents/{document_id}").body
    stored = setup.all_items(f"/v1/documents/{document_id}/annotations")
    assert len(stored) == created
    for annotation in stored:
        assert final["text"][annotation["start"] : annotation["end"]] == annotation["text"]
        assert annotation["text"].startswith("word")


def test_symmetric_links_made_both_ways_at_once_are_one_link(server: LiveServer):
    """coreference (a, b) and (b, a) sent at the same moment: one is created, the other
    is the 409 of a duplicate; never two links."""
    setup = server.client()
    words = " ".join(f"Name{i:02d}" for i in range(40))
    document_id = new_document(setup, words)
    mentions = [new_annotation(setup, document_id, 7 * i, 7 * i + 6)["id"] for i in range(40)]
    pairs = list(zip(mentions[0::2], mentions[1::2], strict=True))
    barrier = threading.Barrier(2)

    def link(ends: tuple[str, str]) -> int:
        client = server.client()
        barrier.wait()
        body = {"type": "coreference", "source_id": ends[0], "target_id": ends[1]}
        return client.request("POST", "/v1/links", body).status

    statuses = []
    with ThreadPoolExecutor(2) as pool:
        for a, b in pairs:
            statuses.append(sorted(pool.map(link, [(a, b), (b, a)])))
    assert statuses == [[201, 409]] * len(pairs)
    stored = setup.all_items(f"/v1/documents/{document_id}/links")
    assert len(stored) == len(pairs)


def _versions_follow_on(client: Client, kind: str, item_id: str) -> list[str]:
    """The actions of a resource's history, once each after's version is checked to be
    one more than the last (no write recorded that did not happen)."""
    entries = client.all_items(f"/v1/{kind}/{item_id}/history")
    version = 0
    for entry in entries:
        if entry["after"] is not None:
            assert entry["after"]["version"] == version + 1, entries
            version = entry["after"]["version"]
    return [entry["action"] for entry in entries]


def test_labels_edited_while_the_text_changes_keep_every_span_on_its_text(server: LiveServer):
    """Label PATCHes (which need no lock of the document) racing changes of the text
    that move every span: each PATCH lands before the move or is 412 after it, and no
    move is recorded that was not made."""
    setup = server.client()
    words = [f"word{i:03d}" for i in range(400)]
    document_id = new_document(setup, " ".join(words))
    body = {
        "annotations": [
            {"type": "entity", "label": "PERSON", "start": 8 * i, "end": 8 * i + 7}
            for i in range(len(words))
        ]
    }
    made = setup.request("POST", f"/v1/documents/{document_id}/annotations/batch", body)
    assert made.status == 201, made.body
    ids = [a["id"] for a in made.body["annotations"]]
    stop = threading.Event()

    def labeller(number: int) -> int:
        client, rng, done = server.client(), random.Random(number), 0
        while not stop.is_set():
            annotation_id = rng.choice(ids)
            current = client.get(f"/v1/annotations/{annotation_id}")
            label = "ORG" if current.body["label"] == "PERSON" else "PERSON"
            response = client.request(
                "PATCH",
                f"/v1/annotations/{annotation_id}",
                {"label": label},
                {"If-Match": current.headers["ETag"]},
            )
            assert response.status in (200, 412), response.body
            done += response.status == 200
        return done

    def editor() -> None:
        client = server.client()
        try:
            for round_ in range(8):
                time.sleep(0.05)  # room for label edits between the moves, as well as during
                current = client.get(f"/v1/documents/{document_id}")
                response = client.request(
                    "PUT",
                    f"/v1/documents/{document_id}/text",
                    {"text": f"edit{round_:02d} " + current.body["text"]},
                    {"If-Match": current.headers["ETag"]},
                )
                assert response.status == 200, response.body
        finally:
            stop.set()

    with ThreadPoolExecutor(5) as pool:
        labellers = [pool.submit(labeller, n) for n in range(4)]
        pool.submit(editor).result()
        assert sum(f.result() for f in labellers) > 0
    text = setup.get(f"/v1/documents/{document_id}").body["text"]
    stored = setup.all_items(f"/v1/documents/{document_id}/annotations")
    assert len(stored) == len(ids)
    for annotation in stored:
        assert text[annotation["start"] : annotation["end"]] == annotation["text"]
        assert annotation["anchor"] == "shifted"
    for annotation_id in ids[::20]:
        _versions_follow_on(setup, "annotations", annotation_id)


def _at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Each call in a thread of its own, released together; their answers in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result() for future in [pool.submit(run, call) for call in calls]]


def _after(seconds: float, client: Client, *request: Any) -> Any:
    time.sleep(seconds)
    return client.request(*request)


def test_links_made_while_their_end_is_deleted_are_kept_or_recorded_deleted(server: LiveServer):
    """A link created as its source is deleted: it is refused, or it is committed first
    and its deletion is recorded with the annotation's (and restored with it)."""
    client = server.client()
    for round_ in range(12):
        document_id = new_document(client, "Kim met Putin and Xi.")
        kim = new_annotation(client, document_id, 0, 3)
        others = [new_annotation(client, document_id, s, e) for s, e in ((8, 13), (18, 20))]
        links = [
            partial(
                server.client().request,
                "POST",
                "/v1/links",
                {"type": "coreference", "source_id": kim["id"], "target_id": other["id"]},
            )
            for other in others
        ]
        deletion = partial(
            _after, round_ % 4 * 0.003, server.client(), "DELETE", f"/v1/annotations/{kim['id']}"
        )
        *made, deleted = _at_once(*links, deletion)
        assert deleted.status == 204, deleted.body
        created = []
        for answer in made:
            assert answer.status in (201, 409, 422), answer.body
            if answer.status == 201:
                created.append(answer.body["id"])
                assert _versions_follow_on(client, "links", answer.body["id"]) == [
                    "create",
                    "delete",
                ]
        restored = client.request("POST", f"/v1/annotations/{kim['id']}/restore")
        assert restored.status == 200, restored.body
        assert sorted(link["id"] for link in restored.body["links"]) == sorted(created)


@pytest.mark.parametrize("orphaned", ["source", "target"])
def test_a_link_to_an_end_being_orphaned_is_refused_or_flagged(server: LiveServer, orphaned: str):
    """A link made while a change of the text orphans one of its ends: refused, or made
    and flagged dangling. The text is long and annotated, so that the change takes a
    while and the link's first look at its ends falls within it."""
    client = server.client()
    filler = " ".join(f"w{i:04d}" for i in range(1_500))
    text = "Kim met Putin. " + filler
    corrected = {"source": "Xi met Putin. ", "target": "Kim met Xi. "}[orphaned] + filler
    for round_ in range(10):
        document_id = new_document(client, text)
        ends = {
            "source": new_annotation(client, document_id, 0, 3),
            "target": new_annotation(client, document_id, 8, 13),
        }
        layer = [
            {"type": "entity", "label": "PERSON", "start": 15 + 6 * i, "end": 20 + 6 * i}
            for i in range(0, 1_500, 2)
        ]
        made = client.request(
            "POST", f"/v1/documents/{document_id}/annotations/batch", {"annotations": layer}
        )
        assert made.status == 201, made.body
        link = {"type": "coreference", "source_id": ends["source"]["id"]}
        link["target_id"] = ends["target"]["id"]
        made, edited = _at_once(
            partial(_after, round_ % 5 * 0.004, server.client(), "POST", "/v1/links", link),
            partial(
                server.client().request,
                "PUT",
                f"/v1/documents/{document_id}/text",
                {"text": corrected},
                {"If-Match": '"1"'},
            ),
        )
        assert edited.status == 200, edited.body
        assert edited.body["anchoring"]["orphaned_ids"] == [ends[orphaned]["id"]]
        assert made.status in (201, 422), made.body
        if made.status == 201:
            assert client.get(f"/v1/links/{made.body['id']}").body["dangling"] is True


def test_two_schema_changes_from_one_version_one_is_412(server: LiveServer):
    client = server.client()
    for round_ in range(6):
        read = client.get("/v1/schema")
        changes = []
        for label in (f"ONE{round_}", f"TWO{round_}"):
            body = {
                "annotation_types": read.body["annotation_types"],
                "link_types": read.body["link_types"],
            }
            body = json.loads(json.dumps(body))
            body["annotation_types"]["entity"]["labels"].append(label)
            changes.append(
                partial(
                    server.client().request,
                    "PUT",
                    "/v1/schema",
                    body,
                    {"If-Match": read.headers["ETag"]},
                )
            )
        answers = _at_once(*changes)
        assert sorted(a.status for a in answers) == [200, 412], [a.body for a in answers]


def test_concurrent_retries_of_a_link_with_one_key_all_get_its_answer(server: LiveServer):
    """The retries that run while the first is writing are refused as duplicates by
    the link it wrote: each gets the first's stored answer instead of that 409."""
    client = server.client()
    for round_ in range(5):
        document_id = new_document(client, "Kim met Putin.")
        kim, putin = (
            new_annotation(client, document_id, 0, 3),
            new_annotation(client, document_id, 8, 13),
        )
        body = {"type": "coreference", "source_id": kim["id"], "target_id": putin["id"]}
        headers = {"Idempotency-Key": f"link-{round_}"}
        sends = [
            partial(server.client().request, "POST", "/v1/links", body, headers) for _ in range(8)
        ]
        answers = _at_once(*sends)
        assert {(a.status, a.body["id"]) for a in answers} == {(201, answers[0].body["id"])}
        assert len(client.all_items(f"/v1/documents/{document_id}/links")) == 1


def test_a_label_removed_while_it_is_used_is_refused_one_way_or_the_other(server: LiveServer):
    """PUT /v1/schema without a label, racing an annotation with it: the schema change
    waits for the write and is refused (409), or the write waits for the change and is
    refused (422); never both in force."""
    client = server.client()
    schema = client.get("/v1/schema").body
    keep = {"annotation_types": schema["annotation_types"], "link_types": schema["link_types"]}
    narrowed = json.loads(json.dumps(keep))
    narrowed["annotation_types"]["entity"]["labels"].remove("LAW")
    document_id = new_document(client, "The Military Service Act was passed.")
    for round_ in range(12):
        annotate = partial(
            _after,
            round_ % 3 * 0.002,
            server.client(),
            "POST",
            f"/v1/documents/{document_id}/annotations",
            {"type": "entity", "label": "LAW", "start": 4, "end": 25},
        )
        change = partial(server.client().request, "PUT", "/v1/schema", narrowed)
        made, changed = _at_once(annotate, change)
        assert (made.status, changed.status) in {(201, 409), (422, 200)}, (made.body, changed.body)
        if made.status == 201:
            assert client.request("DELETE", f"/v1/annotations/{made.body['id']}").status == 204
        else:
            assert client.request("PUT", "/v1/schema", keep).status == 200


def _pubannotation(external_id: str) -> dict[str, Any]:
    return {
        "text": f"Kim met Putin in {external_id}.",
        "sourceid": external_id,
        "denotations": [{"id": "T1", "span": {"begin": 0, "end": 3}, "obj": "PERSON"}],
    }


def test_imports_of_the_same_documents_in_opposite_orders_both_land(server: LiveServer):
    """Each import locks and creates its documents in one order, whatever the input's:
    two imports naming the same new documents the other way round do not deadlock, and
    each document is made once, whichever import makes it."""
    clients = [server.client(), server.client()]
    for round_ in range(6):
        names = [f"order-{round_}-a.txt", f"order-{round_}-b.txt"]
        bodies = [[_pubannotation(n) for n in names], [_pubannotation(n) for n in names[::-1]]]
        answers = _at_once(
            *(
                partial(client.request, "POST", "/v1/import?format=pubannotation", body)
                for client, body in zip(clients, bodies, strict=True)
            )
        )
        assert [a.status for a in answers] == [200, 200], [a.body for a in answers]
        reports = [report for answer in answers for report in answer.body["documents"]]
        for name in names:
            made = [r["document_created"] for r in reports if r["external_id"] == name]
            assert sorted(made) == [False, True]
            found = clients[0].all_items(f"/v1/documents?external_id={name}")
            assert len(found) == 1
            annotations = clients[0].all_items(f"/v1/documents/{found[0]['id']}/annotations")
            assert [(a["start"], a["end"]) for a in annotations] == [(0, 3)]


def _two_mentions(external_id: str | None, text: str) -> dict[str, Any]:
    """A document of ``text`` with "Kim" and "Putin" and a coreference link between them."""
    body: dict[str, Any] = {
        "text": text,
        "denotations": [
            {"id": "T1", "span": {"begin": 0, "end": 3}, "obj": "PERSON"},
            {"id": "T2", "span": {"begin": 8, "end": 13}, "obj": "PERSON"},
        ],
        "relations": [{"id": "R1", "subj": "T1", "pred": "coreference", "obj": "T2"}],
    }
    if external_id is not None:
        body["sourceid"] = external_id
    return body


def test_imports_reaching_one_document_by_different_names_take_turns(server: LiveServer):
    """One import names stored documents by external_id (with a corrected text), the
    other by their stored text alone, both linking the stored mentions: they lock the
    same documents, in one order, so neither deadlocks and the later one matches what
    the earlier wrote."""
    setup, clients = server.client(), [server.client(), server.client()]
    for round_ in range(5):
        names = [f"reach-{round_}-{n}.txt" for n in range(2)]
        texts = [f"Kim met Putin in {name}." for name in names]
        stored = setup.request(
            "POST",
            "/v1/import?format=pubannotation",
            [
                {**_two_mentions(name, text), "relations": []}
                for name, text in zip(names, texts, strict=True)
            ],
        )
        assert stored.status == 200, stored.body
        fillers = [
            [
                _two_mentions(
                    f"filler-{round_}-{side}-{n}.txt", f"Kim met Putin, {round_}-{side}-{n}."
                )
                for n in range(6)
            ]
            for side in range(2)
        ]
        # Each starts with the document the other ends with: the links' locks of the two
        # are taken in opposite orders unless the imports take turns.
        by_name = [_two_mentions(n, t + " More.") for n, t in zip(names, texts, strict=True)]
        by_text = [_two_mentions(None, t) for t in texts[::-1]]
        bodies = [
            [by_name[0], *fillers[0], by_name[1]],
            [by_text[0], *fillers[1], by_text[1]],
        ]
        answers = _at_once(
            *(
                partial(client.request, "POST", "/v1/import?format=pubannotation", body)
                for client, body in zip(clients, bodies, strict=True)
            )
        )
        assert [a.status for a in answers] == [200, 200], [a.body for a in answers]
        for stored_document in stored.body["documents"]:
            document_id = stored_document["id"]
            spans = setup.all_items(f"/v1/documents/{document_id}/annotations")
            assert sorted((a["start"], a["end"]) for a in spans) == [(0, 3), (8, 13)]
            assert len(setup.all_items(f"/v1/documents/{document_id}/links")) == 1
