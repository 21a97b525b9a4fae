"""The disclosure log's archives record the rows a month leaves behind; the attendance
import stages its rows in a schema of their own.

A row's month is the time its transaction began, and its seq the order in which it took
its chain's head: a transaction begun just before midnight at a month's end can chain its
row after one begun just after midnight, so the next month holds a row with a lower seq
than the archived month's last. `disclosure_archives.left_in_log` lists such rows of a
chain ({"seq", "hash"}), which `casemgr audit verify` checks instead of skipping them.

The attendance import's unlogged staging tables move from the public schema to the
schema `import_staging`, owned by the owner, where the application role may create
tables (casemgr/db_roles.py); it no longer creates anything in public.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 03:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


STAGING_SCHEMA = 'import_staging'


def upgrade():
    op.execute(f"CREATE SCHEMA {STAGING_SCHEMA}")
    op.execute(f"REVOKE ALL ON SCHEMA {STAGING_SCHEMA} FROM PUBLIC")
    op.add_column('disclosure_archives', sa.Column('left_in_log', postgresql.JSONB(astext_type=sa.Text()),
                                                   server_default=sa.text("'[]'::jsonb"), nullable=False))


def downgrade():
    left = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM disclosure_archives WHERE left_in_log <> '[]'::jsonb")).scalar_one()
    if left:
        raise RuntimeError("an archived month of the disclosure log left rows of its chains in the log; the schema "
                           "before 0020 cannot verify them, so this downgrade stops here")
    op.drop_column('disclosure_archives', 'left_in_log')
    # with the staging tables an interrupted import left there
    op.execute(f"DROP SCHEMA {STAGING_SCHEMA} CASCADE")
