"""detectors: sensor states stored a block of sensors a row, not one row per sensor

Revision ID: 0004_detectors_blocks
Revises: 0003_detectors_state
"""

import json
from itertools import groupby

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "0004_detectors_blocks"
down_revision = "0003_detectors_state"
branch_labels = None
depends_on = None

BLOCK_SENSORS = 256  # as detectors.repository.BLOCK_SENSORS when this was written

_rows = sa.table(
    "detector_sensor_state",
    sa.column("gateway_id", sa.String),
    sa.column("sensor_id", sa.String),
    sa.column("layout", sa.String),
    sa.column("through_s", sa.BigInteger),
    sa.column("state", sa.LargeBinary),
)
_blocks = sa.table(
    "detector_state_block",
    sa.column("block", sa.Integer),
    sa.column("layout", sa.String),
    sa.column("sensors", sa.Integer),
    sa.column("gateway_ids", sa.Text),
    sa.column("sensor_ids", sa.Text),
    sa.column("states", sa.LargeBinary),
)


def _create_blocks() -> None:
    op.create_table(
        "detector_state_block",
        sa.Column("block", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("layout", sa.String(length=16), nullable=False),
        sa.Column("sensors", sa.Integer(), nullable=False),
        sa.Column("gateway_ids", sa.Text(), nullable=False),
        sa.Column("sensor_ids", sa.Text(), nullable=False),
        sa.Column("states", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("block", name=op.f("pk_detector_state_block")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Out of line but not compressed: pglz gains little on float rings and costs a pass.
        op.execute("ALTER TABLE detector_state_block ALTER COLUMN states SET STORAGE EXTERNAL")


def _create_rows() -> None:
    op.create_table(
        "detector_sensor_state",
        sa.Column("gateway_id", sa.String(length=64), nullable=False),
        sa.Column("sensor_id", sa.String(length=64), nullable=False),
        sa.Column("layout", sa.String(length=16), nullable=False),
        sa.Column("through_s", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("gateway_id", "sensor_id", name=op.f("pk_detector_sensor_state")),
    )


def upgrade() -> None:
    """Each layout's rows, in key order, packed BLOCK_SENSORS to a block (one layout a block)."""
    _create_blocks()
    bind = op.get_bind()
    query = sa.select(_rows.c.layout, _rows.c.gateway_id, _rows.c.sensor_id, _rows.c.state)
    rows = bind.execute(query.order_by(_rows.c.layout, _rows.c.gateway_id, _rows.c.sensor_id))
    block = 0
    for layout, group in groupby(rows, key=lambda row: row[0]):
        members = list(group)
        for low in range(0, len(members), BLOCK_SENSORS):
            part = members[low : low + BLOCK_SENSORS]
            bind.execute(
                _blocks.insert().values(
                    block=block,
                    layout=layout,
                    sensors=len(part),
                    gateway_ids="\n".join(row[1] for row in part),
                    sensor_ids="\n".join(row[2] for row in part),
                    states=b"".join(bytes(row[3]) for row in part),
                )
            )
            block += 1
    op.drop_table("detector_sensor_state")


def downgrade() -> None:
    """One row per sensor again (its `through_s` read from the record, by the block's layout)."""
    _create_rows()
    bind = op.get_bind()
    fields: dict[str, str] = dict(
        bind.execute(sa.text("SELECT layout, fields FROM detector_state_layout")).all()
    )
    blocks = sa.select(
        _blocks.c.layout, _blocks.c.gateway_ids, _blocks.c.sensor_ids, _blocks.c.states
    )
    for layout, gateway_ids, sensor_ids, states in bind.execute(blocks.order_by(_blocks.c.block)):
        dtype = np.dtype([(str(n), str(t), tuple(s)) for n, t, s in json.loads(fields[layout])])
        records = np.frombuffer(bytes(states), dtype=dtype)
        through = records["through_s"].tolist()
        bind.execute(
            _rows.insert(),
            [
                {
                    "gateway_id": gateway_id,
                    "sensor_id": sensor_id,
                    "layout": layout,
                    "through_s": through[i],
                    "state": records[i : i + 1].tobytes(),
                }
                for i, (gateway_id, sensor_id) in enumerate(
                    zip(gateway_ids.split("\n"), sensor_ids.split("\n"))
                )
            ],
        )
    op.drop_table("detector_state_block")
