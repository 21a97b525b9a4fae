"""A data-sharing agreement's purpose in each language the district offers families
besides its default one (`purpose_translations`, {"es": "..."}), so a family reads the
purpose of a consent in their own language.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 03:00:00.000000

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('data_sharing_agreements', sa.Column(
        'purpose_translations', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False))


def downgrade():
    op.drop_column('data_sharing_agreements', 'purpose_translations')
