"""Outcomes by program (issue 17 item 4): per program (a partner organization's service),
school year and school (or all schools), the students served and their matched
comparison students, and how each side's attendance, course failures and tier changed
after service began; each row twice, for the district's readers and for the partner's
own (only the served students on its roster whose consent covers attendance).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-08 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None

SERVICES = ("'attendance_support', 'tutoring', 'mentoring', 'college_application', 'fafsa_help', "
            "'family_support', 'other'")


def _rate(name: str) -> sa.Column:
    return sa.Column(name, sa.Numeric(precision=5, scale=4), nullable=True)


def _mean(name: str) -> sa.Column:
    return sa.Column(name, sa.Numeric(precision=6, scale=3), nullable=True)


def upgrade():
    op.create_table(
        'program_outcomes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('audience', sa.String(length=8), server_default='district', nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.Column('school_year', sa.SmallInteger(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('service', sa.String(length=24), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=True),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('served_min_hours', sa.SmallInteger(), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('served_n', sa.Integer(), nullable=False),
        sa.Column('matched_n', sa.Integer(), nullable=False),
        sa.Column('unmatched_n', sa.Integer(), nullable=False),
        sa.Column('comparison_n', sa.Integer(), nullable=False),
        sa.Column('served_hours', sa.Numeric(precision=10, scale=1), nullable=False),
        sa.Column('attendance_n', sa.Integer(), nullable=False),
        sa.Column('attendance_comparison_n', sa.Integer(), nullable=False),
        _rate('attendance_before_served'),
        _rate('attendance_after_served'),
        _rate('attendance_before_comparison'),
        _rate('attendance_after_comparison'),
        sa.Column('failures_n', sa.Integer(), nullable=False),
        sa.Column('failures_comparison_n', sa.Integer(), nullable=False),
        _mean('failures_served'),
        _mean('failures_comparison'),
        _rate('failing_share_served'),
        _rate('failing_share_comparison'),
        sa.Column('tier_n', sa.Integer(), nullable=False),
        sa.Column('tier_comparison_n', sa.Integer(), nullable=False),
        _mean('tier_change_served'),
        _mean('tier_change_comparison'),
        _rate('tier_improved_served'),
        _rate('tier_improved_comparison'),
        _rate('tier_worsened_served'),
        _rate('tier_worsened_comparison'),
        sa.CheckConstraint(f"service IN ({SERVICES})", name=op.f('ck_program_outcomes_service_valid')),
        sa.CheckConstraint('matched_n + unmatched_n = served_n', name=op.f('ck_program_outcomes_served_matched_or_not')),
        sa.CheckConstraint("audience IN ('district', 'partner')", name=op.f('ck_program_outcomes_audience_valid')),
        sa.ForeignKeyConstraint(['district_id'], ['organizations.id'],
                                name=op.f('fk_program_outcomes_district_id_organizations')),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_program_outcomes_organization_id_organizations')),
        sa.ForeignKeyConstraint(['school_id'], ['organizations.id'],
                                name=op.f('fk_program_outcomes_school_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_program_outcomes')),
    )
    op.create_index('uq_program_outcomes_program_school', 'program_outcomes',
                    ['district_id', 'school_year', 'organization_id', 'service', 'school_id', 'audience'], unique=True,
                    postgresql_nulls_not_distinct=True)


def downgrade():
    op.drop_index('uq_program_outcomes_program_school', table_name='program_outcomes')
    op.drop_table('program_outcomes')
