"""accounts: a password reset by an administrator forces a change at the next login

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 03:00:00.000000

Why: an administrator who resets a password knows it; the person must replace it before doing anything else.
Existing accounts are not forced (server default false).
"""
from alembic import op
import sqlalchemy as sa

from auditdocs.models import append_only


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases (no table rebuild on SQLite, so the users trigger stays).
    op.add_column('users', sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(),
                                     nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
    conn = op.get_bind()
    if conn.dialect.name == 'sqlite':  # the rebuild of users dropped its trigger
        append_only.install_no_delete(conn, 'users')
