"""Each student's computed indicators and tier per school year (SPEC §5).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:08:14.401130

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('student_indicators',
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('school_year', sa.SmallInteger(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('settings_id', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('days_enrolled', sa.Integer(), nullable=False),
    sa.Column('days_absent', sa.Integer(), nullable=False),
    sa.Column('attendance_rate', sa.Numeric(precision=5, scale=4), nullable=True),
    sa.Column('attendance_band', sa.String(length=10), nullable=True),
    sa.Column('chronic_absence', sa.Boolean(), nullable=False),
    sa.Column('severe_absence', sa.Boolean(), nullable=False),
    sa.Column('course_failures', sa.SmallInteger(), nullable=False),
    sa.Column('core_failure', sa.Boolean(), nullable=False),
    sa.Column('ninth_grade_on_track', sa.Boolean(), nullable=True),
    sa.Column('credits_earned', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('credits_expected', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('credits_on_track', sa.Boolean(), nullable=True),
    sa.Column('suspensions', sa.SmallInteger(), nullable=False),
    sa.Column('fafsa_status', sa.String(length=12), nullable=True),
    sa.Column('fafsa_off_track', sa.Boolean(), nullable=True),
    sa.Column('off_track_count', sa.SmallInteger(), nullable=False),
    sa.Column('tier', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint("attendance_band IS NULL OR attendance_band IN ('on_track', 'watch', 'at_risk', 'critical')", name=op.f('ck_student_indicators_attendance_band_valid')),
    sa.CheckConstraint("fafsa_status IS NULL OR fafsa_status IN ('not_started', 'submitted', 'incomplete', 'complete')", name=op.f('ck_student_indicators_fafsa_status_valid')),
    sa.CheckConstraint('days_absent >= 0 AND days_enrolled >= 0', name=op.f('ck_student_indicators_days_non_negative')),
    sa.CheckConstraint('tier BETWEEN 1 AND 3', name=op.f('ck_student_indicators_tier_range')),
    sa.ForeignKeyConstraint(['settings_id'], ['threshold_settings.id'], name=op.f('fk_student_indicators_settings_id_threshold_settings')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_student_indicators_student_id_students'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('student_id', 'school_year', name=op.f('pk_student_indicators'))
    )
    with op.batch_alter_table('student_indicators', schema=None) as batch_op:
        batch_op.create_index('ix_student_indicators_year_tier', ['school_year', 'tier'], unique=False)



def downgrade():
    with op.batch_alter_table('student_indicators', schema=None) as batch_op:
        batch_op.drop_index('ix_student_indicators_year_tier')

    op.drop_table('student_indicators')
