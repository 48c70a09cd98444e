"""scale: normalised code key, folded search text with a text index, keyset sort indexes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 23:30:00.000000

Why: at a national programme's size, looking a code up through lower(code) scanned the table once per imported
file, and the register's text filter and sort orders scanned it on every page. The keys are computed in Python
(auditdocs.textnorm), as the application computes them on every write. On SQLite `documents` is rebuilt (batch
mode) to make the keys NOT NULL, which drops its triggers: they are installed again.
"""
from alembic import op
import sqlalchemy as sa

from auditdocs.models import append_only, text_index
from auditdocs.textnorm import code_key, search_key


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

REVIEW_ORDER = "coalesce(next_review_date, '9999-12-31')"  # frozen: the model's REVIEW_ORDER when written


def _fill_keys():
    """Compute both keys for the rows already there, a thousand at a time."""
    conn = op.get_bind()
    documents = sa.table('documents', sa.column('id'), sa.column('code'), sa.column('title'),
                         sa.column('code_key'), sa.column('search_key'))
    update = (documents.update().where(documents.c.id == sa.bindparam('doc_id'))
              .values(code_key=sa.bindparam('ck'), search_key=sa.bindparam('sk')))
    last = 0
    while True:
        rows = conn.execute(sa.select(documents.c.id, documents.c.code, documents.c.title)
                            .where(documents.c.id > last).order_by(documents.c.id).limit(1000)).all()
        if not rows:
            return
        conn.execute(update, [{'doc_id': r.id, 'ck': code_key(r.code), 'sk': search_key(r.code, r.title)}
                              for r in rows])
        last = rows[-1].id


def upgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code_key', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('search_key', sa.String(length=400), nullable=True))
    _fill_keys()
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.alter_column('code_key', existing_type=sa.String(length=60), nullable=False)
        batch_op.alter_column('search_key', existing_type=sa.String(length=400), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_documents_code_key'), ['code_key'])
        batch_op.create_index('ix_documents_title_id', ['title', 'id'], unique=False)
        batch_op.create_index('ix_documents_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_documents_status_next_review_date', ['status', 'next_review_date', 'id'],
                              unique=False)
        batch_op.drop_index('ix_documents_status')
        batch_op.drop_index('ix_documents_kind')
    op.create_index('ix_documents_review_order', 'documents', [sa.text(REVIEW_ORDER), 'id'], unique=False)
    op.create_index('ix_document_versions_drafts', 'document_versions', ['uploaded_at', 'id'], unique=False,
                    sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'"))
    with op.batch_alter_table('document_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_document_versions_status')
    with op.batch_alter_table('document_clauses', schema=None) as batch_op:
        batch_op.create_index('ix_document_clauses_clause_id_document_id', ['clause_id', 'document_id'],
                              unique=False)
        batch_op.drop_index('ix_document_clauses_clause_id')
    conn = op.get_bind()
    append_only.install_no_delete(conn, 'documents')
    text_index.install(conn)


def downgrade():
    conn = op.get_bind()
    text_index.remove(conn)
    with op.batch_alter_table('document_clauses', schema=None) as batch_op:
        batch_op.create_index('ix_document_clauses_clause_id', ['clause_id'], unique=False)
        batch_op.drop_index('ix_document_clauses_clause_id_document_id')
    with op.batch_alter_table('document_versions', schema=None) as batch_op:
        batch_op.create_index('ix_document_versions_status', ['status'], unique=False)
    op.drop_index('ix_document_versions_drafts', table_name='document_versions')
    op.drop_index('ix_documents_review_order', table_name='documents')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index('ix_documents_kind', ['kind'], unique=False)
        batch_op.create_index('ix_documents_status', ['status'], unique=False)
        batch_op.drop_index('ix_documents_status_next_review_date')
        batch_op.drop_index('ix_documents_created_at_id')
        batch_op.drop_index('ix_documents_title_id')
        batch_op.drop_constraint(batch_op.f('uq_documents_code_key'), type_='unique')
        batch_op.drop_column('search_key')
        batch_op.drop_column('code_key')
    append_only.install_no_delete(conn, 'documents')
