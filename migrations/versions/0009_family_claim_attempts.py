"""Claim codes count the wrong birth dates given with them, so a printed invitation
letter is void after five (issue 11 item 3).

Revision ID: 0009_family
Revises: 0008
Create Date: 2026-12-06 18:20:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0009_family'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('claim_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_attempts', sa.SmallInteger(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('claim_codes', schema=None) as batch_op:
        batch_op.drop_column('failed_attempts')
