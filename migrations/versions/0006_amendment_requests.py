"""Requests to amend a record (FERPA 34 CFR 99.20) and the school's decisions on them,
both append-only in the database.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

APPEND_ONLY_TABLES = ("amendment_requests", "amendment_request_events")
PARTS = "'attendance', 'course_mark', 'credits', 'assessments', 'discipline', 'fafsa', 'contact', 'other'"


def upgrade():
    op.create_table('amendment_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('part', sa.String(length=16), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('uuid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint(f"part IN ({PARTS})", name=op.f('ck_amendment_requests_part_valid')),
    sa.CheckConstraint('char_length(message) BETWEEN 1 AND 2000', name=op.f('ck_amendment_requests_message_length')),
    sa.CheckConstraint('char_length(item) <= 200', name=op.f('ck_amendment_requests_item_length')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_amendment_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_amendment_requests_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_amendment_requests')),
    sa.UniqueConstraint('uuid', name=op.f('uq_amendment_requests_uuid'))
    )
    op.create_index('ix_amendment_requests_student_created', 'amendment_requests', ['student_id', 'created_at'],
                    unique=False)
    op.create_table('amendment_request_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("decision IN ('accepted', 'denied')", name=op.f('ck_amendment_request_events_decision_valid')),
    sa.CheckConstraint('char_length(answer) BETWEEN 1 AND 2000', name=op.f('ck_amendment_request_events_answer_length')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_amendment_request_events_decided_by_id_users')),
    sa.ForeignKeyConstraint(['request_id'], ['amendment_requests.id'], name=op.f('fk_amendment_request_events_request_id_amendment_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_amendment_request_events')),
    sa.UniqueConstraint('request_id', name=op.f('uq_amendment_request_events_request_id'))
    )
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION casemgr_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION casemgr_append_only()"
        )


def downgrade():
    for table in APPEND_ONLY_TABLES:
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.drop_table('amendment_request_events')
    op.drop_index('ix_amendment_requests_student_created', table_name='amendment_requests')
    op.drop_table('amendment_requests')
