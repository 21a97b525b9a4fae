"""In-app notices: when each user last opened their notices, and an index for the
notes written since then.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('notices_seen_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_notes_created_at', 'notes', ['created_at'], unique=False)


def downgrade():
    op.drop_index('ix_notes_created_at', table_name='notes')
    op.drop_column('users', 'notices_seen_at')
