"""Scopes of API tokens (read, write, open311)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_token') as batch:
        batch.add_column(sa.Column('scopes', sa.String(length=100), nullable=False,
                                   server_default='read write'))


def downgrade():
    with op.batch_alter_table('api_token') as batch:
        batch.drop_column('scopes')
