"""PostgreSQL writes each annotation's confidence into its API form too
(``annotations.api_json``), exactly (service.models.annotation_json), so that the lists
send the database's text as it is, without finding and filling the confidence of each
annotation in Python.

The column is made again from the new function: the table is rewritten, locked
meanwhile, as migration 0006 did (7 s for a million annotations here). Nothing changes
on SQLite, which cannot write every double exactly.

Revision ID: 0008_api_json_confidence
Revises: 0007_search_vector_inline
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

from service.models.annotation_json import VERSION_1, VERSION_2, Version

revision: str = "0008_api_json_confidence"
down_revision: str | None = "0007_search_vector_inline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _replace(old: Version, new: Version) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE annotations DROP COLUMN api_json")
    op.execute(old.drop)
    # As it is: its JSON text has colons that text() would take for parameters.
    op.get_bind().exec_driver_sql(new.create)
    op.execute(
        "ALTER TABLE annotations ADD COLUMN api_json text "
        f"GENERATED ALWAYS AS ({new.expression}) STORED"
    )


def upgrade() -> None:
    _replace(VERSION_1, VERSION_2)


def downgrade() -> None:
    _replace(VERSION_2, VERSION_1)
