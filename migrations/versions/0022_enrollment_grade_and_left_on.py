"""School years of history: each stay at a school records the grade the student was in
(as Ed-Fi's StudentSchoolAssociation entryGradeLevel), so that reports of earlier years
count students by that year's grade; and a student who left the district's schools
(graduated, moved away) has the day they left, so that lists of current students leave
them out while their record stays the school's.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 06:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('school_enrollments', sa.Column('grade', sa.SmallInteger(), nullable=True))
    # a student's grade now, less a year for each school year back from their latest stay
    op.execute("""
        UPDATE school_enrollments e
        SET grade = least(12, greatest(-1, s.grade - (latest.year - e.school_year)))
        FROM students s,
             (SELECT student_id, max(school_year) AS year FROM school_enrollments GROUP BY student_id) latest
        WHERE s.id = e.student_id AND latest.student_id = e.student_id
    """)
    op.alter_column('school_enrollments', 'grade', nullable=False)
    op.create_check_constraint(op.f('ck_school_enrollments_grade_range'), 'school_enrollments', 'grade BETWEEN -1 AND 12')
    op.add_column('students', sa.Column('left_on', sa.Date(), nullable=True))


def downgrade():
    op.drop_column('students', 'left_on')
    op.drop_constraint(op.f('ck_school_enrollments_grade_range'), 'school_enrollments', type_='check')
    op.drop_column('school_enrollments', 'grade')
