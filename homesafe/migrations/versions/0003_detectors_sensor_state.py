"""detectors: per-sensor state rows (written when changed) replace the single fleet snapshot

Revision ID: 0003_detectors_state
Revises: 0002_detectors
"""

import sqlalchemy as sa
from alembic import op

import registry.db

revision = "0003_detectors_state"
down_revision = "0002_detectors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "detector_sensor_state",
        sa.Column("gateway_id", sa.String(length=64), nullable=False),
        sa.Column("sensor_id", sa.String(length=64), nullable=False),
        sa.Column("layout", sa.String(length=16), nullable=False),
        sa.Column("through_s", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("gateway_id", "sensor_id", name=op.f("pk_detector_sensor_state")),
    )
    op.create_table(
        "detector_state_layout",
        sa.Column("layout", sa.String(length=16), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("layout", name=op.f("pk_detector_state_layout")),
    )
    # The snapshot's state is rebuilt by the next pass's first-pass catch-up (24 h of history).
    op.drop_table("detector_snapshot")


def downgrade() -> None:
    op.create_table(
        "detector_snapshot",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("saved_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sensors", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_detector_snapshot")),
    )
    op.drop_table("detector_state_layout")
    op.drop_table("detector_sensor_state")
