"""Webhook endpoints and their delivery."""
