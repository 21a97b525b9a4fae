"""Annual partnership reports as published (issue 15, item 5): the content frozen at
publication, and the secret part of the public link when the district makes one.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 06:30:00.000000

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'published_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.Column('school_year', sa.SmallInteger(), nullable=False),
        sa.Column('baseline_year', sa.SmallInteger(), nullable=False),
        sa.Column('content', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('published_by_id', sa.Integer(), nullable=False),
        sa.Column('public_token', sa.String(length=64), nullable=True),
        sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.CheckConstraint('baseline_year < school_year', name=op.f('ck_published_reports_baseline_before')),
        sa.ForeignKeyConstraint(['district_id'], ['organizations.id'],
                                name=op.f('fk_published_reports_district_id_organizations')),
        sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_published_reports_published_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_published_reports')),
        sa.UniqueConstraint('public_token', name=op.f('uq_published_reports_public_token')),
        sa.UniqueConstraint('uuid', name=op.f('uq_published_reports_uuid')),
    )
    op.create_index(op.f('ix_published_reports_district_id'), 'published_reports', ['district_id'], unique=False)


def downgrade():
    op.drop_table('published_reports')
