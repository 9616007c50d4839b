"""Agency portal: the agency's pending request for more information on a case

Revision ID: i5a
Revises: f1a (0002 before merging the files branch)
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa

from pakn.models.types import UTCDateTime

revision = 'i5a'
down_revision = 'f1a'  # '0002' on its own; chained after the merged 'files' branch (f1a)
branch_labels = None
depends_on = None

# The agency's handling states (workflows.pakn.HANDLING), spelled out: a migration must not
# change meaning when the code changes later.
_HANDLING = "'forwarded', 'in_progress', 'draft_pending_approval', 'answer_approved'"


def upgrade():
    with op.batch_alter_table('feedback') as batch:
        batch.add_column(sa.Column('info_requested_at', UTCDateTime(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        # A pending request exists only while the agency handles the case. SQLite cannot add a
        # CHECK to an existing table without rebuilding it; there the operations layer (which
        # clears the field whenever the case leaves those states) is the guarantee, and a test
        # checks it on both backends.
        op.create_check_constraint(
            op.f('ck_feedback_info_request_while_handling'), 'feedback',
            f"info_requested_at IS NULL OR state IN ({_HANDLING})")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(op.f('ck_feedback_info_request_while_handling'), 'feedback', type_='check')
    with op.batch_alter_table('feedback') as batch:
        batch.drop_column('info_requested_at')
