"""registry: the household's person alert codes (MHCLG/HACT), optional column of households.csv

Revision ID: 0003_registry_alert_codes
Revises: 0002_registry
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_registry_alert_codes"
down_revision = "0002_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("household") as batch:
        batch.add_column(sa.Column("alert_codes", sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("household") as batch:
        batch.drop_column("alert_codes")
