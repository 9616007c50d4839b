"""Join the migrations of the features built in parallel in the session of 2026-12-04

Revision ID: 0005
Revises: i9a (administration console), i9c (Open311 and batch import), i10a (second factor), i11a (list indexes)

"""
revision = '0005'
down_revision = ('i9a', 'i9c', 'i10a', 'i11a')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
