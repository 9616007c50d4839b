"""Administration console: per-province settings; merged agencies point to their successor

Revision ID: i9a
Revises: 0004
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import pakn.models.types

revision = 'i9a'
down_revision = '0004'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    op.create_table(
        'province_setting',
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('value', JSON, nullable=True),
        sa.Column('updated_at', pakn.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['updated_by_id'], ['app_user.id'],
                                name=op.f('fk_province_setting_updated_by_id_app_user')),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_province_setting')),
    )
    with op.batch_alter_table('agency') as batch:
        batch.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('merged_at', pakn.models.types.UTCDateTime(timezone=True), nullable=True))
        batch.create_foreign_key(op.f('fk_agency_merged_into_id_agency'), 'agency', ['merged_into_id'], ['id'])


def downgrade():
    with op.batch_alter_table('agency') as batch:
        batch.drop_constraint(op.f('fk_agency_merged_into_id_agency'), type_='foreignkey')
        batch.drop_column('merged_at')
        batch.drop_column('merged_into_id')
    op.drop_table('province_setting')
