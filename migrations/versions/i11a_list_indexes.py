"""Indexes at provincial scale: the inbox's default order, an agency's cases by receipt, report facts

Revision ID: i11a
Revises: 0004
Create Date: 2026-12-04

The office inbox lists cases newest first (``ORDER BY received_at DESC, id DESC``, keyset
paged); without an index on that order PostgreSQL sorted every matching case on each page
(a full scan of 200,000 cases took 500–900 ms, EXPLAIN in bench/RESULTS.md). With it a page
is a backward index scan that stops after 51 rows (under 1 ms). The agency portal's "all"
and "done" views list one agency's cases by receipt: same order, per agency.

On PostgreSQL, ``ix_feedback_report_facts`` covers every column the periodic report reads
per case (pakn.reports.stats.compute), so the report scans a 22 MB index instead of the
362 MB table (200,000 cases with their texts) — an index-only scan. SQLite has no INCLUDE.
"""

from alembic import op

REPORT_COLUMNS = ['id', 'agency_id', 'field_id', 'channel', 'subject', 'kind', 'state', 'answered_at',
                  'answer_due_at', 'published_at', 'withdrawn_at', 'updated_at']

revision = 'i11a'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('feedback') as batch:
        batch.create_index('ix_feedback_received_id', ['received_at', 'id'])
        batch.create_index('ix_feedback_agency_received', ['agency_id', 'received_at', 'id'])
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index('ix_feedback_report_facts', 'feedback', ['received_at'], postgresql_include=REPORT_COLUMNS)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_feedback_report_facts', table_name='feedback')
    with op.batch_alter_table('feedback') as batch:
        batch.drop_index('ix_feedback_agency_received')
        batch.drop_index('ix_feedback_received_id')
