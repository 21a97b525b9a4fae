"""The stored report figures in the shape a page reads them: by the grouping they belong
to (the total, a breakdown, a breakdown crossed with the school), so that a page reads
only the groupings it shows. The stored figures are recomputed on first use, so those in
the former shape are removed; and the figures of a school year are now protected with
every measure together (casemgr/suppression.py), so none of the former ones may be shown.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 09:45:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DELETE FROM report_cubes")


def downgrade():
    op.execute("DELETE FROM report_cubes")
