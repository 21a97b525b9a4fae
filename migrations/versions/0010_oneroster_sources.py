"""OneRoster as the specification defines it (issue 12): the sourcedIds of imported
records kept per district, so a delta bundle can refer to rows of earlier ones; a
district's mapping of OneRoster orgs to casemgr schools; on import batches the rows
skipped and the counts per file of a bundle.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 21:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('source_ids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('sourced_id', sa.String(length=255), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("entity IN ('org', 'student', 'teacher', 'guardian', 'class', 'enrollment')",
                       name=op.f('ck_source_ids_entity_valid')),
    sa.CheckConstraint("source IN ('oneroster')", name=op.f('ck_source_ids_source_valid')),
    sa.ForeignKeyConstraint(['district_id'], ['organizations.id'], name=op.f('fk_source_ids_district_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_ids')),
    sa.UniqueConstraint('district_id', 'source', 'entity', 'sourced_id',
                        name=op.f('uq_source_ids_district_id_source_entity_sourced_id'))
    )
    op.create_table('source_schools',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('org_key', sa.String(length=255), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("source IN ('oneroster')", name=op.f('ck_source_schools_source_valid')),
    sa.ForeignKeyConstraint(['district_id'], ['organizations.id'], name=op.f('fk_source_schools_district_id_organizations')),
    sa.ForeignKeyConstraint(['school_id'], ['organizations.id'], name=op.f('fk_source_schools_school_id_organizations'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_schools')),
    sa.UniqueConstraint('district_id', 'source', 'org_key', name=op.f('uq_source_schools_district_id_source_org_key'))
    )
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rows_skipped', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('file_counts', postgresql.JSONB(astext_type=sa.Text()), server_default='{}',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_column('file_counts')
        batch_op.drop_column('rows_skipped')
    op.drop_table('source_schools')
    op.drop_table('source_ids')
