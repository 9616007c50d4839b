"""Generated documents and their per-agency, per-year, per-kind registers

Revision ID: f1a
Revises: 0002
Create Date: 2026-11-24

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import pakn.models.types

revision = 'f1a'
down_revision = '0002'
branch_labels = None
depends_on = None

KINDS = "kind IN ('forwarding', 'answer')"


def upgrade():
    op.create_table('document_register',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.CheckConstraint(KINDS, name=op.f('ck_document_register_kind_known')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_document_register_agency_id_agency')),
    sa.PrimaryKeyConstraint('agency_id', 'year', 'kind', name=op.f('pk_document_register'))
    )
    op.create_table('generated_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('feedback_id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('symbol', sa.String(length=50), nullable=False),
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('issued_at', pakn.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('content', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('docx_attachment_id', sa.Integer(), nullable=False),
    sa.Column('pdf_attachment_id', sa.Integer(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', pakn.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint(KINDS, name=op.f('ck_generated_document_kind_known')),
    sa.CheckConstraint('number > 0', name=op.f('ck_generated_document_number_positive')),
    sa.CheckConstraint("kind = 'answer' OR answer_id IS NULL", name=op.f('ck_generated_document_only_answers_link_answer')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_generated_document_agency_id_agency')),
    sa.ForeignKeyConstraint(['answer_id'], ['answer.id'], name=op.f('fk_generated_document_answer_id_answer')),
    sa.ForeignKeyConstraint(['docx_attachment_id'], ['attachment.id'], name=op.f('fk_generated_document_docx_attachment_id_attachment')),
    sa.ForeignKeyConstraint(['feedback_id'], ['feedback.id'], name=op.f('fk_generated_document_feedback_id_feedback'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issued_by_id'], ['app_user.id'], name=op.f('fk_generated_document_issued_by_id_app_user')),
    sa.ForeignKeyConstraint(['pdf_attachment_id'], ['attachment.id'], name=op.f('fk_generated_document_pdf_attachment_id_attachment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_generated_document')),
    sa.UniqueConstraint('agency_id', 'kind', 'year', 'number', name='uq_generated_document_register_number')
    )
    with op.batch_alter_table('generated_document', schema=None) as batch_op:
        batch_op.create_index('ix_generated_document_feedback_kind', ['feedback_id', 'kind'], unique=False)


def downgrade():
    with op.batch_alter_table('generated_document', schema=None) as batch_op:
        batch_op.drop_index('ix_generated_document_feedback_kind')
    op.drop_table('generated_document')
    op.drop_table('document_register')
