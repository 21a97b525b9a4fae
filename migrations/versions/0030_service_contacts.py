"""Services delivered (issue 17): program groups and their members, service contacts
(individual, group sessions with attendance, imported), and the district's dosage
threshold for counting a student as served by a program.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 13:45:00.000000

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

SERVICES = ("'attendance_support', 'tutoring', 'mentoring', 'college_application', 'fafsa_help', "
            "'family_support', 'other'")


def upgrade():
    op.add_column('organizations', sa.Column('served_min_hours', sa.SmallInteger(), server_default='10',
                                             nullable=False))
    op.create_check_constraint(op.f('ck_organizations_served_min_hours_range'), 'organizations',
                               'served_min_hours BETWEEN 1 AND 500')
    op.create_table(
        'program_groups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('service', sa.String(length=24), nullable=False),
        sa.Column('weekdays', postgresql.ARRAY(sa.SmallInteger()), server_default='{}', nullable=False),
        sa.Column('starts_at', sa.Time(), nullable=True),
        sa.Column('session_minutes', sa.SmallInteger(), server_default='60', nullable=False),
        sa.Column('leader_id', sa.Integer(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('archived_on', sa.Date(), nullable=True),
        sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint(f"service IN ({SERVICES})", name=op.f('ck_program_groups_service_valid')),
        sa.CheckConstraint('char_length(name) BETWEEN 1 AND 80', name=op.f('ck_program_groups_name_length')),
        sa.CheckConstraint('session_minutes BETWEEN 1 AND 720', name=op.f('ck_program_groups_session_minutes_range')),
        sa.CheckConstraint('weekdays <@ ARRAY[0, 1, 2, 3, 4, 5, 6]::smallint[]',
                           name=op.f('ck_program_groups_weekdays_valid')),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_program_groups_organization_id_organizations')),
        sa.ForeignKeyConstraint(['leader_id'], ['users.id'], name=op.f('fk_program_groups_leader_id_users')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_program_groups_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_program_groups')),
        sa.UniqueConstraint('uuid', name=op.f('uq_program_groups_uuid')),
    )
    op.create_index(op.f('ix_program_groups_organization_id'), 'program_groups', ['organization_id'])
    op.create_index('uq_program_groups_name', 'program_groups', ['organization_id', sa.text('lower(name)')],
                    unique=True, postgresql_where=sa.text('archived_on IS NULL'))
    op.create_table(
        'program_group_members',
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('added_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['program_groups.id'], ondelete='CASCADE',
                                name=op.f('fk_program_group_members_group_id_program_groups')),
        sa.ForeignKeyConstraint(['student_id'], ['students.id'], ondelete='CASCADE',
                                name=op.f('fk_program_group_members_student_id_students')),
        sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_program_group_members_added_by_id_users')),
        sa.PrimaryKeyConstraint('group_id', 'student_id', name=op.f('pk_program_group_members')),
    )
    op.create_index(op.f('ix_program_group_members_student_id'), 'program_group_members', ['student_id'])
    op.create_table(
        'service_contacts',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('service', sa.String(length=24), nullable=False),
        sa.Column('contact_on', sa.Date(), nullable=False),
        sa.Column('minutes', sa.SmallInteger(), nullable=False),
        sa.Column('mode', sa.String(length=10), nullable=False),
        sa.Column('attended', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=6), server_default='app', nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('note_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint(f"service IN ({SERVICES})", name=op.f('ck_service_contacts_service_valid')),
        sa.CheckConstraint("mode IN ('individual', 'group')", name=op.f('ck_service_contacts_mode_valid')),
        sa.CheckConstraint("source IN ('app', 'import')", name=op.f('ck_service_contacts_source_valid')),
        sa.CheckConstraint('minutes BETWEEN 1 AND 720', name=op.f('ck_service_contacts_minutes_range')),
        sa.CheckConstraint("group_id IS NULL OR mode = 'group'", name=op.f('ck_service_contacts_group_session_is_group')),
        sa.CheckConstraint('attended OR group_id IS NOT NULL', name=op.f('ck_service_contacts_absence_only_in_groups')),
        sa.ForeignKeyConstraint(['student_id'], ['students.id'], ondelete='CASCADE',
                                name=op.f('fk_service_contacts_student_id_students')),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_service_contacts_organization_id_organizations')),
        sa.ForeignKeyConstraint(['group_id'], ['program_groups.id'], name=op.f('fk_service_contacts_group_id_program_groups')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_service_contacts_recorded_by_id_users')),
        sa.ForeignKeyConstraint(['note_id'], ['notes.id'], name=op.f('fk_service_contacts_note_id_notes')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_contacts')),
        sa.UniqueConstraint('uuid', name=op.f('uq_service_contacts_uuid')),
    )
    op.create_index('uq_service_contacts_group_day', 'service_contacts', ['group_id', 'contact_on', 'student_id'],
                    unique=True, postgresql_where=sa.text('group_id IS NOT NULL'))
    op.create_index('uq_service_contacts_imported', 'service_contacts',
                    ['organization_id', 'student_id', 'contact_on', 'service'], unique=True,
                    postgresql_where=sa.text("source = 'import'"))
    op.create_index('ix_service_contacts_student_day', 'service_contacts', ['student_id', 'contact_on'])
    op.create_index('ix_service_contacts_program_day', 'service_contacts', ['organization_id', 'service', 'contact_on'])


def downgrade():
    op.drop_table('service_contacts')
    op.drop_table('program_group_members')
    op.drop_table('program_groups')
    op.execute("ALTER TABLE organizations DROP CONSTRAINT ck_organizations_served_min_hours_range")
    op.drop_column('organizations', 'served_min_hours')
