"""Open311 location and references to attachments held elsewhere (issue 9)

Nullable columns on ``feedback``: the place an Open311 client gave (``lat``/``long``/
``address_string``; staff-only, never published), and the links to attachments listed by
another system (Open311 ``media_url``, a VPCP batch's attachment URLs), kept as references
and never fetched. Items from VPCP stay unique by ``(channel, external_ref)``
(``uq_feedback_channel_external_ref``, since 0001), which makes batch imports idempotent.

Revision ID: i9c
Revises: 0004
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'i9c'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('feedback') as batch:
        batch.add_column(sa.Column('location_lat', sa.Float(), nullable=True))
        batch.add_column(sa.Column('location_long', sa.Float(), nullable=True))
        batch.add_column(sa.Column('location_address', sa.String(length=500), nullable=True))
        batch.add_column(sa.Column('reference_urls', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'),
                                   nullable=True))


def downgrade():
    with op.batch_alter_table('feedback') as batch:
        batch.drop_column('reference_urls')
        batch.drop_column('location_address')
        batch.drop_column('location_long')
        batch.drop_column('location_lat')
