"""Each annotation's API form as a generated column, ``annotations.api_json``, which
the lists send as it is (service.models.annotation_json).

PostgreSQL keeps it STORED: adding it rewrites the table (about a minute per million
annotations, the table locked meanwhile). SQLite can add only a VIRTUAL column, and
keeps its values in the index the lists read, which takes the place of the span index
there (it has the same leading columns).

Revision ID: 0006_annotation_api_json
Revises: 0005_text_revisions
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

from service.models import annotation_json

revision: str = "0006_annotation_api_json"
down_revision: str | None = "0005_text_revisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SPAN_COLUMNS = ["document_id", "start_offset", "end_offset", "id"]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # As it is: its JSON text has colons that text() would take for parameters.
        op.get_bind().exec_driver_sql(annotation_json.VERSION_1.create)
        op.execute(
            "ALTER TABLE annotations ADD COLUMN api_json text "
            f"GENERATED ALWAYS AS ({annotation_json.VERSION_1.expression}) STORED"
        )
        return
    op.execute(
        "ALTER TABLE annotations ADD COLUMN api_json TEXT "
        f"GENERATED ALWAYS AS ({annotation_json.SQLITE}) VIRTUAL"
    )
    op.create_index(
        "ix_annotations_document_api_json",
        "annotations",
        [*SPAN_COLUMNS, "anchor", "confidence", "api_json"],
    )
    op.drop_index("ix_annotations_document_span", "annotations")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE annotations DROP COLUMN api_json")
        op.execute(annotation_json.VERSION_1.drop)
        return
    op.create_index("ix_annotations_document_span", "annotations", SPAN_COLUMNS)
    op.drop_index("ix_annotations_document_api_json", "annotations")
    op.execute("ALTER TABLE annotations DROP COLUMN api_json")
