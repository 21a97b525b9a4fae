"""Support plans keep when and by whom they were closed, so the timeline can say so.
Plans closed before keep only their day.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 23:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('support_plans', sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('support_plans', sa.Column('closed_by_id', sa.Integer(), nullable=True))
    op.create_foreign_key(op.f('fk_support_plans_closed_by_id_users'), 'support_plans', 'users', ['closed_by_id'], ['id'])


def downgrade():
    op.drop_constraint(op.f('fk_support_plans_closed_by_id_users'), 'support_plans', type_='foreignkey')
    op.drop_column('support_plans', 'closed_by_id')
    op.drop_column('support_plans', 'closed_at')
