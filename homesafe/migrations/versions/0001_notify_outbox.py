"""notify: the outbox of domain events, messages and their delivery log, webhook subscriptions

Revision ID: 0001_notify
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import registry.db

revision = "0001_notify"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("processed_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_event")),
    )
    op.create_index(op.f("ix_outbox_event_case_id"), "outbox_event", ["case_id"], unique=False)
    op.create_index(
        "ix_outbox_event_unprocessed", "outbox_event", ["processed_at", "id"], unique=False
    )
    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("personal", sa.Boolean(), nullable=False),
        sa.Column("created_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("deleted_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscription")),
    )
    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("audience", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("address", sa.JSON(), nullable=True),
        sa.Column("after_send", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("next_attempt_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_attempt_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("provider_ref", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["outbox_event.id"], name=op.f("fk_message_event_id_outbox_event")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscription.id"],
            name=op.f("fk_message_subscription_id_webhook_subscription"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_message_idempotency_key")),
    )
    op.create_index(op.f("ix_message_case_id"), "message", ["case_id"], unique=False)
    op.create_index("ix_message_due", "message", ["status", "next_attempt_at", "id"], unique=False)
    op.create_index(
        op.f("ix_message_subscription_id"), "message", ["subscription_id"], unique=False
    )
    op.create_table(
        "message_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("next_retry_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_message_attempt_message_id_message")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_attempt")),
    )
    op.create_index(
        op.f("ix_message_attempt_message_id"), "message_attempt", ["message_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_message_attempt_message_id"), table_name="message_attempt")
    op.drop_table("message_attempt")
    op.drop_index(op.f("ix_message_subscription_id"), table_name="message")
    op.drop_index("ix_message_due", table_name="message")
    op.drop_index(op.f("ix_message_case_id"), table_name="message")
    op.drop_table("message")
    op.drop_table("webhook_subscription")
    op.drop_index("ix_outbox_event_unprocessed", table_name="outbox_event")
    op.drop_index(op.f("ix_outbox_event_case_id"), table_name="outbox_event")
    op.drop_table("outbox_event")
