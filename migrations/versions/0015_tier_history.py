"""Tier history: a row each time a recompute finds a student's tier changed, so the
school's homes can say who rose a tier since a date and the caseload can show each
student's tier against a chosen day. Filled from the stored indicators as they stand.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 02:45:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'tier_history',
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('school_year', sa.SmallInteger(), nullable=False),
        sa.Column('since', sa.Date(), nullable=False),
        sa.Column('tier', sa.SmallInteger(), nullable=False),
        sa.CheckConstraint('tier BETWEEN 1 AND 3', name=op.f('ck_tier_history_tier_history_range')),
        sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_tier_history_student_id_students'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('student_id', 'school_year', 'since', name=op.f('pk_tier_history')),
    )
    op.create_index('ix_tier_history_since', 'tier_history', ['since'], unique=False)
    op.execute(
        "INSERT INTO tier_history (student_id, school_year, since, tier) "
        "SELECT student_id, school_year, as_of, tier FROM student_indicators"
    )


def downgrade():
    op.drop_index('ix_tier_history_since', table_name='tier_history')
    op.drop_table('tier_history')
