"""registry: each home's private reporting link for residents (only the secret's hash)

Revision ID: 0004_registry_report_links
Revises: 0003_registry_alert_codes
"""

import sqlalchemy as sa
from alembic import op

import registry.db

revision = "0004_registry_report_links"
down_revision = "0003_registry_alert_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("home_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["home_id"], ["home.home_id"], name=op.f("fk_report_link_home_id_home")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_link")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_report_link_secret_hash")),
    )
    op.create_index(op.f("ix_report_link_home_id"), "report_link", ["home_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_report_link_home_id"), table_name="report_link")
    op.drop_table("report_link")
