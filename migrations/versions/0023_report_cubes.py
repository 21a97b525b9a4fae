"""Reports (issue 15): a district's minimum group size for published figures (default 10,
NCES 2011-603), and the protected figures of each measure and school year, stored once
computed and removed when the year's indicators are recomputed.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 06:20:00.000000

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('school_years', sa.Column('indicators_computed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('organizations', sa.Column('report_minimum_n', sa.SmallInteger(), server_default='10',
                                             nullable=False))
    op.create_check_constraint(op.f('ck_organizations_report_minimum_n_range'), 'organizations', 'report_minimum_n BETWEEN 5 AND 100')
    op.create_table(
        'report_cubes',
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.Column('school_year', sa.SmallInteger(), nullable=False),
        sa.Column('measure', sa.String(length=40), nullable=False),
        sa.Column('minimum_n', sa.SmallInteger(), nullable=False),
        sa.Column('month', sa.SmallInteger(), server_default='0', nullable=False),
        sa.Column('figures', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['district_id'], ['organizations.id'], name=op.f('fk_report_cubes_district_id_organizations')),
        sa.PrimaryKeyConstraint('district_id', 'school_year', 'measure', 'minimum_n', 'month',
                                name=op.f('pk_report_cubes')),
    )
    op.create_table(
        'indicator_months',
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('school_year', sa.SmallInteger(), nullable=False),
        sa.Column('month_end', sa.Date(), nullable=False),
        sa.Column('settings_id', sa.Integer(), nullable=False),
        sa.Column('days_enrolled', sa.Integer(), nullable=False),
        sa.Column('chronic_absence', sa.Boolean(), nullable=False),
        sa.Column('severe_absence', sa.Boolean(), nullable=False),
        sa.Column('course_failures', sa.SmallInteger(), nullable=False),
        sa.Column('core_failure', sa.Boolean(), nullable=False),
        sa.Column('ninth_grade_on_track', sa.Boolean(), nullable=True),
        sa.Column('credits_on_track', sa.Boolean(), nullable=True),
        sa.Column('suspensions', sa.SmallInteger(), nullable=False),
        sa.Column('fafsa_status', sa.String(length=12), nullable=True),
        sa.Column('tier', sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_indicator_months_student_id_students'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['settings_id'], ['threshold_settings.id'],
                                name=op.f('fk_indicator_months_settings_id_threshold_settings')),
        sa.PrimaryKeyConstraint('student_id', 'school_year', 'month_end', name=op.f('pk_indicator_months')),
    )
    op.create_index('ix_indicator_months_year_month', 'indicator_months', ['school_year', 'month_end'], unique=False)
    op.create_table(
        'report_log',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=True),
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('parameters', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=True),
        sa.Column('file_sha256', sa.String(length=64), nullable=True),
        sa.Column('request_path', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_report_log_organization_id_organizations')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_report_log_user_id_users')),
        sa.ForeignKeyConstraint(['district_id'], ['organizations.id'],
                                name=op.f('fk_report_log_district_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_log')),
    )
    op.create_index('ix_report_log_occurred_at', 'report_log', ['occurred_at'], unique=False)
    op.create_index(op.f('ix_report_log_user_id'), 'report_log', ['user_id'], unique=False)
    op.create_index(op.f('ix_report_log_district_id'), 'report_log', ['district_id'], unique=False)
    op.execute("CREATE TRIGGER report_log_append_only BEFORE UPDATE OR DELETE ON report_log "
               "FOR EACH ROW EXECUTE FUNCTION casemgr_append_only()")
    op.execute("CREATE TRIGGER report_log_no_truncate BEFORE TRUNCATE ON report_log "
               "FOR EACH STATEMENT EXECUTE FUNCTION casemgr_append_only()")


def downgrade():
    op.drop_table('indicator_months')
    op.drop_table('report_log')
    op.drop_table('report_cubes')
    op.drop_constraint(op.f('ck_organizations_report_minimum_n_range'), 'organizations', type_='check')
    op.drop_column('organizations', 'report_minimum_n')
    op.drop_column('school_years', 'indicators_computed_at')
