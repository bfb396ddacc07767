"""Link ends checked under their lock (PostgreSQL)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.orm import Session

from service import migrate
from service.db import make_engine
from service.errors import InvalidLink
from service.models import Annotation
from service.services import links
from tests.conftest import scratch_database
from tests.factories import make_annotation, make_document


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="PostgreSQL's row locks; SQLite has one writer at a time",
)
def test_an_end_is_checked_as_it_is_once_locked_not_as_first_read(tmp_path):
    """A link reads its source first for its document, then locks and checks it: the
    check sees a change of the text that orphaned it meanwhile."""
    with scratch_database(tmp_path) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        try:
            with Session(engine) as setup:
                kim_id = make_annotation(setup, make_document(setup, "Kim met Putin."), "Kim").id
                setup.commit()
            with Session(engine) as linking, Session(engine) as editing:
                assert links._end(linking, "source_id", kim_id).anchor == "exact"
                editing.get_one(Annotation, kim_id).anchor = "orphaned"
                editing.commit()
                with pytest.raises(InvalidLink, match="is orphaned"):
                    links._end(linking, "source_id", kim_id, lock=True)
        finally:
            engine.dispose()
