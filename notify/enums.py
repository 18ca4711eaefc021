"""The notify room's closed sets of words."""

from __future__ import annotations

from typing import Literal, get_args

Audience = Literal["tenant", "staff", "webhook"]
Channel = Literal["email", "sms", "letter", "phone", "webhook"]
# pending: waiting to be sent (or retried); sending: claimed by a worker; sent: accepted by the
# server or receiver; failed: refused for good (a bad address); dead: retries ran out;
# not_sent: could not be sent at all (channel not configured, no address) — said on the case.
MessageStatus = Literal["pending", "sending", "sent", "failed", "dead", "not_sent"]
AttemptOutcome = Literal["sent", "retry", "failed", "dead", "not_sent"]

AUDIENCES: tuple[str, ...] = get_args(Audience)
CHANNELS: tuple[str, ...] = get_args(Channel)
MESSAGE_STATUSES: tuple[str, ...] = get_args(MessageStatus)
FINAL_STATUSES: frozenset[str] = frozenset({"sent", "failed", "dead", "not_sent"})
TENANT_CHANNELS: tuple[str, ...] = ("email", "sms", "letter", "phone")
