"""ingest: fleet health per gateway and per sensor

Revision ID: 0002_ingest
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import registry.db

revision = "0002_ingest"
down_revision = "0001"
branch_labels = None
depends_on = None


def _utc() -> registry.db.UTCDateTime:
    return registry.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "gateway_health",
        sa.Column("gateway_id", sa.String(64), nullable=False),
        sa.Column("home_id", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=True),
        sa.Column("fw", sa.String(64), nullable=True),
        sa.Column("status_ts", sa.BigInteger(), nullable=True),
        sa.Column("status_at", _utc(), nullable=True),
        sa.Column("last_seen_at", _utc(), nullable=True),
        sa.Column("first_seq", sa.BigInteger(), nullable=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=True),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.Column("repeated_messages", sa.BigInteger(), nullable=False),
        sa.Column("seq_resets", sa.Integer(), nullable=False),
        sa.Column("missed_before_reset", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("gateway_id", name=op.f("pk_gateway_health")),
    )
    op.create_table(
        "sensor_health",
        sa.Column("gateway_id", sa.String(64), nullable=False),
        sa.Column("sensor", sa.String(64), nullable=False),
        sa.Column("last_ts", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", _utc(), nullable=False),
        sa.Column("battery_pct", sa.Float(), nullable=True),
        sa.Column("readings", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("gateway_id", "sensor", name=op.f("pk_sensor_health")),
    )


def downgrade() -> None:
    op.drop_table("sensor_health")
    op.drop_table("gateway_health")
