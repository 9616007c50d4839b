"""Indexes for lists at provincial scale: the inbox's default order, an agency's cases by receipt

Revision ID: i11a
Revises: 0004
Create Date: 2026-12-04

The office inbox lists cases newest first (``ORDER BY received_at DESC, id DESC``, keyset
paged); without an index on that order PostgreSQL sorted every matching case on each page
(a full scan of 200,000 cases took 500–900 ms, EXPLAIN in bench/RESULTS.md). With it a page
is a backward index scan that stops after 51 rows (under 1 ms). The agency portal's "all"
and "done" views list one agency's cases by receipt: same order, per agency.
"""
from alembic import op

revision = 'i11a'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('feedback') as batch:
        batch.create_index('ix_feedback_received_id', ['received_at', 'id'])
        batch.create_index('ix_feedback_agency_received', ['agency_id', 'received_at', 'id'])


def downgrade():
    with op.batch_alter_table('feedback') as batch:
        batch.drop_index('ix_feedback_agency_received')
        batch.drop_index('ix_feedback_received_id')
