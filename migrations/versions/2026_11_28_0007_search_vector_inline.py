"""PostgreSQL keeps each document's search vector in the document's row (storage MAIN)
rather than in its TOAST table, where it went by default once the row passed about
2 kB: a search that many documents match reads and ranks every match's vector, and
fetching each from the TOAST table, twice (to match, then to rank), cost most of its
time (16,666 documents, all matching: 69 ms now, 166 ms before). A vector still goes
out of line when the row would not fit a page otherwise.

The column is made again, so that the rows already stored are rewritten with it
(seconds per ten thousand documents, the table locked meanwhile). Nothing changes on
SQLite.

Revision ID: 0007_search_vector_inline
Revises: 0006_annotation_api_json
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_search_vector_inline"
down_revision: str | None = "0006_annotation_api_json"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The expression of the column as it stands (migration 0004's).
EXPRESSION = (
    "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a "
    "ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
    "WHERE d.adrelid = 'documents'::regclass AND a.attname = 'search_vector'"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    connection = op.get_bind()
    expression = connection.exec_driver_sql(EXPRESSION).scalar_one()
    op.execute("DROP INDEX ix_documents_search")
    # One statement: the table is rewritten once, after the storage is set. As it is
    # (exec_driver_sql): text() would take the expression's casts for parameters.
    connection.exec_driver_sql(
        "ALTER TABLE documents DROP COLUMN search_vector, "
        f"ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({expression}) STORED, "
        "ALTER COLUMN search_vector SET STORAGE MAIN"
    )
    op.execute("CREATE INDEX ix_documents_search ON documents USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The rows stay as they are until written again; new ones go out of line.
    op.execute("ALTER TABLE documents ALTER COLUMN search_vector SET STORAGE EXTENDED")
