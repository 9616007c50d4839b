"""Folded search columns on feedback, trigram indexes on PostgreSQL

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('feedback') as batch:
        batch.add_column(sa.Column('search_text', sa.Text(), nullable=False, server_default=''))
        batch.add_column(sa.Column('public_search_text', sa.Text(), nullable=True))
    # Existing rows: fold their texts with the application's own function.
    from pakn.text import fold
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, code, title, content, proposal, submitter_name, submitter_organisation, external_ref,"
        " public_title, public_summary, public_answer, published_at FROM feedback")).all()
    for r in rows:
        bind.execute(sa.text("UPDATE feedback SET search_text = :s, public_search_text = :p WHERE id = :id"), {
            "id": r.id,
            "s": fold(r.code, r.title, r.content, r.proposal, r.submitter_name, r.submitter_organisation,
                      r.external_ref),
            "p": fold(r.public_title, r.public_summary, r.public_answer) if r.published_at else None})
    if bind.dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.execute('CREATE INDEX ix_feedback_search_trgm ON feedback USING gin (search_text gin_trgm_ops)')
        op.execute('CREATE INDEX ix_feedback_public_search_trgm ON feedback '
                   'USING gin (public_search_text gin_trgm_ops) WHERE public_search_text IS NOT NULL')


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_feedback_public_search_trgm')
        op.execute('DROP INDEX IF EXISTS ix_feedback_search_trgm')
    with op.batch_alter_table('feedback') as batch:
        batch.drop_column('public_search_text')
        batch.drop_column('search_text')
