"""Full-text search over documents, and the index behind overlap queries.

SQLite gets an FTS5 table kept in step with documents by triggers; PostgreSQL a
generated tsvector column with a GIN index. Both use language-neutral tokens (no
stemming), so that a search finds the same documents on either database.

Revision ID: 0004_search_and_span_indexes
Revises: 0003_history_and_idempotency
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_search_and_span_indexes"
down_revision: str | None = "0003_history_and_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# tsvector has a 1 MB ceiling: only the first this-many code points are searchable.
SEARCHABLE_PREFIX = 250_000


def upgrade() -> None:
    # Spans that end after a point: with the (document_id, start) index, both ends
    # of an overlap query [S, E) are bounded.
    op.create_index("ix_annotations_document_end", "annotations", ["document_id", "end_offset"])
    op.create_index("ix_documents_published_at", "documents", ["published_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE documents ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
            f"setweight(to_tsvector('simple', left(text, {SEARCHABLE_PREFIX})), 'B')) STORED"
        )
        op.execute("CREATE INDEX ix_documents_search ON documents USING gin (search_vector)")
        return
    op.execute(
        "CREATE VIRTUAL TABLE documents_fts USING fts5(title, text, content='documents', "
        "content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN "
        "INSERT INTO documents_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text); "
        "END"
    )
    op.execute(
        "CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN "
        "INSERT INTO documents_fts(documents_fts, rowid, title, text) "
        "VALUES ('delete', old.rowid, old.title, old.text); END"
    )
    op.execute(
        "CREATE TRIGGER documents_fts_update AFTER UPDATE OF title, text ON documents BEGIN "
        "INSERT INTO documents_fts(documents_fts, rowid, title, text) "
        "VALUES ('delete', old.rowid, old.title, old.text); "
        "INSERT INTO documents_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text); "
        "END"
    )
    op.execute("INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_documents_search")
        op.execute("ALTER TABLE documents DROP COLUMN search_vector")
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER documents_fts_{trigger}")
        op.execute("DROP TABLE documents_fts")
    op.drop_index("ix_documents_published_at", "documents")
    op.drop_index("ix_annotations_document_end", "annotations")
