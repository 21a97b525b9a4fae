"""Indexes that let the caseload read a page of a whole district in order (SPEC §8).

Every sortable measure gets an index in each direction, ordered by measure, then by the
student's name, which each indicator row now keeps as it was computed; the indexes of a
measure that can be missing leave those students out. Students get indexes for the
district by grade and for name search by prefix; schools one by name.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 18:10:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

SORTED_MEASURES = {  # measure, and whether a student can have none
    "tier": ("tier", False),
    "attendance": ("attendance_rate", True),
    "failures": ("course_failures", False),
    "credits": ("(credits_earned - credits_expected)", True),
}
NAME_PREFIXES = ("last_name", "first_name", "preferred_name")


def upgrade():
    op.add_column('student_indicators', sa.Column('sort_last_name', sa.String(length=100), nullable=True))
    op.add_column('student_indicators', sa.Column('sort_first_name', sa.String(length=100), nullable=True))
    op.execute("""
        UPDATE student_indicators i SET sort_last_name = s.last_name, sort_first_name = s.first_name
        FROM students s WHERE s.id = i.student_id
    """)
    op.alter_column('student_indicators', 'sort_last_name', nullable=False)
    op.alter_column('student_indicators', 'sort_first_name', nullable=False)
    op.drop_index('ix_student_indicators_year_tier', table_name='student_indicators')
    for name, (measure, nullable) in SORTED_MEASURES.items():
        for direction in ("asc", "desc"):
            op.create_index(
                f'ix_student_indicators_{name}_{direction}', 'student_indicators',
                ['school_year', sa.text(f'{measure} {direction.upper()} NULLS LAST'),
                 'sort_last_name', 'sort_first_name', 'student_id'],
                postgresql_where=sa.text(f'{measure} IS NOT NULL') if nullable else None,
            )
    op.create_index('ix_students_district_grade_name', 'students',
                    ['district_id', 'grade', 'last_name', 'first_name', 'id'])
    op.create_index('ix_students_district_grade_desc_name', 'students',
                    ['district_id', sa.text('grade DESC'), 'last_name', 'first_name', 'id'])
    for name in NAME_PREFIXES:
        op.create_index(f'ix_students_district_{name}_prefix', 'students',
                        ['district_id', sa.text(f'lower({name}) text_pattern_ops')])
    op.create_index('ix_organizations_name', 'organizations', ['name'])


def downgrade():
    op.drop_index('ix_organizations_name', table_name='organizations')
    for name in NAME_PREFIXES:
        op.drop_index(f'ix_students_district_{name}_prefix', table_name='students')
    op.drop_index('ix_students_district_grade_desc_name', table_name='students')
    op.drop_index('ix_students_district_grade_name', table_name='students')
    for name in SORTED_MEASURES:
        for direction in ("asc", "desc"):
            op.drop_index(f'ix_student_indicators_{name}_{direction}', table_name='student_indicators')
    op.create_index('ix_student_indicators_year_tier', 'student_indicators', ['school_year', 'tier'])
    op.drop_column('student_indicators', 'sort_first_name')
    op.drop_column('student_indicators', 'sort_last_name')
