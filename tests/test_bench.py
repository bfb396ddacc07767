"""The benchmark's plain yardstick answers with the same rows as the service."""

from __future__ import annotations

import random
import uuid

from bench import corpus, plain
from service import migrate
from service.app import create_app
from service.db import make_engine
from tests.conftest import scratch_database


def test_plain_yardstick_reads_the_rows_the_service_lists(tmp_path, monkeypatch):
    with scratch_database(tmp_path) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        app = create_app({"DATABASE_URL": url, "AUTH_MODE": "none"})
        client = app.test_client()
        made = corpus.document(random.Random(5))
        document_id = client.post("/v1/documents", json={"text": made.text}).json["id"]
        written = client.post(
            f"/v1/documents/{document_id}/annotations/batch",
            json={"annotations": made.annotations, "links": made.links},
        )
        assert written.status_code == 201, written.json
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setattr(plain, "_engines", {})
        yardstick = plain.app.test_client()
        try:
            for query in ("limit=100", "limit=7"):
                path = f"/v1/documents/{document_id}/annotations?{query}"
                listed, read = client.get(path).json, yardstick.get(path).json
                assert len(read["items"]) == len(listed["items"]) > 0
                assert (read["next_cursor"] is None) == (listed["next_cursor"] is None)
                for mine, theirs in zip(read["items"], listed["items"], strict=True):
                    assert uuid.UUID(mine["id"]) == uuid.UUID(theirs["id"])
                    assert set(mine) == set(theirs)
                    for name in ("start", "end", "text", "label", "attributes", "version"):
                        assert mine[name] == theirs[name]
        finally:
            app.extensions["db"].engine.dispose()
            for made_engine in plain._engines.values():
                made_engine.dispose()
