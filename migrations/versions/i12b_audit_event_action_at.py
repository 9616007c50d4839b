"""The events of one kind in a period, with their cases: (action, at, feedback_id)

Revision ID: i12b
Revises: i12a
Create Date: 2026-12-04

The periodic report counts the cases forwarded or handled by the office in its window
(``audit_event`` rows of those actions in the period). With only ``ix_audit_event_at``
PostgreSQL read every event of the year and filtered by action: 627,000 index entries and
their rows, 2.3 s of a year's report over 1,000,000 cases (EXPLAIN ANALYZE, bench/RESULTS.md).
This index answers it with an index-only range scan of the wanted events. It replaces the
single-column index on ``action`` (a dozen values: a poor index on its own), whose queries it
serves too (its leading column).
"""

from alembic import op

revision = 'i12b'
down_revision = 'i12a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_audit_event_action_at', 'audit_event', ['action', 'at', 'feedback_id'])
    op.drop_index('ix_audit_event_action', table_name='audit_event')


def downgrade():
    op.create_index('ix_audit_event_action', 'audit_event', ['action'])
    op.drop_index('ix_audit_event_action_at', table_name='audit_event')
