"""A student's record per district, linked by state ID (issue 16, item 3): each district
keeps its own record of a student, as its student information system does, so a student
who moved between two districts of the partnership has a record in each with the same
state ID. The state ID is unique within a district; an index still serves lookups by
state ID alone (a partner adding a student to its roster).

The downgrade needs every state ID to be held by one record only.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 12:00:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_constraint(op.f('uq_students_state_id'), 'students', type_='unique')
    op.create_unique_constraint(op.f('uq_students_district_id_state_id'), 'students', ['district_id', 'state_id'])
    op.create_index(op.f('ix_students_state_id'), 'students', ['state_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_students_state_id'), table_name='students')
    op.drop_constraint(op.f('uq_students_district_id_state_id'), 'students', type_='unique')
    op.create_unique_constraint(op.f('uq_students_state_id'), 'students', ['state_id'])
