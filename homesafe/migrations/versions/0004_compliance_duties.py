"""compliance: investigations, how each clock ended, scope and tenure, the accommodation
sequence, supplementary work, and closing with a reason

Revision ID: 0004_compliance
Revises: 0003_compliance
"""

import sqlalchemy as sa
from alembic import op

import registry.db

revision = "0004_compliance"
down_revision = "0003_compliance"
branch_labels = None
depends_on = None

_CASE_COLUMNS = (
    ("scope_reason", sa.Text()),
    ("tenancy_ref", sa.String(length=64)),
    ("tenure", sa.String(length=24)),
    ("accommodation_due_reason", sa.String(length=16)),
    ("accommodation_accepted_at", registry.db.UTCDateTime(timezone=True)),
    ("household_moved_at", registry.db.UTCDateTime(timezone=True)),
    ("household_returned_at", registry.db.UTCDateTime(timezone=True)),
    ("safety_work_started_at", registry.db.UTCDateTime(timezone=True)),
    ("supplementary_completed_at", registry.db.UTCDateTime(timezone=True)),
    ("closure_reason", sa.String(length=32)),
    ("closure_requested_by", sa.String(length=64)),
    ("closure_requested_at", registry.db.UTCDateTime(timezone=True)),
    ("closure_request_reason", sa.String(length=32)),
)
_CLOCK_COLUMNS = (
    ("duty", sa.String(length=32)),
    ("ended", sa.String(length=8)),
    ("ended_reason", sa.Text()),
    ("investigation_type", sa.String(length=16)),
)


def upgrade() -> None:
    with op.batch_alter_table("case") as batch:
        for name, type_ in _CASE_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    with op.batch_alter_table("clock") as batch:
        for name, type_ in _CLOCK_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    # Clocks met before this migration were done (or fell away: the record cannot tell).
    op.execute("UPDATE clock SET ended = 'done' WHERE met_at IS NOT NULL")
    op.create_table(
        "investigation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("concluded_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("investigator", sa.String(length=200), nullable=True),
        sa.Column("investigator_role", sa.String(length=100), nullable=True),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("supplementary_work_needed", sa.Boolean(), nullable=False),
        sa.Column("safety_plan", sa.JSON(), nullable=True),
        sa.Column("supplementary_plan", sa.JSON(), nullable=True),
        sa.Column("needs_considered", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_investigation_case_id_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_investigation")),
        sa.UniqueConstraint("case_id", "number", name=op.f("uq_investigation_case_id")),
    )
    op.create_index(
        op.f("ix_investigation_case_id"), "investigation", ["case_id"], unique=False
    )
    _record_past_investigations()


def _record_past_investigations() -> None:
    """Each investigation_concluded event before this migration becomes an investigation row
    (type "standard" or, after the first, "further": the old record did not say)."""
    bind = op.get_bind()
    events = sa.table(
        "case_event",
        sa.column("case_id", sa.Integer()),
        sa.column("type", sa.String()),
        sa.column("at", registry.db.UTCDateTime(timezone=True)),
        sa.column("recorded_at", registry.db.UTCDateTime(timezone=True)),
        sa.column("actor", sa.String()),
        sa.column("details", sa.JSON()),
        sa.column("id", sa.Integer()),
    )
    investigation = sa.table(
        "investigation",
        sa.column("case_id", sa.Integer()),
        sa.column("number", sa.Integer()),
        sa.column("type", sa.String()),
        sa.column("concluded_at", registry.db.UTCDateTime(timezone=True)),
        sa.column("recorded_at", registry.db.UTCDateTime(timezone=True)),
        sa.column("recorded_by", sa.String()),
        sa.column("outcome", sa.String()),
        sa.column("supplementary_work_needed", sa.Boolean()),
        sa.column("needs_considered", sa.JSON()),
    )
    rows = bind.execute(
        sa.select(events)
        .where(events.c.type == "investigation_concluded")
        .order_by(events.c.case_id, events.c.id)
    ).all()
    numbers: dict[int, int] = {}
    inserts = []
    for row in rows:
        number = numbers.get(row.case_id, 0) + 1
        numbers[row.case_id] = number
        details = row.details or {}
        inserts.append(
            {
                "case_id": row.case_id,
                "number": number,
                "type": "standard" if number == 1 else "further",
                "concluded_at": row.at,
                "recorded_at": row.recorded_at,
                "recorded_by": row.actor,
                "outcome": details.get("outcome") or "not_significant",
                "supplementary_work_needed": bool(details.get("supplementary_work_needed")),
                "needs_considered": [],
            }
        )
    if inserts:
        op.bulk_insert(investigation, inserts)


def downgrade() -> None:
    op.drop_index(op.f("ix_investigation_case_id"), table_name="investigation")
    op.drop_table("investigation")
    with op.batch_alter_table("clock") as batch:
        for name, _ in _CLOCK_COLUMNS:
            batch.drop_column(name)
    with op.batch_alter_table("case") as batch:
        for name, _ in _CASE_COLUMNS:
            batch.drop_column(name)
