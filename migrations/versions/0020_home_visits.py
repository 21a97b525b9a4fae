"""The day partner staff last opened their home, and the visit before it: the home
shows each roster student's changes since that earlier visit (issue 14, item 1).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 03:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('home_seen_on', sa.Date(), nullable=True))
    op.add_column('users', sa.Column('home_changes_since', sa.Date(), nullable=True))


def downgrade():
    op.drop_column('users', 'home_changes_since')
    op.drop_column('users', 'home_seen_on')
