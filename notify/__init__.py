"""Notifications: the outbox of domain events, tenants' and staff's messages, webhooks, delivery log."""
