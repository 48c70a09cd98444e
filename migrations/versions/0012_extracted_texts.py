"""extracted texts: the text read from each stored file, for search

Revision ID: 0012
Revises: 0011
Create Date: 2027-01-10 09:00:00.000000

Why: issue 13 indexes the text of document versions and record attachments. Reading a file is slow and done off
the request path, once per SHA-256; the result is kept here (status ok|unreadable|unsupported|too_large|timeout,
the text capped in characters, why there is none). It is derived data, not evidence: a re-extraction may replace
a row, so the table has no append-only trigger, and it is no blob reference (gc and backups ignore it).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('extracted_texts',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('chars', sa.Integer(), nullable=False),
    sa.Column('truncated', sa.Boolean(), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('extracted_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('ok', 'unreadable', 'unsupported', 'too_large', 'timeout')", name=op.f('ck_extracted_texts_status')),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_extracted_texts'))
    )


def downgrade():
    op.drop_table('extracted_texts')
