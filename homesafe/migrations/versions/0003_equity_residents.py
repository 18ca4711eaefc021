"""equity residents: deep-dive requests, resident-defined KPIs and their periods, milestone
surveys, the annual review's notes; work orders' operative and communal flag

Revision ID: 0003_equity_residents
Revises: 0002_repairs_equity
"""

import sqlalchemy as sa
from alembic import op

import registry.db

revision = "0003_equity_residents"
down_revision = "0002_repairs_equity"
branch_labels = None
depends_on = None

UTC = registry.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("work_order") as batch:
        batch.add_column(sa.Column("operative", sa.String(length=100), nullable=True))
        batch.add_column(
            sa.Column("communal", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "deep_dive_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asked_by", sa.String(length=64), nullable=False),
        sa.Column("asked_at", UTC, nullable=False),
        sa.Column("hazard", sa.String(length=40), nullable=True),
        sa.Column("area", sa.String(length=8), nullable=True),
        sa.Column("quarter_from", sa.String(length=7), nullable=False),
        sa.Column("quarter_to", sa.String(length=7), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("answered_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deep_dive_request")),
    )
    op.create_table(
        "resident_kpi",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("measure", sa.String(length=40), nullable=False),
        sa.Column("target_pct", sa.Float(), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", UTC, nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_kpi")),
        sa.UniqueConstraint("name", name=op.f("uq_resident_kpi_name")),
    )
    op.create_table(
        "kpi_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kpi_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("numerator", sa.Integer(), nullable=False),
        sa.Column("denominator", sa.Integer(), nullable=False),
        sa.Column("met", sa.Boolean(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("published_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["kpi_id"], ["resident_kpi.id"], name=op.f("fk_kpi_period_kpi_id_resident_kpi")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_period")),
        sa.UniqueConstraint("kpi_id", "quarter", name=op.f("uq_kpi_period_kpi_id")),
    )
    op.create_index(op.f("ix_kpi_period_kpi_id"), "kpi_period", ["kpi_id"])
    op.create_table(
        "survey_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("home_id", sa.String(length=64), nullable=False),
        sa.Column("milestone", sa.String(length=12), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("answered_at", UTC, nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("operative_rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
            name=op.f("fk_survey_invitation_work_order_id_work_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_survey_invitation_token_hash")),
        sa.UniqueConstraint(
            "work_order_id", "milestone", "home_id", name=op.f("uq_survey_invitation_work_order_id")
        ),
    )
    op.create_index(
        op.f("ix_survey_invitation_work_order_id"), "survey_invitation", ["work_order_id"]
    )
    op.create_table(
        "review_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("author_role", sa.String(length=12), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("written_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_note")),
    )


def downgrade() -> None:
    op.drop_table("review_note")
    op.drop_index(op.f("ix_survey_invitation_work_order_id"), table_name="survey_invitation")
    op.drop_table("survey_invitation")
    op.drop_index(op.f("ix_kpi_period_kpi_id"), table_name="kpi_period")
    op.drop_table("kpi_period")
    op.drop_table("resident_kpi")
    op.drop_table("deep_dive_request")
    with op.batch_alter_table("work_order") as batch:
        batch.drop_column("communal")
        batch.drop_column("operative")

