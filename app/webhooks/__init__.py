"""Webhooks: subscriptions to offer and application events, delivered through the outbox
as the Standard Webhooks specification says, to receivers checked at every delivery."""
