"""Webhooks' plumbing below the services: where a URL may point (network.py) and the secrets
and signatures (signing.py). The worker (`expense-api worker`) runs the
delivery job, services/webhook_delivery.py."""
