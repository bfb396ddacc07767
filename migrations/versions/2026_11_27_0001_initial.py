"""Documents, annotations, links and the label schema, with the default news schema.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from service.db import UTCDateTime

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# The default news schema, as it stood when the store was created. Later changes are
# new schema versions (PUT /v1/schema), never edits to this migration.
ONTONOTES = [
    "PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW",
    "LANGUAGE", "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL",
]  # fmt: skip
SPEAKERS = ["PERSON", "ORG", "GPE", "NORP"]
DEFAULT_ANNOTATION_TYPES = {
    "entity": {"labels": ONTONOTES},
    "quote": {"labels": ["DIRECT", "INDIRECT", "PARTIAL"]},
    "claim": {"labels": ["FACTUAL", "STATISTICAL", "CAUSAL", "PREDICTION", "OPINION"]},
}
DEFAULT_LINK_TYPES = {
    "speaker": {
        "source": {"types": ["quote"]},
        "target": {"types": ["entity"], "labels": SPEAKERS},
        "symmetric": False,
    },
    "claimant": {
        "source": {"types": ["claim"]},
        "target": {"types": ["entity"], "labels": SPEAKERS},
        "symmetric": False,
    },
    "coreference": {
        "source": {"types": ["entity"]},
        "target": {"types": ["entity"]},
        "symmetric": True,
    },
    "about": {
        "source": {"types": ["claim"]},
        "target": {"types": ["entity"]},
        "symmetric": False,
    },
    "supports": {
        "source": {"types": ["quote", "claim"]},
        "target": {"types": ["claim"]},
        "symmetric": False,
    },
    "contradicts": {
        "source": {"types": ["quote", "claim"]},
        "target": {"types": ["claim"]},
        "symmetric": False,
    },
}


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.String(length=512), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("metadata", JSON, nullable=False),
        *_stamps(),
        sa.CheckConstraint("length > 0", name=op.f("ck_documents_text_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("external_id", name=op.f("uq_documents_external_id")),
    )
    label_schemas = op.create_table(
        "label_schemas",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("annotation_types", JSON, nullable=False),
        sa.Column("link_types", JSON, nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_label_schemas")),
    )
    op.create_table(
        "annotations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=False),
        sa.Column("start_offset", sa.Integer(), nullable=False),
        sa.Column("end_offset", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attributes", JSON, nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        *_stamps(),
        sa.CheckConstraint(
            "status IN ('proposed', 'accepted', 'rejected')",
            name=op.f("ck_annotations_status_vocabulary"),
        ),
        sa.CheckConstraint(
            "start_offset >= 0 AND start_offset < end_offset",
            name=op.f("ck_annotations_span_order"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_annotations_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotations")),
    )
    op.create_index(
        "ix_annotations_document_span",
        "annotations",
        ["document_id", "start_offset", "end_offset", "id"],
    )
    op.create_table(
        "links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("attributes", JSON, nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        *_stamps(),
        sa.CheckConstraint("source_id <> target_id", name=op.f("ck_links_distinct_ends")),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_links_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["annotations.id"],
            name=op.f("fk_links_source_id_annotations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["annotations.id"],
            name=op.f("fk_links_target_id_annotations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_links")),
        sa.UniqueConstraint(
            "type", "source_id", "target_id", name=op.f("uq_links_type_source_id_target_id")
        ),
    )
    op.create_index("ix_links_document_id", "links", ["document_id", "id"])
    op.create_index(op.f("ix_links_source_id"), "links", ["source_id"])
    op.create_index(op.f("ix_links_target_id"), "links", ["target_id"])

    op.bulk_insert(
        label_schemas,
        [
            {
                "version": 1,
                "annotation_types": DEFAULT_ANNOTATION_TYPES,
                "link_types": DEFAULT_LINK_TYPES,
                "created_by": "migration",
                "created_at": datetime.now(UTC),
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("links")
    op.drop_table("annotations")
    op.drop_table("label_schemas")
    op.drop_table("documents")
