"""evidence rows protected: no DELETE on users, documents, versions, reviews; immutable version columns

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 10:00:00.000000

Triggers only: the schema the models describe is unchanged. document_clauses and document_shares are left
alone (a mapping or a share is legitimately replaced by deleting rows).
"""
from alembic import op

from auditdocs.models import append_only


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Frozen here rather than read from the models, so this migration always does what it did when written.
NO_DELETE = ('users', 'documents', 'document_versions', 'document_reviews')
IMMUTABLE = ('document_id', 'number', 'sha256', 'size', 'original_filename', 'mime_type', 'uploaded_by_id',
             'uploaded_at')


def upgrade():
    conn = op.get_bind()
    for table in NO_DELETE:
        append_only.install_no_delete(conn, table)
    append_only.install_immutable_columns(conn, 'document_versions', IMMUTABLE)


def downgrade():
    conn = op.get_bind()
    append_only.remove_immutable_columns(conn, 'document_versions')
    for table in NO_DELETE:
        append_only.remove_no_delete(conn, table)
    append_only.drop_no_delete_function(conn)
