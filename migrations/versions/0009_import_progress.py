"""An import's progress on its batch row (issue 12 item 5): the file's size and how much
of it is read, the rows staged, the step under way and a heartbeat; and the status
`interrupted`, for a batch whose process ended while it was running.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 20:45:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

STATUSES = "'running', 'succeeded', 'rejected', 'failed'"


def upgrade():
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bytes_total', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('bytes_done', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('rows_done', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('phase', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                                      nullable=True))
        batch_op.alter_column('status', type_=sa.String(length=12), existing_type=sa.String(length=10),
                              existing_nullable=False)
        batch_op.drop_constraint(op.f('ck_import_batches_status_valid'), type_='check')
        batch_op.create_check_constraint(op.f('ck_import_batches_status_valid'),
                                         f"status IN ({STATUSES}, 'interrupted')")


def downgrade():
    # an interrupted import was, in the older schema's words, a failed one
    op.execute("UPDATE import_batches SET status = 'failed' WHERE status = 'interrupted'")
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_import_batches_status_valid'), type_='check')
        batch_op.create_check_constraint(op.f('ck_import_batches_status_valid'), f"status IN ({STATUSES})")
        batch_op.alter_column('status', type_=sa.String(length=10), existing_type=sa.String(length=12),
                              existing_nullable=False)
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('phase')
        batch_op.drop_column('rows_done')
        batch_op.drop_column('bytes_done')
        batch_op.drop_column('bytes_total')
