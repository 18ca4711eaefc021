"""Prometheus metrics of the notification worker (served by the scheduler process)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter(
    "homesafe_notify_messages_total",
    "Messages by channel and outcome (sent, retry, failed, dead, not_sent)",
    ["channel", "outcome"],
)
QUEUED = Gauge(
    "homesafe_notify_queue",
    "Messages in the table by channel and status (after each worker run)",
    ["channel", "status"],
)
OUTBOX_BACKLOG = Gauge(
    "homesafe_notify_outbox_backlog", "Domain events not yet fanned out into messages"
)
SEND_SECONDS = Histogram(
    "homesafe_notify_send_seconds", "Time to hand one message to its channel", ["channel"]
)
