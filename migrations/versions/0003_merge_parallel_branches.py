"""Join the migrations of the features built in parallel (each branched from 0002)

Revision ID: 0003
Revises: i3a, i4a, i5a, i6a, i7a, i8a  (f1a via i4a and i5a)
Create Date: 2026-11-24

"""
revision = '0003'
down_revision = ('i3a', 'i4a', 'i5a', 'i6a', 'i7a', 'i8a')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
