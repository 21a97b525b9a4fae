"""Research across the partnership and families' choice (issue 16 items 3 and 5): the
districts a research project covers, each with its own approval; the district setting
that lets families keep their child out of research extracts, and their requests.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 11:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('organizations', sa.Column('research_opt_out_allowed', sa.Boolean(), server_default=sa.false(),
                                             nullable=False))
    op.create_table(
        'research_project_districts',
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.Column('invited_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('approved_by_id', sa.Integer(), nullable=True),
        sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('(approved_at IS NULL) = (approved_by_id IS NULL)',
                           name=op.f('ck_research_project_districts_approval_complete')),
        sa.CheckConstraint('(withdrawn_at IS NULL) = (withdrawn_by_id IS NULL)',
                           name=op.f('ck_research_project_districts_withdrawal_complete')),
        sa.CheckConstraint('withdrawn_at IS NULL OR approved_at IS NOT NULL',
                           name=op.f('ck_research_project_districts_withdrawn_after_approval')),
        sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'],
                                name=op.f('fk_research_project_districts_approved_by_id_users')),
        sa.ForeignKeyConstraint(['district_id'], ['organizations.id'],
                                name=op.f('fk_research_project_districts_district_id_organizations')),
        sa.ForeignKeyConstraint(['project_id'], ['research_projects.id'],
                                name=op.f('fk_research_project_districts_project_id_research_projects')),
        sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'],
                                name=op.f('fk_research_project_districts_withdrawn_by_id_users')),
        sa.PrimaryKeyConstraint('project_id', 'district_id', name=op.f('pk_research_project_districts')),
    )
    op.create_index(op.f('ix_research_project_districts_district_id'), 'research_project_districts', ['district_id'],
                    unique=False)
    # every project recorded so far covers its own district, approved by whoever recorded it
    op.execute("""
        INSERT INTO research_project_districts (project_id, district_id, invited_at, approved_by_id, approved_at)
        SELECT id, district_id, created_at, created_by_id, created_at FROM research_projects""")
    op.create_table(
        'research_opt_outs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('(withdrawn_at IS NULL) = (withdrawn_by_id IS NULL)',
                           name=op.f('ck_research_opt_outs_withdrawal_complete')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                                name=op.f('fk_research_opt_outs_requested_by_id_users')),
        sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_research_opt_outs_student_id_students')),
        sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'],
                                name=op.f('fk_research_opt_outs_withdrawn_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_research_opt_outs')),
    )
    op.create_index(op.f('ix_research_opt_outs_student_id'), 'research_opt_outs', ['student_id'], unique=False)
    op.create_index('uq_research_opt_outs_in_force', 'research_opt_outs', ['student_id'], unique=True,
                    postgresql_where=sa.text('withdrawn_at IS NULL'))


def downgrade():
    op.drop_table('research_opt_outs')
    op.drop_table('research_project_districts')
    op.drop_column('organizations', 'research_opt_out_allowed')
