"""Daily attendance as one row per student and school year, one bit string per status
(SPEC §7: a full year of a large district merges in one statement); the view
attendance_days shows it as one row per student and recorded day.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:20:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

STATUSES = ('present', 'tardy', 'excused', 'unexcused', 'suspended')

VIEW = """
CREATE VIEW attendance_days AS
SELECT a.student_id, a.school_year_id, a.first_day + d.i AS day, d.status
FROM attendance_years a
CROSS JOIN LATERAL (
    SELECT i, CASE WHEN get_bit(a.present, i) = 1 THEN 'present' WHEN get_bit(a.tardy, i) = 1 THEN 'tardy'
                   WHEN get_bit(a.excused, i) = 1 THEN 'excused' WHEN get_bit(a.unexcused, i) = 1 THEN 'unexcused'
                   WHEN get_bit(a.suspended, i) = 1 THEN 'suspended' END AS status
    FROM generate_series(0, length(a.present) - 1) AS i
) d
WHERE d.status IS NOT NULL"""


def upgrade():
    op.create_table('attendance_years',
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('school_year_id', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    *[sa.Column(status, postgresql.BIT(varying=True), nullable=False) for status in STATUSES],
    sa.CheckConstraint('length(present) = length(tardy) AND length(present) = length(excused) AND length(present) = length(unexcused) AND length(present) = length(suspended) AND length(present) BETWEEN 1 AND 400', name=op.f('ck_attendance_years_same_length')),
    sa.CheckConstraint('bit_count(present) + bit_count(tardy) + bit_count(excused) + bit_count(unexcused) + bit_count(suspended) = bit_count(present | tardy | excused | unexcused | suspended)', name=op.f('ck_attendance_years_one_status_a_day')),
    sa.ForeignKeyConstraint(['school_year_id'], ['school_years.id'], name=op.f('fk_attendance_years_school_year_id_school_years')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_attendance_years_student_id_students'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('student_id', 'school_year_id', name=op.f('pk_attendance_years'))
    )
    folded = ", ".join(
        f"coalesce(bit_or(set_bit(repeat('0', y.ends_on - y.starts_on + 1)::varbit, a.day - y.starts_on, 1))"
        f" FILTER (WHERE a.status = '{s}'), repeat('0', y.ends_on - y.starts_on + 1)::varbit)"
        for s in STATUSES
    )
    op.execute(f"""
        INSERT INTO attendance_years (student_id, school_year_id, first_day, {", ".join(STATUSES)})
        SELECT a.student_id, y.id, y.starts_on, {folded}
        FROM attendance_days a
        JOIN students st ON st.id = a.student_id
        JOIN school_years y ON y.district_id = st.district_id AND a.day BETWEEN y.starts_on AND y.ends_on
        GROUP BY a.student_id, y.id, y.starts_on, y.ends_on""")
    op.drop_table('attendance_days')
    op.execute(VIEW)


def downgrade():
    op.execute("ALTER VIEW attendance_days RENAME TO attendance_days_of_years")
    op.create_table('attendance_days',
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.CheckConstraint("status IN ('present', 'tardy', 'excused', 'unexcused', 'suspended')", name=op.f('ck_attendance_days_status_valid')),
    sa.ForeignKeyConstraint(['school_id'], ['organizations.id'], name=op.f('fk_attendance_days_school_id_organizations')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_attendance_days_student_id_students'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('student_id', 'day', name=op.f('pk_attendance_days'))
    )
    # the days kept no school of their own: they take the student's school
    op.execute("""
        INSERT INTO attendance_days (student_id, day, school_id, status)
        SELECT v.student_id, v.day, st.school_id, v.status
        FROM attendance_days_of_years v JOIN students st ON st.id = v.student_id""")
    op.execute("DROP VIEW attendance_days_of_years")
    op.drop_table('attendance_years')
