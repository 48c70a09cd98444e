"""CHECK constraints on code columns: roles, kinds, statuses, languages, confidentiality, documented information

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 22:00:00.000000

The application never writes another value; the database now refuses one written behind its back. On SQLite each
table is rebuilt (batch mode), which drops its triggers: they are installed again. env.py turns SQLite's foreign
keys off around migrations, so a rebuilt parent table keeps its children.
"""
from alembic import op

from auditdocs.models import append_only


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Frozen here rather than read from the models, so this migration always does what it did when written.
CHECKS = {
    'users': {'role': ('admin', 'quality_officer', 'compliance_officer', 'auditor')},
    'documents': {
        'kind': ('policy', 'procedure', 'work_instruction', 'form', 'record', 'evidence', 'other'),
        'status': ('draft', 'active', 'obsolete'),
        'language': ('es', 'en'),
        'confidentiality': ('normal', 'restricted'),
    },
    'document_versions': {'status': ('draft', 'approved', 'rejected', 'superseded', 'obsolete')},
    'clauses': {'documented_information': ('maintain', 'retain', 'both', 'none')},
}
NO_DELETE = ('users', 'documents', 'document_versions')
IMMUTABLE = ('document_id', 'number', 'sha256', 'size', 'original_filename', 'mime_type', 'uploaded_by_id',
             'uploaded_at')


def _reinstall_triggers():
    """SQLite dropped the triggers of the rebuilt tables; PostgreSQL kept them (installing again is harmless)."""
    conn = op.get_bind()
    for table in NO_DELETE:
        append_only.install_no_delete(conn, table)
    append_only.install_immutable_columns(conn, 'document_versions', IMMUTABLE)


def upgrade():
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, values in columns.items():
                allowed = ", ".join(f"'{v}'" for v in values)
                batch_op.create_check_constraint(column, f"{column} IN ({allowed})")
    _reinstall_triggers()


def downgrade():
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_constraint(op.f(f'ck_{table}_{column}'), type_='check')
    _reinstall_triggers()
