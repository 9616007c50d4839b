"""Idempotency keys of the public submission form

Revision ID: i3a
Revises: 0002
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa

from pakn.models.types import UTCDateTime

revision = 'i3a'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'submission_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('feedback_id', sa.Integer(), nullable=False),
        sa.Column('body_hash', sa.String(length=64), nullable=False),
        sa.Column('sealed_token', sa.String(length=200), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['feedback_id'], ['feedback.id'], ondelete='CASCADE',
                                name=op.f('fk_submission_key_feedback_id_feedback')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_key')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_submission_key_key_hash')),
        sa.UniqueConstraint('feedback_id', name=op.f('uq_submission_key_feedback_id')),
    )


def downgrade():
    op.drop_table('submission_key')
