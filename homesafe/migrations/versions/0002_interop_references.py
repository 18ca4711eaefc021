"""interop: external references (the damp and mould data model's reference table)

Revision ID: 0002_interop
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import registry.db

revision = "0002_interop"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "external_reference",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_type", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("allocated_by", sa.String(length=50), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("created_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_reference")),
        sa.UniqueConstraint(
            "entity_type",
            "allocated_by",
            "value",
            name=op.f("uq_external_reference_entity_type"),
        ),
    )
    op.create_index(
        "ix_external_reference_allocated_by_value",
        "external_reference",
        ["allocated_by", "value"],
        unique=False,
    )
    op.create_index(
        "ix_external_reference_entity",
        "external_reference",
        ["entity_type", "entity_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_external_reference_entity", table_name="external_reference")
    op.drop_index("ix_external_reference_allocated_by_value", table_name="external_reference")
    op.drop_table("external_reference")
