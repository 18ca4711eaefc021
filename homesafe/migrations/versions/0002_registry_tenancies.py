"""registry: tenancies (tenancies.csv) and the home's postal address

Revision ID: 0002_registry
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_registry"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("home") as batch:
        batch.add_column(sa.Column("address", sa.Text(), nullable=True))
    op.create_table(
        "tenancy",
        sa.Column("tenancy_ref", sa.String(length=64), nullable=False),
        sa.Column("home_id", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("tenure", sa.String(length=24), nullable=False),
        sa.Column("lead_tenant_name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("preferred_channel", sa.String(length=8), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.ForeignKeyConstraint(
            ["home_id"], ["home.home_id"], name=op.f("fk_tenancy_home_id_home")
        ),
        sa.PrimaryKeyConstraint("tenancy_ref", name=op.f("pk_tenancy")),
    )
    op.create_index("ix_tenancy_home_start", "tenancy", ["home_id", "start_date"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_tenancy_home_start", table_name="tenancy")
    op.drop_table("tenancy")
    with op.batch_alter_table("home") as batch:
        batch.drop_column("address")
