"""repairs and equity: contractors, work orders, visits, repair KPIs, "you said, we did"

Revision ID: 0002_repairs_equity
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import registry.db

revision = "0002_repairs_equity"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contractor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contractor")),
        sa.UniqueConstraint("name", name=op.f("uq_contractor_name")),
    )
    op.create_table(
        "work_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("home_id", sa.String(length=64), nullable=False),
        sa.Column("hazard", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("contractor_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("reported_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("raised_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("target_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("dispatched_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("work_done", sa.Text(), nullable=True),
        sa.Column("satisfaction_score", sa.Integer(), nullable=True),
        sa.Column("satisfaction_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("verification", sa.String(length=16), nullable=False),
        sa.Column("verify_until", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("verified_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recurred_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("raised_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_work_order_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["contractor_id"],
            ["contractor.id"],
            name=op.f("fk_work_order_contractor_id_contractor"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order")),
    )
    op.create_index(op.f("ix_work_order_case_id"), "work_order", ["case_id"])
    op.create_index(op.f("ix_work_order_contractor_id"), "work_order", ["contractor_id"])
    op.create_index("ix_work_order_home_hazard", "work_order", ["home_id", "hazard"])
    op.create_index(
        "ix_work_order_verification_verify_until", "work_order", ["verification", "verify_until"]
    )
    op.create_table(
        "work_order_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("booked_for", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
            name=op.f("fk_work_order_visit_work_order_id_work_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_visit")),
    )
    op.create_index(
        op.f("ix_work_order_visit_work_order_id"), "work_order_visit", ["work_order_id"]
    )
    op.create_table(
        "repair_kpi",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("numerator", sa.JSON(), nullable=False),
        sa.Column("denominator", sa.JSON(), nullable=False),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("created_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_kpi")),
        sa.UniqueConstraint("name", name=op.f("uq_repair_kpi_name")),
    )
    op.create_table(
        "you_said_we_did",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("you_said", sa.Text(), nullable=False),
        sa.Column("we_did", sa.Text(), nullable=False),
        sa.Column("published_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_you_said_we_did")),
    )


def downgrade() -> None:
    op.drop_table("you_said_we_did")
    op.drop_table("repair_kpi")
    op.drop_index(op.f("ix_work_order_visit_work_order_id"), table_name="work_order_visit")
    op.drop_table("work_order_visit")
    op.drop_index("ix_work_order_verification_verify_until", table_name="work_order")
    op.drop_index("ix_work_order_home_hazard", table_name="work_order")
    op.drop_index(op.f("ix_work_order_contractor_id"), table_name="work_order")
    op.drop_index(op.f("ix_work_order_case_id"), table_name="work_order")
    op.drop_table("work_order")
    op.drop_table("contractor")
