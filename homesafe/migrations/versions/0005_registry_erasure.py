"""registry: aggregate tally of erased households' groups (special-category data erasure)

Revision ID: 0005_registry_erasure
Revises: 0004_registry_report_links
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_registry_erasure"
down_revision = "0004_registry_report_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "special_category_tally",
        sa.Column("dimension", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=200), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("cases_breached", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dimension", "level", name=op.f("pk_special_category_tally")),
    )


def downgrade() -> None:
    op.drop_table("special_category_tally")
