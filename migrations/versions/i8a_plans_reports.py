"""Plans: imported appendices, task hierarchy, units linked to agencies, parsed timeframes,
plan in force; agency aliases; plan import previews; filed periodic reports

Revision ID: i8a
Revises: 0002
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import pakn.models.types

revision = 'i8a'
down_revision = '0002'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
BINDINGS = "'receive_classify', 'handle', 'notify_publish', 'report', 'report_consolidated'"
KINDS = "'ongoing', 'period', 'deadline', 'recurring', 'unparsed'"


def upgrade():
    with op.batch_alter_table('plan') as batch:
        batch.add_column(sa.Column('year', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('in_force', sa.Boolean(), nullable=False, server_default=sa.text('false')))
        batch.add_column(sa.Column('source_name', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('updated_at', pakn.models.types.UTCDateTime(timezone=True), nullable=True))
        batch.create_index('uq_plan_single_in_force', ['in_force'], unique=True,
                           sqlite_where=sa.text('in_force'), postgresql_where=sa.text('in_force'))

    with op.batch_alter_table('plan_task') as batch:
        batch.drop_constraint('uq_plan_task_plan_number', type_='unique')
        batch.add_column(sa.Column('appendix', sa.Integer(), nullable=False, server_default='1'))
        batch.add_column(sa.Column('part', sa.Integer(), nullable=False, server_default='1'))
        batch.add_column(sa.Column('heading', sa.Text(), nullable=True))
        batch.add_column(sa.Column('is_group', sa.Boolean(), nullable=False, server_default=sa.text('false')))
        batch.add_column(sa.Column('timeframe_kind', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('period_start', sa.Date(), nullable=True))
        batch.add_column(sa.Column('period_end', sa.Date(), nullable=True))
        batch.add_column(sa.Column('due_before', sa.Date(), nullable=True))
        batch.add_column(sa.Column('schedule', JSON, nullable=True))
        batch.add_column(sa.Column('done_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('done_note', sa.Text(), nullable=True))
        batch.create_unique_constraint('uq_plan_task_plan_number', ['plan_id', 'appendix', 'number', 'part'])
        batch.create_check_constraint(op.f('ck_plan_task_part_positive'), 'part >= 1 AND appendix >= 1')
        batch.create_check_constraint(op.f('ck_plan_task_timeframe_kind_known'), f'timeframe_kind IS NULL OR timeframe_kind IN ({KINDS})')
        batch.create_check_constraint(op.f('ck_plan_task_binding_known'), f'binding IS NULL OR binding IN ({BINDINGS})')
        batch.create_check_constraint(op.f('ck_plan_task_period_ordered'),
                                      'period_start IS NULL OR period_end IS NULL OR period_start <= period_end')
        batch.create_check_constraint(op.f('ck_plan_task_done_note_needs_date'), 'done_on IS NOT NULL OR done_note IS NULL')
        batch.create_index('uq_plan_task_plan_binding', ['plan_id', 'binding'], unique=True,
                           sqlite_where=sa.text('binding IS NOT NULL'),
                           postgresql_where=sa.text('binding IS NOT NULL'))

    op.create_table(
        'plan_task_unit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('folded', sa.Text(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("role IN ('lead', 'cooperating')", name=op.f('ck_plan_task_unit_role_known')),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_plan_task_unit_agency_id_agency')),
        sa.ForeignKeyConstraint(['task_id'], ['plan_task.id'], name=op.f('fk_plan_task_unit_task_id_plan_task'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_task_unit')),
    )
    with op.batch_alter_table('plan_task_unit') as batch:
        batch.create_index(batch.f('ix_plan_task_unit_task_id'), ['task_id'], unique=False)
        batch.create_index(batch.f('ix_plan_task_unit_agency_id'), ['agency_id'], unique=False)
        batch.create_index(batch.f('ix_plan_task_unit_folded'), ['folded'], unique=False)

    op.create_table(
        'agency_alias',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('folded', sa.String(length=500), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', pakn.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_agency_alias_agency_id_agency'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'],
                                name=op.f('fk_agency_alias_created_by_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_alias')),
        sa.UniqueConstraint('folded', name=op.f('uq_agency_alias_folded')),
    )
    with op.batch_alter_table('agency_alias') as batch:
        batch.create_index(batch.f('ix_agency_alias_agency_id'), ['agency_id'], unique=False)

    op.create_table(
        'plan_import',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', pakn.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('source_format', sa.String(length=10), nullable=False),
        sa.Column('parsed', JSON, nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=True),
        sa.Column('applied_at', pakn.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint('(applied_at IS NULL) = (plan_id IS NULL)', name=op.f('ck_plan_import_applied_has_plan')),
        sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'],
                                name=op.f('fk_plan_import_created_by_id_app_user')),
        sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_import_plan_id_plan'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_import')),
    )

    op.create_table(
        'report_filing',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=2), nullable=False),
        sa.Column('filed_at', pakn.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('filed_by_id', sa.Integer(), nullable=True),
        sa.Column('figures', JSON, nullable=False),
        sa.CheckConstraint("period IN ('Q1', 'Q2', 'Q3', 'Y')", name=op.f('ck_report_filing_period_known')),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_report_filing_agency_id_agency')),
        sa.ForeignKeyConstraint(['filed_by_id'], ['app_user.id'], name=op.f('fk_report_filing_filed_by_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_filing')),
        sa.UniqueConstraint('agency_id', 'year', 'period', name='uq_report_filing_agency_period'),
    )
    with op.batch_alter_table('report_filing') as batch:
        batch.create_index(batch.f('ix_report_filing_agency_id'), ['agency_id'], unique=False)


def downgrade():
    op.drop_table('report_filing')
    op.drop_table('plan_import')
    op.drop_table('agency_alias')
    op.drop_table('plan_task_unit')
    with op.batch_alter_table('plan_task') as batch:
        batch.drop_index('uq_plan_task_plan_binding')
        for name in ('done_note_needs_date', 'period_ordered', 'binding_known', 'timeframe_kind_known',
                     'part_positive'):
            batch.drop_constraint(op.f(f'ck_plan_task_{name}'), type_='check')
        batch.drop_constraint('uq_plan_task_plan_number', type_='unique')
        for column in ('done_note', 'done_on', 'schedule', 'due_before', 'period_end', 'period_start',
                       'timeframe_kind', 'is_group', 'heading', 'part', 'appendix'):
            batch.drop_column(column)
        batch.create_unique_constraint('uq_plan_task_plan_number', ['plan_id', 'number'])
    with op.batch_alter_table('plan') as batch:
        batch.drop_index('uq_plan_single_in_force')
        for column in ('updated_at', 'source_name', 'in_force', 'year'):
            batch.drop_column(column)
