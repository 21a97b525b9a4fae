"""A school's student ids from an index alone (school_id, id): the access policy scopes
a counselor's or principal's queries to their school's students (the navigation's count
of new notices on every page, referrals, lists), which PostgreSQL then reads without
visiting the students table.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 23:59:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_students_school_id', 'students', ['school_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_students_school_id', table_name='students')
