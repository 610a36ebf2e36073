"""Webhooks' plumbing below the services: where a URL may point (network.py) and the secrets
and signatures (signing.py). `python -m expense_api.webhooks` runs the delivery job
(services/webhook_delivery.py) until SIGTERM."""
