"""Webhooks: endpoints (endpoints), the outbox written with each change (outbox), delivery
(delivery), where a URL may point (network) and secrets (signing)."""
