"""Text revisions: superseded texts, where each annotation was in them, how each
annotation came through the last change (anchor), and links flagged when an end is
orphaned.

Revision ID: 0005_text_revisions
Revises: 0004_search_and_span_indexes
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from service.db import UTCDateTime

revision: str = "0005_text_revisions"
down_revision: str | None = "0004_search_and_span_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # Plain ALTER TABLEs, which both databases run in place: SQLite's batch mode would
    # copy and drop the annotations table, and dropping it would cascade to links.
    op.execute("ALTER TABLE documents ADD COLUMN revision INTEGER DEFAULT 1 NOT NULL")
    op.execute(
        "ALTER TABLE annotations ADD COLUMN anchor VARCHAR(16) DEFAULT 'exact' NOT NULL "
        "CONSTRAINT ck_annotations_anchor_vocabulary "
        "CHECK (anchor IN ('exact', 'shifted', 'fuzzy', 'orphaned'))"
    )
    op.execute("ALTER TABLE links ADD COLUMN dangling BOOLEAN DEFAULT false NOT NULL")
    op.create_table(
        "document_revisions",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("anchoring", JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_revisions_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", "revision", name=op.f("pk_document_revisions")),
    )
    op.create_table(
        "annotation_spans",
        sa.Column("annotation_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("start_offset", sa.Integer(), nullable=False),
        sa.Column("end_offset", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("anchor", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotation_id"],
            ["annotations.id"],
            name=op.f("fk_annotation_spans_annotation_id_annotations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_annotation_spans_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("annotation_id", "revision", name=op.f("pk_annotation_spans")),
    )
    op.create_index(
        "ix_annotation_spans_document_revision",
        "annotation_spans",
        ["document_id", "revision", "start_offset", "end_offset", "annotation_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_annotation_spans_document_revision", "annotation_spans")
    op.drop_table("annotation_spans")
    op.drop_table("document_revisions")
    for table, column in (
        ("links", "dangling"),
        ("annotations", "anchor"),
        ("documents", "revision"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
