"""The students above tier 1, indexed on their own: the counselor's and principal's queue
looks up who became tier 3 or rose a tier only among them, and most students are tier 1
(issue 14, item 1: each home within 30 ms at 50,000 students).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 04:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_student_indicators_above_tier_1', 'student_indicators', ['student_id', 'school_year'],
                    unique=False, postgresql_where=sa.text('tier > 1'))


def downgrade():
    op.drop_index('ix_student_indicators_above_tier_1', table_name='student_indicators',
                  postgresql_where=sa.text('tier > 1'))
