"""The casemgr data model (SPEC §2–§7), with append-only tables enforced in the database.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 15:24:25.305911

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


APPEND_ONLY_TABLES = ("disclosure_log", "consents", "consent_revocations", "notes")


def upgrade():
    create_tables()
    op.execute("""
        CREATE FUNCTION casemgr_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
    """)
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION casemgr_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION casemgr_append_only()"
        )


def create_tables():
    op.create_table('organizations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(kind = 'school') = (district_id IS NOT NULL AND level IS NOT NULL)", name=op.f('ck_organizations_school_has_district_and_level')),
    sa.CheckConstraint("kind IN ('district', 'school', 'partner', 'research')", name=op.f('ck_organizations_kind_valid')),
    sa.CheckConstraint("level IS NULL OR level IN ('elementary', 'middle', 'high')", name=op.f('ck_organizations_level_valid')),
    sa.ForeignKeyConstraint(['district_id'], ['organizations.id'], name=op.f('fk_organizations_district_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations')),
    sa.UniqueConstraint('code', name=op.f('uq_organizations_code')),
    sa.UniqueConstraint('id', 'district_id', name='uq_organizations_id_district'),
    sa.UniqueConstraint('uuid', name=op.f('uq_organizations_uuid'))
    )
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organizations_district_id'), ['district_id'], unique=False)

    op.create_table('calendar_days',
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('school_year', sa.SmallInteger(), nullable=False),
    sa.Column('instructional', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['organizations.id'], name=op.f('fk_calendar_days_school_id_organizations')),
    sa.PrimaryKeyConstraint('school_id', 'day', name=op.f('pk_calendar_days'))
    )
    op.create_table('school_years',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.CheckConstraint('starts_on < ends_on', name=op.f('ck_school_years_dates_ordered')),
    sa.ForeignKeyConstraint(['district_id'], ['organizations.id'], name=op.f('fk_school_years_district_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_years')),
    sa.UniqueConstraint('district_id', 'year', name=op.f('uq_school_years_district_id_year'))
    )
    op.create_table('students',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('state_id', sa.String(length=32), nullable=False),
    sa.Column('local_id', sa.String(length=32), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('middle_name', sa.String(length=100), nullable=True),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('preferred_name', sa.String(length=100), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('grade', sa.SmallInteger(), nullable=False),
    sa.Column('postsecondary', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('gender', sa.String(length=20), nullable=True),
    sa.Column('ethnicity', sa.String(length=60), nullable=True),
    sa.Column('low_income', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('english_learner', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('disability', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('home_language', sa.String(length=40), nullable=True),
    sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("birth_date > '1900-01-01'", name=op.f('ck_students_birth_date_plausible')),
    sa.CheckConstraint('grade BETWEEN -1 AND 12', name=op.f('ck_students_grade_range')),
    sa.ForeignKeyConstraint(['district_id'], ['organizations.id'], name=op.f('fk_students_district_id_organizations')),
    sa.ForeignKeyConstraint(['school_id', 'district_id'], ['organizations.id', 'organizations.district_id'], name='fk_students_school_in_district'),
    sa.ForeignKeyConstraint(['school_id'], ['organizations.id'], name=op.f('fk_students_school_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_students')),
    sa.UniqueConstraint('district_id', 'local_id', name=op.f('uq_students_district_id_local_id')),
    sa.UniqueConstraint('state_id', name=op.f('uq_students_state_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_students_uuid'))
    )
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_students_district_id'), ['district_id'], unique=False)
        batch_op.create_index('ix_students_last_first', ['last_name', 'first_name'], unique=False)
        batch_op.create_index('ix_students_school_grade', ['school_id', 'grade'], unique=False)

    op.create_table('assessments',
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('test_code', sa.String(length=40), nullable=False),
    sa.Column('administered_on', sa.Date(), nullable=False),
    sa.Column('school_year', sa.SmallInteger(), nullable=False),
    sa.Column('subject', sa.String(length=40), nullable=False),
    sa.Column('scale_score', sa.Integer(), nullable=True),
    sa.Column('performance_level', sa.SmallInteger(), nullable=True),
    sa.CheckConstraint('performance_level BETWEEN 1 AND 4', name=op.f('ck_assessments_level_range')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_assessments_student_id_students'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('student_id', 'test_code', 'administered_on', name=op.f('pk_assessments'))
    )
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
    op.create_table('credit_records',
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('school_year', sa.SmallInteger(), nullable=False),
    sa.Column('grade', sa.SmallInteger(), nullable=False),
    sa.Column('credits_attempted', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('credits_earned', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.CheckConstraint('credits_earned >= 0 AND credits_earned <= credits_attempted', name=op.f('ck_credit_records_credits_range')),
    sa.CheckConstraint('grade BETWEEN 6 AND 12', name=op.f('ck_credit_records_grade_range')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_credit_records_student_id_students'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('student_id', 'school_year', name=op.f('pk_credit_records'))
    )
    op.create_table('discipline_incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('incident_code', sa.String(length=40), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('school_year', sa.SmallInteger(), nullable=False),
    sa.Column('incident_type', sa.String(length=60), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('days', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.CheckConstraint("action IN ('none', 'detention', 'in_school_suspension', 'out_of_school_suspension', 'expulsion')", name=op.f('ck_discipline_incidents_action_valid')),
    sa.CheckConstraint('days >= 0 AND days <= 365', name=op.f('ck_discipline_incidents_days_range')),
    sa.ForeignKeyConstraint(['school_id'], ['organizations.id'], name=op.f('fk_discipline_incidents_school_id_organizations')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_discipline_incidents_student_id_students'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discipline_incidents')),
    sa.UniqueConstraint('school_id', 'incident_code', 'student_id', name=op.f('uq_discipline_incidents_school_id_incident_code_student_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_discipline_incidents_uuid'))
    )
    with op.batch_alter_table('discipline_incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discipline_incidents_student_id'), ['student_id'], unique=False)

    op.create_table('fafsa_records',
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('school_year', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('status_on', sa.Date(), nullable=False),
    sa.CheckConstraint("status IN ('not_started', 'submitted', 'incomplete', 'complete')", name=op.f('ck_fafsa_records_status_valid')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_fafsa_records_student_id_students'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('student_id', 'school_year', name=op.f('pk_fafsa_records'))
    )
    op.create_table('school_enrollments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('school_year', sa.SmallInteger(), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('exit_date', sa.Date(), nullable=True),
    sa.CheckConstraint('exit_date IS NULL OR exit_date >= entry_date', name=op.f('ck_school_enrollments_dates_ordered')),
    sa.ForeignKeyConstraint(['school_id'], ['organizations.id'], name=op.f('fk_school_enrollments_school_id_organizations')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_school_enrollments_student_id_students'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_enrollments')),
    sa.UniqueConstraint('student_id', 'school_id', 'entry_date', name=op.f('uq_school_enrollments_student_id_school_id_entry_date'))
    )
    with op.batch_alter_table('school_enrollments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_enrollments_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_school_enrollments_student_id'), ['student_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('job_title', sa.String(length=120), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confidentiality_signed_on', sa.Date(), nullable=True),
    sa.Column('ferpa_trained_on', sa.Date(), nullable=True),
    sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(role = 'student') = (student_id IS NOT NULL)", name=op.f('ck_users_student_role_has_student')),
    sa.CheckConstraint("locale IS NULL OR locale IN ('en', 'es')", name=op.f('ck_users_locale_valid')),
    sa.CheckConstraint("role IN ('district_admin', 'principal', 'counselor', 'teacher', 'partner_admin', 'youth_worker', 'parent', 'student', 'researcher')", name=op.f('ck_users_role_valid')),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_users_email_lowercase')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_users_organization_id_organizations')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_users_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    sa.UniqueConstraint('student_id', name=op.f('uq_users_student_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_users_uuid'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_role'), ['role'], unique=False)

    op.create_table('data_sharing_agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('categories', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("cardinality(categories) > 0 AND categories <@ ARRAY['identity', 'attendance', 'grades', 'assessments', 'behavior', 'college', 'notes', 'services']::text[]", name=op.f('ck_data_sharing_agreements_categories_valid')),
    sa.CheckConstraint('ended_on IS NULL OR ended_on <= ends_on', name=op.f('ck_data_sharing_agreements_ended_within')),
    sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_data_sharing_agreements_dates_ordered')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_data_sharing_agreements_created_by_id_users')),
    sa.ForeignKeyConstraint(['district_id'], ['organizations.id'], name=op.f('fk_data_sharing_agreements_district_id_organizations')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_data_sharing_agreements_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_sharing_agreements')),
    sa.UniqueConstraint('uuid', name=op.f('uq_data_sharing_agreements_uuid'))
    )
    with op.batch_alter_table('data_sharing_agreements', schema=None) as batch_op:
        batch_op.create_index('ix_dsa_org_dates', ['organization_id', 'starts_on', 'ends_on'], unique=False)

    op.create_table('disclosure_log',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('student_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('categories', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('basis', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('allowed', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('request_path', sa.String(length=500), nullable=True),
    sa.CheckConstraint("action IN ('view', 'export', 'note_written', 'referral', 'denied')", name=op.f('ck_disclosure_log_action_valid')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_disclosure_log_organization_id_organizations')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_disclosure_log_student_id_students')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_disclosure_log_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_log'))
    )
    with op.batch_alter_table('disclosure_log', schema=None) as batch_op:
        batch_op.create_index('ix_disclosure_log_org_at', ['organization_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_disclosure_log_student_at', ['student_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_disclosure_log_user_at', ['user_id', 'occurred_at'], unique=False)

    op.create_table('flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('need', sa.String(length=24), nullable=False),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('raised_by_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=8), server_default='open', nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name=op.f('ck_flags_closed_has_time')),
    sa.CheckConstraint("need IN ('attendance_support', 'tutoring', 'mentoring', 'college_application', 'fafsa_help', 'family_support', 'other')", name=op.f('ck_flags_need_valid')),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_flags_status_valid')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_flags_closed_by_id_users')),
    sa.ForeignKeyConstraint(['raised_by_id'], ['users.id'], name=op.f('fk_flags_raised_by_id_users')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_flags_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flags')),
    sa.UniqueConstraint('uuid', name=op.f('uq_flags_uuid'))
    )
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flags_student_id'), ['student_id'], unique=False)

    op.create_table('guardians',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('local_id', sa.String(length=32), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('preferred_language', sa.String(length=5), server_default='en', nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['organizations.id'], name=op.f('fk_guardians_district_id_organizations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_guardians_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guardians')),
    sa.UniqueConstraint('district_id', 'local_id', name=op.f('uq_guardians_district_id_local_id')),
    sa.UniqueConstraint('user_id', name=op.f('uq_guardians_user_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_guardians_uuid'))
    )
    op.create_table('import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=True),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('dry_run', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rows_read', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rows_inserted', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rows_updated', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('errors', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.CheckConstraint("status IN ('running', 'succeeded', 'rejected', 'failed')", name=op.f('ck_import_batches_status_valid')),
    sa.ForeignKeyConstraint(['district_id'], ['organizations.id'], name=op.f('fk_import_batches_district_id_organizations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_import_batches_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches')),
    sa.UniqueConstraint('uuid', name=op.f('uq_import_batches_uuid'))
    )
    op.create_table('notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.String(length=14), nullable=False),
    sa.Column('topic', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('amends_id', sa.Integer(), nullable=True),
    sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("audience IN ('shared', 'organization', 'family', 'restricted')", name=op.f('ck_notes_audience_valid')),
    sa.CheckConstraint("topic IN ('attendance', 'academic', 'college', 'social_emotional', 'family', 'other')", name=op.f('ck_notes_topic_valid')),
    sa.CheckConstraint('amends_id IS NULL OR amends_id <> id', name=op.f('ck_notes_not_self_amending')),
    sa.CheckConstraint('char_length(body) BETWEEN 1 AND 5000', name=op.f('ck_notes_body_length')),
    sa.ForeignKeyConstraint(['amends_id'], ['notes.id'], name=op.f('fk_notes_amends_id_notes')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_notes_author_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_notes_organization_id_organizations')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_notes_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notes')),
    sa.UniqueConstraint('uuid', name=op.f('uq_notes_uuid'))
    )
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notes_amends_id'), ['amends_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notes_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_notes_student_created', ['student_id', 'created_at'], unique=False)

    op.create_table('roster_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('program', sa.String(length=120), nullable=True),
    sa.Column('added_on', sa.Date(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('removed_on', sa.Date(), nullable=True),
    sa.Column('removed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('removed_on IS NULL OR removed_on >= added_on', name=op.f('ck_roster_entries_dates_ordered')),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_roster_entries_added_by_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_roster_entries_organization_id_organizations')),
    sa.ForeignKeyConstraint(['removed_by_id'], ['users.id'], name=op.f('fk_roster_entries_removed_by_id_users')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_roster_entries_student_id_students'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_entries'))
    )
    with op.batch_alter_table('roster_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_entries_student_id'), ['student_id'], unique=False)
        batch_op.create_index('uq_roster_entries_active', ['organization_id', 'student_id'], unique=True, postgresql_where=sa.text('removed_on IS NULL'))

    op.create_table('sections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('school_year', sa.SmallInteger(), nullable=False),
    sa.Column('local_id', sa.String(length=40), nullable=False),
    sa.Column('course_code', sa.String(length=40), nullable=False),
    sa.Column('course_title', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=20), nullable=False),
    sa.Column('term', sa.String(length=4), nullable=False),
    sa.Column('credits', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=True),
    sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.CheckConstraint("subject IN ('english', 'math', 'science', 'social_studies', 'other')", name=op.f('ck_sections_subject_valid')),
    sa.CheckConstraint("term IN ('year', 'S1', 'S2', 'Q1', 'Q2', 'Q3', 'Q4')", name=op.f('ck_sections_term_valid')),
    sa.CheckConstraint('credits >= 0 AND credits <= 10', name=op.f('ck_sections_credits_range')),
    sa.ForeignKeyConstraint(['school_id'], ['organizations.id'], name=op.f('fk_sections_school_id_organizations')),
    sa.ForeignKeyConstraint(['teacher_id'], ['users.id'], name=op.f('fk_sections_teacher_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sections')),
    sa.UniqueConstraint('school_id', 'school_year', 'local_id', name=op.f('uq_sections_school_id_school_year_local_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_sections_uuid'))
    )
    with op.batch_alter_table('sections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sections_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sections_teacher_id'), ['teacher_id'], unique=False)

    op.create_table('service_agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('services', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("cardinality(services) > 0 AND services <@ ARRAY['attendance_support', 'tutoring', 'mentoring', 'college_application', 'fafsa_help', 'family_support', 'other']::text[]", name=op.f('ck_service_agreements_services_valid')),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_service_agreements_capacity_positive')),
    sa.CheckConstraint('ended_on IS NULL OR ended_on <= ends_on', name=op.f('ck_service_agreements_ended_within')),
    sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_service_agreements_dates_ordered')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_service_agreements_created_by_id_users')),
    sa.ForeignKeyConstraint(['district_id'], ['organizations.id'], name=op.f('fk_service_agreements_district_id_organizations')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_service_agreements_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_agreements')),
    sa.UniqueConstraint('uuid', name=op.f('uq_service_agreements_uuid'))
    )
    with op.batch_alter_table('service_agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_agreements_organization_id'), ['organization_id'], unique=False)

    op.create_table('threshold_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('band_watch_below', sa.Numeric(precision=4, scale=3), nullable=False),
    sa.Column('band_at_risk_below', sa.Numeric(precision=4, scale=3), nullable=False),
    sa.Column('band_critical_below', sa.Numeric(precision=4, scale=3), nullable=False),
    sa.Column('chronic_absence_rate', sa.Numeric(precision=4, scale=3), nullable=False),
    sa.Column('severe_absence_rate', sa.Numeric(precision=4, scale=3), nullable=False),
    sa.Column('min_enrolled_days', sa.SmallInteger(), nullable=False),
    sa.Column('ninth_grade_min_credits', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('ninth_grade_max_core_failures', sa.SmallInteger(), nullable=False),
    sa.Column('credits_grade9', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('credits_grade10', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('credits_grade11', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('credits_grade12', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('fafsa_deadline_month', sa.SmallInteger(), nullable=False),
    sa.Column('fafsa_deadline_day', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('0 < band_critical_below AND band_critical_below < band_at_risk_below AND band_at_risk_below < band_watch_below AND band_watch_below <= 1', name=op.f('ck_threshold_settings_bands_ordered')),
    sa.CheckConstraint('0 < chronic_absence_rate AND chronic_absence_rate < severe_absence_rate AND severe_absence_rate <= 1', name=op.f('ck_threshold_settings_absence_rates_ordered')),
    sa.CheckConstraint('0 <= credits_grade9 AND credits_grade9 <= credits_grade10 AND credits_grade10 <= credits_grade11 AND credits_grade11 <= credits_grade12', name=op.f('ck_threshold_settings_credits_ordered')),
    sa.CheckConstraint('fafsa_deadline_day BETWEEN 1 AND 31', name=op.f('ck_threshold_settings_fafsa_day_range')),
    sa.CheckConstraint('fafsa_deadline_month BETWEEN 1 AND 12', name=op.f('ck_threshold_settings_fafsa_month_range')),
    sa.CheckConstraint('min_enrolled_days BETWEEN 1 AND 60', name=op.f('ck_threshold_settings_min_days_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_threshold_settings_created_by_id_users')),
    sa.ForeignKeyConstraint(['district_id'], ['organizations.id'], name=op.f('fk_threshold_settings_district_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_threshold_settings')),
    sa.UniqueConstraint('district_id', 'version', name=op.f('uq_threshold_settings_district_id_version'))
    )
    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('categories', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('signer_name', sa.String(length=200), nullable=False),
    sa.Column('signer_relationship', sa.String(length=20), nullable=False),
    sa.Column('signer_guardian_id', sa.Integer(), nullable=True),
    sa.Column('signer_user_id', sa.Integer(), nullable=True),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=12), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('statement_text', sa.Text(), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signer_address', postgresql.INET(), nullable=True),
    sa.Column('locale', sa.String(length=5), server_default='en', nullable=False),
    sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("cardinality(categories) > 0 AND categories <@ ARRAY['identity', 'attendance', 'grades', 'assessments', 'behavior', 'college', 'notes', 'services']::text[]", name=op.f('ck_consents_categories_valid')),
    sa.CheckConstraint("method = 'paper' OR (statement_text IS NOT NULL AND signed_at IS NOT NULL)", name=op.f('ck_consents_electronic_has_statement')),
    sa.CheckConstraint("method IN ('paper', 'electronic')", name=op.f('ck_consents_method_valid')),
    sa.CheckConstraint("signer_relationship IN ('parent', 'guardian', 'eligible_student')", name=op.f('ck_consents_signer_relationship_valid')),
    sa.CheckConstraint('signed_on <= expires_on', name=op.f('ck_consents_dates_ordered')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_consents_organization_id_organizations')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_consents_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['signer_guardian_id'], ['guardians.id'], name=op.f('fk_consents_signer_guardian_id_guardians')),
    sa.ForeignKeyConstraint(['signer_user_id'], ['users.id'], name=op.f('fk_consents_signer_user_id_users')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_consents_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents')),
    sa.UniqueConstraint('uuid', name=op.f('uq_consents_uuid'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index('ix_consents_student_org', ['student_id', 'organization_id'], unique=False)

    op.create_table('course_marks',
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=5), nullable=False),
    sa.Column('school_year', sa.SmallInteger(), nullable=False),
    sa.Column('mark', sa.String(length=8), nullable=False),
    sa.Column('failing', sa.Boolean(), nullable=False),
    sa.Column('credits_attempted', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('credits_earned', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=False),
    sa.CheckConstraint("term IN ('Q1', 'Q2', 'Q3', 'Q4', 'S1', 'S2', 'FINAL')", name=op.f('ck_course_marks_term_valid')),
    sa.CheckConstraint('credits_earned >= 0 AND credits_earned <= credits_attempted', name=op.f('ck_course_marks_credits_range')),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name=op.f('fk_course_marks_section_id_sections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_course_marks_student_id_students'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('student_id', 'section_id', 'term', name=op.f('pk_course_marks'))
    )
    op.create_table('guardian_links',
    sa.Column('guardian_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.Column('educational_rights', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.CheckConstraint("relation IN ('mother', 'father', 'parent', 'guardian', 'grandparent', 'other')", name=op.f('ck_guardian_links_relation_valid')),
    sa.ForeignKeyConstraint(['guardian_id'], ['guardians.id'], name=op.f('fk_guardian_links_guardian_id_guardians'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_guardian_links_student_id_students'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('guardian_id', 'student_id', name=op.f('pk_guardian_links'))
    )
    with op.batch_alter_table('guardian_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guardian_links_student_id'), ['student_id'], unique=False)

    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('flag_id', sa.Integer(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('service', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("service IN ('attendance_support', 'tutoring', 'mentoring', 'college_application', 'fafsa_help', 'family_support', 'other')", name=op.f('ck_referrals_service_valid')),
    sa.CheckConstraint("status IN ('awaiting_consent', 'sent', 'accepted', 'declined', 'closed')", name=op.f('ck_referrals_status_valid')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_referrals_created_by_id_users')),
    sa.ForeignKeyConstraint(['flag_id'], ['flags.id'], name=op.f('fk_referrals_flag_id_flags')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_referrals_organization_id_organizations')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_referrals_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('uuid', name=op.f('uq_referrals_uuid'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_org_status', ['organization_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_student_id'), ['student_id'], unique=False)

    op.create_table('section_enrollments',
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('exit_date', sa.Date(), nullable=True),
    sa.CheckConstraint('exit_date IS NULL OR exit_date >= entry_date', name=op.f('ck_section_enrollments_dates_ordered')),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name=op.f('fk_section_enrollments_section_id_sections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_section_enrollments_student_id_students'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('section_id', 'student_id', name=op.f('pk_section_enrollments'))
    )
    with op.batch_alter_table('section_enrollments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_section_enrollments_student_id'), ['student_id'], unique=False)

    op.create_table('service_agreement_schools',
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['service_agreements.id'], name=op.f('fk_service_agreement_schools_agreement_id_service_agreements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['organizations.id'], name=op.f('fk_service_agreement_schools_school_id_organizations')),
    sa.PrimaryKeyConstraint('agreement_id', 'school_id', name=op.f('pk_service_agreement_schools'))
    )
    with op.batch_alter_table('service_agreement_schools', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_agreement_schools_school_id'), ['school_id'], unique=False)

    op.create_table('support_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('flag_id', sa.Integer(), nullable=True),
    sa.Column('tier', sa.SmallInteger(), nullable=False),
    sa.Column('goal', sa.Text(), nullable=False),
    sa.Column('strategies', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('duration_weeks', sa.SmallInteger(), server_default='6', nullable=False),
    sa.Column('checkin_every_days', sa.SmallInteger(), server_default='7', nullable=False),
    sa.Column('status', sa.String(length=8), server_default='open', nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(status = 'closed') = (closed_on IS NOT NULL)", name=op.f('ck_support_plans_closed_has_date')),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_support_plans_status_valid')),
    sa.CheckConstraint('checkin_every_days BETWEEN 1 AND 90', name=op.f('ck_support_plans_checkin_range')),
    sa.CheckConstraint('duration_weeks BETWEEN 1 AND 52', name=op.f('ck_support_plans_duration_range')),
    sa.CheckConstraint('tier BETWEEN 1 AND 3', name=op.f('ck_support_plans_tier_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_support_plans_created_by_id_users')),
    sa.ForeignKeyConstraint(['flag_id'], ['flags.id'], name=op.f('fk_support_plans_flag_id_flags')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_support_plans_owner_id_users')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_support_plans_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_plans')),
    sa.UniqueConstraint('uuid', name=op.f('uq_support_plans_uuid'))
    )
    with op.batch_alter_table('support_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_plans_student_id'), ['student_id'], unique=False)

    op.create_table('consent_revocations',
    sa.Column('consent_id', sa.Integer(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['consent_id'], ['consents.id'], name=op.f('fk_consent_revocations_consent_id_consents')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_consent_revocations_revoked_by_id_users')),
    sa.PrimaryKeyConstraint('consent_id', name=op.f('pk_consent_revocations'))
    )
    op.create_table('referral_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('by_user_id', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('awaiting_consent', 'sent', 'accepted', 'declined', 'closed')", name=op.f('ck_referral_events_status_valid')),
    sa.ForeignKeyConstraint(['by_user_id'], ['users.id'], name=op.f('fk_referral_events_by_user_id_users')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_events_referral_id_referrals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_events'))
    )
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_events_referral_id'), ['referral_id'], unique=False)

    op.create_table('support_plan_check_ins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['support_plans.id'], name=op.f('fk_support_plan_check_ins_plan_id_support_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_support_plan_check_ins_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_plan_check_ins'))
    )
    with op.batch_alter_table('support_plan_check_ins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_plan_check_ins_plan_id'), ['plan_id'], unique=False)



def downgrade():
    for table in APPEND_ONLY_TABLES:
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute("DROP FUNCTION casemgr_append_only()")
    drop_tables()


def drop_tables():
    with op.batch_alter_table('support_plan_check_ins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_plan_check_ins_plan_id'))

    op.drop_table('support_plan_check_ins')
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_events_referral_id'))

    op.drop_table('referral_events')
    op.drop_table('consent_revocations')
    with op.batch_alter_table('support_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_plans_student_id'))

    op.drop_table('support_plans')
    with op.batch_alter_table('service_agreement_schools', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_agreement_schools_school_id'))

    op.drop_table('service_agreement_schools')
    with op.batch_alter_table('section_enrollments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_section_enrollments_student_id'))

    op.drop_table('section_enrollments')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_student_id'))
        batch_op.drop_index('ix_referrals_org_status')

    op.drop_table('referrals')
    with op.batch_alter_table('guardian_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guardian_links_student_id'))

    op.drop_table('guardian_links')
    op.drop_table('course_marks')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index('ix_consents_student_org')
        batch_op.drop_index(batch_op.f('ix_consents_organization_id'))

    op.drop_table('consents')
    op.drop_table('threshold_settings')
    with op.batch_alter_table('service_agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_agreements_organization_id'))

    op.drop_table('service_agreements')
    with op.batch_alter_table('sections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sections_teacher_id'))
        batch_op.drop_index(batch_op.f('ix_sections_school_id'))

    op.drop_table('sections')
    with op.batch_alter_table('roster_entries', schema=None) as batch_op:
        batch_op.drop_index('uq_roster_entries_active', postgresql_where=sa.text('removed_on IS NULL'))
        batch_op.drop_index(batch_op.f('ix_roster_entries_student_id'))

    op.drop_table('roster_entries')
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.drop_index('ix_notes_student_created')
        batch_op.drop_index(batch_op.f('ix_notes_author_id'))
        batch_op.drop_index(batch_op.f('ix_notes_amends_id'))

    op.drop_table('notes')
    op.drop_table('import_batches')
    op.drop_table('guardians')
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flags_student_id'))

    op.drop_table('flags')
    with op.batch_alter_table('disclosure_log', schema=None) as batch_op:
        batch_op.drop_index('ix_disclosure_log_user_at')
        batch_op.drop_index('ix_disclosure_log_student_at')
        batch_op.drop_index('ix_disclosure_log_org_at')

    op.drop_table('disclosure_log')
    with op.batch_alter_table('data_sharing_agreements', schema=None) as batch_op:
        batch_op.drop_index('ix_dsa_org_dates')

    op.drop_table('data_sharing_agreements')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_role'))
        batch_op.drop_index(batch_op.f('ix_users_organization_id'))

    op.drop_table('users')
    with op.batch_alter_table('school_enrollments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_school_enrollments_student_id'))
        batch_op.drop_index(batch_op.f('ix_school_enrollments_school_id'))

    op.drop_table('school_enrollments')
    op.drop_table('fafsa_records')
    with op.batch_alter_table('discipline_incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discipline_incidents_student_id'))

    op.drop_table('discipline_incidents')
    op.drop_table('credit_records')
    op.drop_table('attendance_days')
    op.drop_table('assessments')
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.drop_index('ix_students_school_grade')
        batch_op.drop_index('ix_students_last_first')
        batch_op.drop_index(batch_op.f('ix_students_district_id'))

    op.drop_table('students')
    op.drop_table('school_years')
    op.drop_table('calendar_days')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organizations_district_id'))

    op.drop_table('organizations')
