"""compliance: hazard-queue indexes (unfiltered, by hazard, breached) and daily audit checkpoints

Revision ID: 0003_compliance
Revises: 0002_compliance
"""

import sqlalchemy as sa
from alembic import op

import registry.db

revision = "0003_compliance"
down_revision = "0002_compliance"
branch_labels = None
depends_on = None

_BREACHED = "status IN ('breached', 'breached_excused')"


def upgrade() -> None:
    op.create_index("ix_case_next_due_at", "case", ["next_due_at", "id"], unique=False)
    op.create_index(
        "ix_case_hazard_status_next_due_at",
        "case",
        ["hazard", "status", "next_due_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_clock_breached_case_id",
        "clock",
        ["case_id"],
        unique=False,
        postgresql_where=sa.text(_BREACHED),
        sqlite_where=sa.text(_BREACHED),
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("written_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoint")),
        sa.UniqueConstraint("day", name=op.f("uq_audit_checkpoint_day")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # The function comes from 0002_compliance (the audit log's own append-only trigger).
        op.execute(
            "CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON "
            "audit_checkpoint FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()"
        )


def downgrade() -> None:
    op.drop_table("audit_checkpoint")
    op.drop_index("ix_clock_breached_case_id", table_name="clock")
    op.drop_index("ix_case_hazard_status_next_due_at", table_name="case")
    op.drop_index("ix_case_next_due_at", table_name="case")
