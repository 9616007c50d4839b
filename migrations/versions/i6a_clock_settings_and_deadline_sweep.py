"""Versioned clock settings, deadline-sweep claims and clock columns on stage visits

Revision ID: i6a
Revises: 0002
Create Date: 2026-11-23 23:10:20.202919

"""
from alembic import op
import sqlalchemy as sa

import pakn.models.types


# revision identifiers, used by Alembic.
revision = 'i6a'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('clock_setting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('forward_days', sa.Integer(), nullable=False),
    sa.Column('answer_days', sa.Integer(), nullable=False),
    sa.Column('answer_day_unit', sa.String(length=10), nullable=False),
    sa.Column('progress_update_days', sa.Integer(), nullable=False),
    sa.Column('result_entry_days', sa.Integer(), nullable=False),
    sa.Column('check_days', sa.Integer(), nullable=False),
    sa.Column('publish_days', sa.Integer(), nullable=False),
    sa.Column('reminder_days', sa.Integer(), nullable=False),
    sa.Column('needs_info_pauses', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', pakn.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("answer_day_unit IN ('calendar', 'working')", name=op.f('ck_clock_setting_answer_unit_known')),
    sa.CheckConstraint('forward_days BETWEEN 1 AND 60 AND answer_days BETWEEN 1 AND 120 AND progress_update_days BETWEEN 1 AND 60 AND result_entry_days BETWEEN 1 AND 30 AND check_days BETWEEN 1 AND 30 AND publish_days BETWEEN 1 AND 30 AND reminder_days BETWEEN 0 AND 30', name=op.f('ck_clock_setting_days_in_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_clock_setting_created_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clock_setting'))
    )
    op.create_table('deadline_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('due_at', pakn.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recipient_agency_id', sa.Integer(), nullable=True),
    sa.Column('run_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', pakn.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_notice')),
    sa.UniqueConstraint('visit_id', 'kind', 'sequence', name='uq_deadline_notice_claim')
    )
    with op.batch_alter_table('deadline_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadline_notice_run_id'), ['run_id'], unique=False)

    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clock_setting_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('answer_paused_days', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_feedback_clock_setting_id_clock_setting'), 'clock_setting', ['clock_setting_id'], ['id'])

    with op.batch_alter_table('stage_visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clock_setting_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('remind_at', pakn.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('due_status', sa.String(length=10), server_default='pending', nullable=False))
        batch_op.add_column(sa.Column('paused_at', pakn.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('paused_days', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('progress_seq', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('next_progress_at', pakn.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_stage_visit_due_unmarked', ['due_at'], unique=False, sqlite_where=sa.text("finished_at IS NULL AND due_status <> 'overdue'"), postgresql_where=sa.text("finished_at IS NULL AND due_status <> 'overdue'"))
        batch_op.create_index('ix_stage_visit_progress', ['next_progress_at'], unique=False, sqlite_where=sa.text('finished_at IS NULL AND next_progress_at IS NOT NULL'), postgresql_where=sa.text('finished_at IS NULL AND next_progress_at IS NOT NULL'))
        batch_op.create_index('ix_stage_visit_remind_pending', ['remind_at'], unique=False, sqlite_where=sa.text("finished_at IS NULL AND due_status = 'pending'"), postgresql_where=sa.text("finished_at IS NULL AND due_status = 'pending'"))
        batch_op.create_foreign_key(batch_op.f('fk_stage_visit_clock_setting_id_clock_setting'), 'clock_setting', ['clock_setting_id'], ['id'])
        batch_op.create_check_constraint('due_status_known', "due_status IN ('pending', 'due_soon', 'overdue')")
        batch_op.create_check_constraint('clock_counts_positive', 'paused_days >= 0 AND progress_seq >= 0')
        batch_op.create_check_constraint('extension_has_reason',
                                         '(extended_due_at IS NULL) = (extension_reason IS NULL)')



def downgrade():
    with op.batch_alter_table('stage_visit', schema=None) as batch_op:
        batch_op.drop_constraint('extension_has_reason', type_='check')
        batch_op.drop_constraint('clock_counts_positive', type_='check')
        batch_op.drop_constraint('due_status_known', type_='check')
        batch_op.drop_constraint(batch_op.f('fk_stage_visit_clock_setting_id_clock_setting'), type_='foreignkey')
        batch_op.drop_index('ix_stage_visit_remind_pending', sqlite_where=sa.text("finished_at IS NULL AND due_status = 'pending'"), postgresql_where=sa.text("finished_at IS NULL AND due_status = 'pending'"))
        batch_op.drop_index('ix_stage_visit_progress', sqlite_where=sa.text('finished_at IS NULL AND next_progress_at IS NOT NULL'), postgresql_where=sa.text('finished_at IS NULL AND next_progress_at IS NOT NULL'))
        batch_op.drop_index('ix_stage_visit_due_unmarked', sqlite_where=sa.text("finished_at IS NULL AND due_status <> 'overdue'"), postgresql_where=sa.text("finished_at IS NULL AND due_status <> 'overdue'"))
        batch_op.drop_column('next_progress_at')
        batch_op.drop_column('progress_seq')
        batch_op.drop_column('paused_days')
        batch_op.drop_column('paused_at')
        batch_op.drop_column('due_status')
        batch_op.drop_column('remind_at')
        batch_op.drop_column('clock_setting_id')

    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_feedback_clock_setting_id_clock_setting'), type_='foreignkey')
        batch_op.drop_column('answer_paused_days')
        batch_op.drop_column('clock_setting_id')

    with op.batch_alter_table('deadline_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deadline_notice_run_id'))

    op.drop_table('deadline_notice')
    op.drop_table('clock_setting')
