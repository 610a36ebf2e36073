"""Webhook secrets: made, encrypted at rest, and used to sign deliveries (Standard Webhooks).

A secret is `whsec_` + standard base64 of 32 random bytes, shown to the owner once. The database
holds it encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) under
WEBHOOK_SECRETS_KEY, so a dump of the database alone cannot sign a delivery. The setting may
list several keys, comma-separated: the first encrypts, all decrypt (MultiFernet), so the key
itself can be rotated. Signing is the `standardwebhooks` reference library's.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_key() -> str:
    """A new WEBHOOK_SECRETS_KEY."""
    return Fernet.generate_key().decode()


def cipher(keys: str) -> MultiFernet:
    """The cipher of WEBHOOK_SECRETS_KEY (comma-separated Fernet keys; the first encrypts).
    ValueError for a malformed key."""
    return MultiFernet([Fernet(key.strip()) for key in keys.split(",") if key.strip()])


def encrypt(keys: str, secret: str) -> bytes:
    return cipher(keys).encrypt(secret.encode())


def decrypt(keys: str, token: bytes) -> str:
    """The plain secret; ValueError when no configured key opens it."""
    try:
        return cipher(keys).decrypt(bytes(token)).decode()
    except InvalidToken:
        raise ValueError("the secret was encrypted with a key that is not configured") from None


def signature_header(
    secrets_in_use: list[str], message_id: str, timestamp: datetime, body: str
) -> str:
    """`webhook-signature`: one `v1,<base64>` per secret, space-separated (during a rotation's
    overlap the receiver may know either secret)."""
    return " ".join(Webhook(secret).sign(message_id, timestamp, body) for secret in secrets_in_use)
