"""api: sign-in attempts (throttling and lockout), API tokens' expiry, the access log of
special-category reads

Revision ID: 0003_api_security
Revises: 0002_api
"""

import sqlalchemy as sa
from alembic import op

import registry.db

revision = "0003_api_security"
down_revision = "0002_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempt")),
    )
    with op.batch_alter_table("sign_in_attempt") as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_attempt_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sign_in_attempt_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_sign_in_attempt_client"), ["client"], unique=False)


    op.create_table(
        "special_category_read",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("what", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("via", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_special_category_read")),
    )
    with op.batch_alter_table("special_category_read") as batch_op:
        batch_op.create_index(batch_op.f("ix_special_category_read_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_special_category_read_actor"), ["actor"], unique=False
        )
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", registry.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.drop_column("expires_at")
    op.drop_table("special_category_read")
    op.drop_table("sign_in_attempt")
