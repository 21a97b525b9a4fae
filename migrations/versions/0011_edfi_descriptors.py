"""Ed-Fi imports: each district's mapping of attendance event descriptors to casemgr
statuses, and the students an InterchangeStudent file describes before their
StudentSchoolAssociation gives them a school and a grade.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 20:40:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('edfi_descriptor_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('descriptor', sa.String(length=306), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('present', 'tardy', 'excused', 'unexcused', 'suspended')", name=op.f('ck_edfi_descriptor_mappings_status_valid')),
    sa.ForeignKeyConstraint(['district_id'], ['organizations.id'], name=op.f('fk_edfi_descriptor_mappings_district_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_edfi_descriptor_mappings')),
    sa.UniqueConstraint('district_id', 'descriptor', name=op.f('uq_edfi_descriptor_mappings_district_id_descriptor'))
    )
    op.create_table('edfi_students',
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('student_unique_id', sa.String(length=32), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('middle_name', sa.String(length=100), nullable=True),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('preferred_name', sa.String(length=100), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['district_id'], ['organizations.id'], name=op.f('fk_edfi_students_district_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('district_id', 'student_unique_id', name=op.f('pk_edfi_students'))
    )


def downgrade():
    op.drop_table('edfi_students')
    op.drop_table('edfi_descriptor_mappings')
