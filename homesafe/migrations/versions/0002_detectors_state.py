"""detectors: fleet state snapshot and fleet tasks

Revision ID: 0002_detectors
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import registry.db

revision = "0002_detectors"
down_revision = "0001"
branch_labels = None
depends_on = None


def _utc() -> registry.db.UTCDateTime:
    return registry.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "detector_snapshot",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("saved_at", _utc(), nullable=False),
        sa.Column("sensors", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_detector_snapshot")),
    )
    op.create_table(
        "fleet_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("home_id", sa.String(length=64), nullable=False),
        sa.Column("gateway_id", sa.String(length=64), nullable=False),
        sa.Column("sensor_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detected_at", _utc(), nullable=False),
        sa.Column("window_start", _utc(), nullable=False),
        sa.Column("window_end", _utc(), nullable=False),
        sa.Column("resolved_at", _utc(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("rule_key", sa.String(length=64), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_task")),
    )
    op.create_index(op.f("ix_fleet_task_home_id"), "fleet_task", ["home_id"], unique=False)
    op.create_index("ix_fleet_task_status_detected_at", "fleet_task", ["status", "detected_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_fleet_task_status_detected_at", table_name="fleet_task")
    op.drop_index(op.f("ix_fleet_task_home_id"), table_name="fleet_task")
    op.drop_table("fleet_task")
    op.drop_table("detector_snapshot")
