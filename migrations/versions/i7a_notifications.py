"""Notifications: delivery rows, in-app notifications, outbox claim and dedupe columns

Revision ID: i7a
Revises: 0002
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa

import pakn.models.types

revision = 'i7a'
down_revision = '0002'
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('pending', 'sent', 'failed', 'dead')"
NEW_STATUSES = "status IN ('pending', 'sending', 'sent', 'failed', 'dead')"


def upgrade():
    with op.batch_alter_table('outbox_message') as batch:
        batch.add_column(sa.Column('claimed_at', pakn.models.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('dedupe_key', sa.String(length=120), nullable=True))
        batch.drop_constraint(op.f('ck_outbox_message_status_known'), type_='check')
        batch.create_check_constraint('status_known', sa.text(NEW_STATUSES))
        batch.create_check_constraint('sending_claimed', sa.text("status <> 'sending' OR claimed_at IS NOT NULL"))
        batch.create_unique_constraint(op.f('uq_outbox_message_dedupe_key'), ['dedupe_key'])
        batch.create_index('ix_outbox_unsent', ['status', 'available_at'], unique=False,
                           sqlite_where=sa.text("status <> 'sent'"), postgresql_where=sa.text("status <> 'sent'"))

    op.create_table(
        'delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('outbox_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.String(length=200), nullable=False),
        sa.Column('created_at', pakn.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('handed_over_at', pakn.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('sent_at', pakn.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.CheckConstraint("channel IN ('email', 'sms')", name=op.f('ck_delivery_channel_known')),
        sa.CheckConstraint("status IN ('pending', 'handed_over', 'sent', 'failed', 'dead', 'uncertain', "
                           "'skipped')", name=op.f('ck_delivery_status_known')),
        sa.CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name=op.f('ck_delivery_sent_has_time')),
        sa.ForeignKeyConstraint(['outbox_id'], ['outbox_message.id'], ondelete='CASCADE',
                                name=op.f('fk_delivery_outbox_id_outbox_message')),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_delivery_user_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery')),
        sa.UniqueConstraint('outbox_id', 'channel', 'address', name='uq_delivery_outbox_channel_address'),
    )
    with op.batch_alter_table('delivery') as batch:
        batch.create_index(batch.f('ix_delivery_outbox_id'), ['outbox_id'], unique=False)

    op.create_table(
        'notification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('outbox_id', sa.Integer(), nullable=True),
        sa.Column('feedback_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=60), nullable=False),
        sa.Column('created_at', pakn.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('read_at', pakn.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ondelete='CASCADE',
                                name=op.f('fk_notification_user_id_app_user')),
        sa.ForeignKeyConstraint(['outbox_id'], ['outbox_message.id'],
                                name=op.f('fk_notification_outbox_id_outbox_message')),
        sa.ForeignKeyConstraint(['feedback_id'], ['feedback.id'], name=op.f('fk_notification_feedback_id_feedback')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
        sa.UniqueConstraint('outbox_id', 'user_id', name='uq_notification_outbox_user'),
    )
    with op.batch_alter_table('notification') as batch:
        batch.create_index(batch.f('ix_notification_user_id'), ['user_id'], unique=False)
        batch.create_index('ix_notification_unread', ['user_id'], unique=False,
                           sqlite_where=sa.text('read_at IS NULL'), postgresql_where=sa.text('read_at IS NULL'))


def downgrade():
    op.drop_table('notification')
    op.drop_table('delivery')
    op.execute("UPDATE outbox_message SET status = 'pending' WHERE status = 'sending'")
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_index('ix_outbox_unsent')
        batch.drop_constraint(op.f('uq_outbox_message_dedupe_key'), type_='unique')
        batch.drop_constraint(op.f('ck_outbox_message_sending_claimed'), type_='check')
        batch.drop_constraint(op.f('ck_outbox_message_status_known'), type_='check')
        batch.create_check_constraint('status_known', sa.text(OLD_STATUSES))
        batch.drop_column('dedupe_key')
        batch.drop_column('claimed_at')
