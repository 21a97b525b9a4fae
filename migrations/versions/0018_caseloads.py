"""Caseloads: the rules by which a school's principal splits its students between
counselors (a grade, a range of last-name initials, or both), and students assigned
to a counselor one by one.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 02:45:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('caseload_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('counselor_id', sa.Integer(), nullable=False),
    sa.Column('grade', sa.SmallInteger(), nullable=True),
    sa.Column('letters_from', sa.String(length=1), nullable=True),
    sa.Column('letters_to', sa.String(length=1), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('grade IS NULL OR grade BETWEEN -1 AND 12', name=op.f('ck_caseload_rules_grade_range')),
    sa.CheckConstraint(
        "(letters_from IS NULL) = (letters_to IS NULL) AND (letters_from IS NULL OR "
        "(letters_from ~ '^[A-Z]$' AND letters_to ~ '^[A-Z]$' AND letters_from <= letters_to))",
        name=op.f('ck_caseload_rules_letters_range')),
    sa.CheckConstraint('grade IS NOT NULL OR letters_from IS NOT NULL', name=op.f('ck_caseload_rules_says_something')),
    sa.ForeignKeyConstraint(['counselor_id'], ['users.id'], name=op.f('fk_caseload_rules_counselor_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_caseload_rules_created_by_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['organizations.id'], name=op.f('fk_caseload_rules_school_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_caseload_rules')),
    sa.UniqueConstraint('uuid', name=op.f('uq_caseload_rules_uuid'))
    )
    op.create_index('ix_caseload_rules_school_counselor', 'caseload_rules', ['school_id', 'counselor_id'], unique=False)
    op.create_table('caseload_assignments',
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('counselor_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_caseload_assignments_assigned_by_id_users')),
    sa.ForeignKeyConstraint(['counselor_id'], ['users.id'], name=op.f('fk_caseload_assignments_counselor_id_users')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_caseload_assignments_student_id_students'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('student_id', name=op.f('pk_caseload_assignments'))
    )
    op.create_index('ix_caseload_assignments_counselor', 'caseload_assignments', ['counselor_id', 'student_id'],
                    unique=False)


def downgrade():
    op.drop_index('ix_caseload_assignments_counselor', table_name='caseload_assignments')
    op.drop_table('caseload_assignments')
    op.drop_index('ix_caseload_rules_school_counselor', table_name='caseload_rules')
    op.drop_table('caseload_rules')
