"""Inbox counts at provincial scale: the cases in their stages, a field's cases by state, open visits with their case

Revision ID: i13a
Revises: i12b
Create Date: 2026-12-04

The inbox shows how many cases each state holds under its filters. Over 1,000,000 cases
(EXPLAIN (ANALYZE, BUFFERS) on the bench load, bench/RESULTS.md) these counts read the whole
province: 314 ms unfiltered, 403 ms for one field, 768 ms for the overdue cases (the 16,000
open visits past due, their rows read from the heap, hashed against an index of every case).

* ``ix_feedback_open_cases``: the cases in a state with a stage (received … notified: the
  work, some 20,000 whatever the years) by state and id, with the columns the inbox filters
  on, so their counts are index-only scans of this small index (PostgreSQL; SQLite has no
  INCLUDE and gets the partial index on (state, id)).
* ``ix_feedback_field_state`` replaces the index on ``field_id`` alone: a field's cases of one
  state are a range of it (the foreign key's lookups use its leading column).
* ``ix_stage_visit_open_due`` gains ``feedback_id`` and ``due_date``: the open visits due in a
  period and their cases, index-only (the due order, sweeps and reminders still read it by
  ``due_at``, its leading column).
"""

import sqlalchemy as sa
from alembic import op

revision = 'i13a'
down_revision = 'i12b'
branch_labels = None
depends_on = None

#: The states that have a stage (workflows.pakn: STAGED_STATES when this was written).
STAGED = ('received', 'needs_info', 'returned', 'forwarded', 'in_progress', 'draft_pending_approval',
          'answer_approved', 'answered', 'answer_accepted', 'notified')
OPEN_CASES_WHERE = sa.text("state IN (%s)" % ", ".join(f"'{s}'" for s in STAGED))
OPEN_CASES_INCLUDE = ['agency_id', 'field_id', 'channel', 'kind', 'received_at']
OPEN_VISIT = sa.text('finished_at IS NULL')


def upgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    with op.batch_alter_table('feedback') as batch:
        batch.create_index('ix_feedback_open_cases', ['state', 'id'], sqlite_where=OPEN_CASES_WHERE,
                           postgresql_where=OPEN_CASES_WHERE,
                           **({'postgresql_include': OPEN_CASES_INCLUDE} if postgresql else {}))
        batch.create_index('ix_feedback_field_state', ['field_id', 'state'])
        batch.drop_index('ix_feedback_field_id')
    with op.batch_alter_table('stage_visit') as batch:
        batch.drop_index('ix_stage_visit_open_due')
        batch.create_index('ix_stage_visit_open_due', ['due_at', 'feedback_id', 'due_date'],
                           sqlite_where=OPEN_VISIT, postgresql_where=OPEN_VISIT)


def downgrade():
    with op.batch_alter_table('stage_visit') as batch:
        batch.drop_index('ix_stage_visit_open_due')
        batch.create_index('ix_stage_visit_open_due', ['due_at'], sqlite_where=OPEN_VISIT, postgresql_where=OPEN_VISIT)
    with op.batch_alter_table('feedback') as batch:
        batch.create_index('ix_feedback_field_id', ['field_id'])
        batch.drop_index('ix_feedback_field_state')
        batch.drop_index('ix_feedback_open_cases')
