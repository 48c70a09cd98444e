"""pack jobs: Word packs asked for, their progress and what they produced

Revision ID: 0013
Revises: 0012
Create Date: 2027-02-01 09:00:00.000000

Why: issue 14 builds audit packs off the request path. The job row is the one place every server worker, a reload
and `auditdocs worker` read the progress from, and the list of past packs (who built them, when, their hashes).
The row changes as the build goes, so it carries no append-only trigger; building and downloading are audited.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pack_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('spec', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('progress_done', sa.Integer(), nullable=False),
    sa.Column('progress_total', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('worker', sa.String(length=120), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('pack_id', sa.String(length=40), nullable=True),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('file_name', sa.String(length=200), nullable=True),
    sa.Column('file_path', sa.String(length=300), nullable=True),
    sa.Column('file_size', sa.BigInteger(), nullable=True),
    sa.Column('file_sha256', sa.String(length=64), nullable=True),
    sa.Column('docx_sha256', sa.String(length=64), nullable=True),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=True),
    sa.Column('evidence_files', sa.Integer(), nullable=True),
    sa.Column('evidence_bytes', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_pack_jobs_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_pack_jobs_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pack_jobs'))
    )
    with op.batch_alter_table('pack_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_pack_jobs_status_created_at', ['status', 'created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pack_jobs_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pack_jobs_pack_id'), ['pack_id'], unique=False)


def downgrade():
    with op.batch_alter_table('pack_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pack_jobs_pack_id'))
        batch_op.drop_index(batch_op.f('ix_pack_jobs_created_by_id'))
        batch_op.drop_index('ix_pack_jobs_status_created_at')
    op.drop_table('pack_jobs')
