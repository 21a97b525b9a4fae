"""Postsecondary outcomes from the National Student Clearinghouse (issue 16 item 4): the
records of StudentTracker for High Schools' detail reports, the four measures derived
per graduate, a student's FERPA block of directory information, a high school's ACT code
and a district's Clearinghouse account code (all in the graduates file), and the category
`postsecondary` for agreements and consents.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 11:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

OLD = "'identity', 'attendance', 'grades', 'assessments', 'behavior', 'college', 'notes', 'services'"
NEW = OLD + ", 'postsecondary'"
# every text[] of categories, by table and constraint
CATEGORY_ARRAYS = (
    ("data_sharing_agreements", "ck_data_sharing_agreements_categories_valid"),
    ("consents", "ck_consents_categories_valid"),
    ("consent_asks", "ck_consent_asks_categories_valid"),
)


VARIABLES = ("'school', 'grade', 'gender', 'ethnicity', 'low_income', 'english_learner', 'disability', 'birth_year', "
             "'days_enrolled', 'attendance_rate', 'chronic_absence', 'severe_absence', 'course_failures', "
             "'core_failure', 'ninth_grade_on_track', 'credits_on_track', 'fafsa_status', 'suspensions', 'tier'")
OUTCOMES = ", 'enrolled_fall', 'enrolled_within_year', 'persisted', 'completed_degree'"


def _variables(values: str, existing_rows: str = "") -> None:
    name = "ck_research_projects_variables_valid"
    op.execute(f"ALTER TABLE research_projects DROP CONSTRAINT {name}")
    op.execute(f"ALTER TABLE research_projects ADD CONSTRAINT {name} "
               f"CHECK (cardinality(variables) > 0 AND variables <@ ARRAY[{values}]::text[]) {existing_rows}")


def _categories(values: str, existing_rows: str = "") -> None:
    for table, name in CATEGORY_ARRAYS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} "
                   f"CHECK (cardinality(categories) > 0 AND categories <@ ARRAY[{values}]::text[]) {existing_rows}")


def upgrade():
    op.add_column('students', sa.Column('ferpa_block', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('organizations', sa.Column('act_code', sa.String(length=6), nullable=True))
    op.add_column('organizations', sa.Column('clearinghouse_account', sa.String(length=20), nullable=True))
    op.create_check_constraint(op.f('ck_organizations_act_code_format'), 'organizations', "act_code ~ '^[0-9A-Za-z]{6}$'")
    op.create_table(
        'postsecondary_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('row_no', sa.Integer(), nullable=False),
        sa.Column('found', sa.Boolean(), nullable=False),
        sa.Column('searched_on', sa.Date(), nullable=False),
        sa.Column('reported_on', sa.Date(), nullable=False),
        sa.Column('college_code', sa.String(length=20), nullable=True),
        sa.Column('college_name', sa.String(length=200), nullable=True),
        sa.Column('college_state', sa.String(length=2), nullable=True),
        sa.Column('college_level', sa.String(length=1), nullable=True),
        sa.Column('public', sa.Boolean(), nullable=True),
        sa.Column('begins_on', sa.Date(), nullable=True),
        sa.Column('ends_on', sa.Date(), nullable=True),
        sa.Column('enrollment_status', sa.String(length=1), nullable=True),
        sa.Column('graduated', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('graduated_on', sa.Date(), nullable=True),
        sa.Column('degree_title', sa.String(length=200), nullable=True),
        sa.Column('major', sa.String(length=200), nullable=True),
        sa.CheckConstraint("college_level IS NULL OR college_level IN ('4', '2', 'L')",
                           name=op.f('ck_postsecondary_records_college_level_valid')),
        sa.CheckConstraint('ends_on IS NULL OR begins_on IS NULL OR ends_on >= begins_on',
                           name=op.f('ck_postsecondary_records_dates_ordered')),
        sa.CheckConstraint('found OR college_code IS NULL', name=op.f('ck_postsecondary_records_not_found_has_no_college')),
        sa.ForeignKeyConstraint(['district_id'], ['organizations.id'],
                                name=op.f('fk_postsecondary_records_district_id_organizations')),
        sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_postsecondary_records_student_id_students'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_postsecondary_records')),
    )
    op.create_index('ix_postsecondary_records_district_student', 'postsecondary_records', ['district_id', 'student_id'],
                    unique=False)
    op.create_index(op.f('ix_postsecondary_records_student_id'), 'postsecondary_records', ['student_id'], unique=False)
    op.create_table(
        'postsecondary_outcomes',
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.Column('class_year', sa.SmallInteger(), nullable=False),
        sa.Column('graduated_on', sa.Date(), nullable=False),
        sa.Column('reported_on', sa.Date(), nullable=False),
        sa.Column('enrolled_fall', sa.Boolean(), nullable=False),
        sa.Column('enrolled_within_year', sa.Boolean(), nullable=False),
        sa.Column('persisted', sa.Boolean(), nullable=True),
        sa.Column('completed_degree', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['district_id'], ['organizations.id'],
                                name=op.f('fk_postsecondary_outcomes_district_id_organizations')),
        sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_postsecondary_outcomes_student_id_students'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('student_id', name=op.f('pk_postsecondary_outcomes')),
    )
    op.create_index('ix_postsecondary_outcomes_district_class', 'postsecondary_outcomes', ['district_id', 'class_year'],
                    unique=False)
    _categories(NEW)
    _variables(VARIABLES + OUTCOMES)


def downgrade():
    # consents are append-only: rows that name the category stay, unchecked (NOT VALID)
    _categories(OLD, "NOT VALID")
    _variables(VARIABLES, "NOT VALID")
    op.drop_table('postsecondary_outcomes')
    op.drop_table('postsecondary_records')
    op.drop_column('students', 'ferpa_block')
    op.drop_constraint(op.f('ck_organizations_act_code_format'), 'organizations', type_='check')
    op.drop_column('organizations', 'act_code')
    op.drop_column('organizations', 'clearinghouse_account')
