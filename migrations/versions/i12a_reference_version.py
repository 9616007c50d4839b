"""Reference marker: a random token that changes with any change of the reference tables

Revision ID: i12a
Revises: 0005
Create Date: 2026-12-04

``pakn.reference`` keeps fields, province settings, the calendar overlay, the clock-settings
versions, the office and plan tasks per web process, and reads ``reference_version.token``
once per request to know whether they are still what the database holds. Triggers give the
token a new random value in the transaction of every INSERT, UPDATE, DELETE (and TRUNCATE on
PostgreSQL) of those tables, so any writer — ORM, bulk statement, CSV import, psql — is seen.

PostgreSQL: one statement-level trigger per table. SQLite: three row-level triggers per table
(SQLite has no statement triggers). NOTE for later migrations: SQLite's ``batch_alter_table``
re-creates a table and drops its triggers; a migration that batch-alters one of these tables
on SQLite must call ``create_sqlite_triggers(table)`` again (tests/test_reference.py fails
otherwise).
"""

from alembic import op
import sqlalchemy as sa

revision = 'i12a'
down_revision = '0005'
branch_labels = None
depends_on = None

TABLES = ("field", "province_setting", "calendar_overlay", "clock_setting", "agency", "plan", "plan_task")

PG_FUNCTION = """
CREATE FUNCTION pakn_reference_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reference_version (id, token) VALUES (1, floor(random() * 9.0e18)::bigint)
    ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token;
    RETURN NULL;
END
$$
"""

SQLITE_NEW_TOKEN = "INSERT OR REPLACE INTO reference_version (id, token) VALUES (1, random());"


def create_sqlite_triggers(table: str) -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"CREATE TRIGGER reference_{table}_{event} AFTER {event.upper()} ON {table} "
                   f"BEGIN {SQLITE_NEW_TOKEN} END")


def upgrade():
    op.create_table('reference_version',
                    sa.Column('id', sa.Integer(), primary_key=True, autoincrement=False),
                    sa.Column('token', sa.BigInteger(), nullable=False))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("INSERT INTO reference_version (id, token) VALUES (1, floor(random() * 9.0e18)::bigint)")
        op.execute(PG_FUNCTION)
        for table in TABLES:
            op.execute(f"CREATE TRIGGER reference_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION pakn_reference_changed()")
    else:
        op.execute("INSERT INTO reference_version (id, token) VALUES (1, random())")
        for table in TABLES:
            create_sqlite_triggers(table)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in TABLES:
            op.execute(f"DROP TRIGGER reference_changed ON {table}")
        op.execute("DROP FUNCTION pakn_reference_changed()")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER reference_{table}_{event}")
    op.drop_table('reference_version')
