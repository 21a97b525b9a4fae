"""Research projects under written agreement (issue 16 item 1; FERPA 34 CFR 99.31(a)(6)):
a district's studies with their research organization, purpose, ethics approval,
approved variables, school years, schools and dates, and the researcher accounts
attached to each; each project's secret key for its pseudonyms.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 09:20:00.000000

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

VARIABLES = "'school', 'grade', 'gender', 'ethnicity', 'low_income', 'english_learner', 'disability', 'birth_year', 'days_enrolled', 'attendance_rate', 'chronic_absence', 'severe_absence', 'course_failures', 'core_failure', 'ninth_grade_on_track', 'credits_on_track', 'fafsa_status', 'suspensions', 'tier'"


def upgrade():
    op.create_table(
        'research_projects',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('purpose', sa.Text(), nullable=False),
        sa.Column('approval_reference', sa.String(length=200), nullable=False),
        sa.Column('variables', postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column('school_years', postgresql.ARRAY(sa.SmallInteger()), nullable=False),
        sa.Column('school_ids', postgresql.ARRAY(sa.Integer()), server_default='{}', nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('destroy_by', sa.Date(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('pseudonym_secret', sa.LargeBinary(length=32), nullable=False),
        sa.Column('extract_generalization', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint(f"cardinality(variables) > 0 AND variables <@ ARRAY[{VARIABLES}]::text[]",
                           name=op.f('ck_research_projects_variables_valid')),
        sa.CheckConstraint('cardinality(school_years) > 0', name=op.f('ck_research_projects_school_years_given')),
        sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_research_projects_dates_ordered')),
        sa.CheckConstraint('ends_on <= destroy_by', name=op.f('ck_research_projects_destroyed_after_it_ends')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_research_projects_created_by_id_users')),
        sa.ForeignKeyConstraint(['district_id'], ['organizations.id'],
                                name=op.f('fk_research_projects_district_id_organizations')),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_research_projects_organization_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_research_projects')),
        sa.UniqueConstraint('uuid', name=op.f('uq_research_projects_uuid')),
    )
    op.create_index('ix_research_projects_district', 'research_projects', ['district_id', 'starts_on'], unique=False)
    op.create_index(op.f('ix_research_projects_organization_id'), 'research_projects', ['organization_id'],
                    unique=False)
    op.create_table(
        'research_project_members',
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('added_by_id', sa.Integer(), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_research_project_members_added_by_id_users')),
        sa.ForeignKeyConstraint(['project_id'], ['research_projects.id'],
                                name=op.f('fk_research_project_members_project_id_research_projects')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_research_project_members_user_id_users')),
        sa.PrimaryKeyConstraint('project_id', 'user_id', name=op.f('pk_research_project_members')),
    )
    op.create_index(op.f('ix_research_project_members_user_id'), 'research_project_members', ['user_id'], unique=False)


def downgrade():
    op.drop_table('research_project_members')
    op.drop_table('research_projects')
