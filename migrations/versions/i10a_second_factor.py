"""Staff second factor: TOTP secret and last step on the user, recovery codes, login step

Revision ID: i10a
Revises: 0003
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa

from pakn.models.types import UTCDateTime

revision = 'i10a'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('app_user') as batch:
        batch.add_column(sa.Column('totp_secret', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('totp_confirmed_at', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
    with op.batch_alter_table('login_attempt') as batch:
        batch.add_column(sa.Column('step', sa.String(length=20), nullable=False, server_default='password'))
    op.create_table(
        'recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('used_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ondelete='CASCADE',
                                name=op.f('fk_recovery_code_user_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code')),
        sa.UniqueConstraint('user_id', 'code_hash', name='uq_recovery_code_user_hash'),
    )
    op.create_index(op.f('ix_recovery_code_user_id'), 'recovery_code', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_recovery_code_user_id'), table_name='recovery_code')
    op.drop_table('recovery_code')
    with op.batch_alter_table('login_attempt') as batch:
        batch.drop_column('step')
    with op.batch_alter_table('app_user') as batch:
        batch.drop_column('totp_last_step')
        batch.drop_column('totp_confirmed_at')
        batch.drop_column('totp_secret')
