"""Office console: routing rules, saved inbox filters, office clerk assignments

Revision ID: i4a
Revises: f1a
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa

from pakn.models.types import UTCDateTime

revision = 'i4a'
down_revision = 'f1a'  # chained after the merged "files" branch's migration (was '0002')
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'routing_rule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('field_id', sa.Integer(), nullable=True),
        sa.Column('keyword', sa.String(length=100), nullable=True),
        sa.Column('keyword_folded', sa.String(length=100), nullable=True),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('field', 'keyword')", name=op.f('ck_routing_rule_kind_known')),
        sa.CheckConstraint("(kind = 'field') = (field_id IS NOT NULL)",
                           name=op.f('ck_routing_rule_field_rule_has_field')),
        sa.CheckConstraint("(kind = 'keyword') = (keyword IS NOT NULL)",
                           name=op.f('ck_routing_rule_keyword_rule_has_keyword')),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_routing_rule_agency_id_agency')),
        sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'],
                                name=op.f('fk_routing_rule_created_by_id_app_user')),
        sa.ForeignKeyConstraint(['field_id'], ['field.id'], name=op.f('fk_routing_rule_field_id_field')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rule')),
    )
    op.create_index(op.f('ix_routing_rule_agency_id'), 'routing_rule', ['agency_id'])
    op.create_index(op.f('ix_routing_rule_field_id'), 'routing_rule', ['field_id'])

    op.create_table(
        'saved_filter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('query', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_saved_filter_user_id_app_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_filter')),
        sa.UniqueConstraint('user_id', 'name', name='uq_saved_filter_user_name'),
    )
    op.create_index(op.f('ix_saved_filter_user_id'), 'saved_filter', ['user_id'])

    op.create_table(
        'case_assignment',
        sa.Column('feedback_id', sa.Integer(), nullable=False),
        sa.Column('clerk_id', sa.Integer(), nullable=False),
        sa.Column('assigned_by_id', sa.Integer(), nullable=True),
        sa.Column('assigned_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['feedback_id'], ['feedback.id'],
                                name=op.f('fk_case_assignment_feedback_id_feedback'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['clerk_id'], ['app_user.id'], name=op.f('fk_case_assignment_clerk_id_app_user')),
        sa.ForeignKeyConstraint(['assigned_by_id'], ['app_user.id'],
                                name=op.f('fk_case_assignment_assigned_by_id_app_user')),
        sa.PrimaryKeyConstraint('feedback_id', name=op.f('pk_case_assignment')),
    )
    op.create_index(op.f('ix_case_assignment_clerk_id'), 'case_assignment', ['clerk_id'])


def downgrade():
    op.drop_index(op.f('ix_case_assignment_clerk_id'), table_name='case_assignment')
    op.drop_table('case_assignment')
    op.drop_index(op.f('ix_saved_filter_user_id'), table_name='saved_filter')
    op.drop_table('saved_filter')
    op.drop_index(op.f('ix_routing_rule_field_id'), table_name='routing_rule')
    op.drop_index(op.f('ix_routing_rule_agency_id'), table_name='routing_rule')
    op.drop_table('routing_rule')
