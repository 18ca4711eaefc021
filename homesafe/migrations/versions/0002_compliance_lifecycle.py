"""compliance: lifecycle columns, hazard-queue index, append-only audit log on PostgreSQL

Revision ID: 0002_compliance
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import registry.db

revision = "0002_compliance"
down_revision = "0001"
branch_labels = None
depends_on = None

_APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_entry is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""


def _utc() -> registry.db.UTCDateTime:
    return registry.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("in_scope", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column(
                "accommodation", sa.String(length=16), nullable=False, server_default="not_due"
            )
        )
        batch_op.add_column(sa.Column("accommodation_offered_at", _utc(), nullable=True))
        batch_op.add_column(sa.Column("accommodation_declined_at", _utc(), nullable=True))
        batch_op.add_column(sa.Column("investigation_booked_at", _utc(), nullable=True))
        batch_op.add_column(sa.Column("access_attempts", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("triage_confirmed_at", _utc(), nullable=True))
        batch_op.add_column(sa.Column("summary_sent_at", _utc(), nullable=True))
        batch_op.add_column(sa.Column("summary_sent_method", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("next_due_at", _utc(), nullable=True))
        batch_op.create_index(
            "ix_case_status_next_due_at", ["status", "next_due_at", "id"], unique=False
        )
    with op.batch_alter_table("clock", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reasonable_steps_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reasonable_steps_at", _utc(), nullable=True))
        batch_op.add_column(sa.Column("excuse_reason", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_APPEND_ONLY_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_entry")
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
        op.execute("DROP FUNCTION IF EXISTS audit_entry_append_only()")
    with op.batch_alter_table("clock", schema=None) as batch_op:
        batch_op.drop_column("excuse_reason")
        batch_op.drop_column("reasonable_steps_at")
        batch_op.drop_column("reasonable_steps_by")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_status_next_due_at")
        for column in (
            "next_due_at",
            "summary_sent_method",
            "summary_sent_at",
            "triage_confirmed_at",
            "access_attempts",
            "investigation_booked_at",
            "accommodation_declined_at",
            "accommodation_offered_at",
            "accommodation",
            "in_scope",
        ):
            batch_op.drop_column(column)
