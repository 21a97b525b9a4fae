"""Consent asks: a partner's request that the school ask a student's family for consent,
open until a counselor or principal of the school marks it handled; one open request per
student and organization.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 03:00:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

CATEGORIES = "'identity', 'attendance', 'grades', 'assessments', 'behavior', 'college', 'notes', 'services'"


def upgrade():
    op.create_table('consent_asks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('categories', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('asked_by_id', sa.Integer(), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('handled_note', sa.Text(), nullable=True),
    sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint(f"cardinality(categories) > 0 AND categories <@ ARRAY[{CATEGORIES}]::text[]",
                       name=op.f('ck_consent_asks_categories_valid')),
    sa.CheckConstraint('(handled_at IS NULL) = (handled_by_id IS NULL)', name=op.f('ck_consent_asks_handled_by_someone')),
    sa.CheckConstraint('char_length(handled_note) <= 500', name=op.f('ck_consent_asks_handled_note_length')),
    sa.ForeignKeyConstraint(['asked_by_id'], ['users.id'], name=op.f('fk_consent_asks_asked_by_id_users')),
    sa.ForeignKeyConstraint(['handled_by_id'], ['users.id'], name=op.f('fk_consent_asks_handled_by_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_consent_asks_organization_id_organizations')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_consent_asks_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_asks')),
    sa.UniqueConstraint('uuid', name=op.f('uq_consent_asks_uuid'))
    )
    op.create_index('uq_consent_asks_open', 'consent_asks', ['student_id', 'organization_id'], unique=True,
                    postgresql_where=sa.text('handled_at IS NULL'))


def downgrade():
    op.drop_index('uq_consent_asks_open', table_name='consent_asks', postgresql_where=sa.text('handled_at IS NULL'))
    op.drop_table('consent_asks')
