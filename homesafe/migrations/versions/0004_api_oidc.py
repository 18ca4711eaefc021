"""api: people linked to the landlord's identity provider (OpenID Connect), sign-ins under way,
and the sign-in method of each attempt

Revision ID: 0004_api_oidc
Revises: 0003_api_security
"""

import sqlalchemy as sa
from alembic import op

import registry.db

revision = "0004_api_oidc"
down_revision = "0003_api_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.add_column(sa.Column("oidc_issuer", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("oidc_subject", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_app_user_oidc_issuer"), ["oidc_issuer", "oidc_subject"]
        )
    with op.batch_alter_table("sign_in_attempt") as batch_op:
        batch_op.add_column(
            sa.Column("method", sa.String(length=16), server_default="password", nullable=False)
        )
    op.create_table(
        "oidc_login",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("next_url", sa.String(length=2000), nullable=False),
        sa.Column("created_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_login")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_oidc_login_token_hash")),
    )
    with op.batch_alter_table("oidc_login") as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_login_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_table("oidc_login")
    with op.batch_alter_table("sign_in_attempt") as batch_op:
        batch_op.drop_column("method")
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_app_user_oidc_issuer"), type_="unique")
        batch_op.drop_column("oidc_subject")
        batch_op.drop_column("oidc_issuer")
