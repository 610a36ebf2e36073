"""bcrypt password hashing; a dummy hash makes an unknown email cost as much as a wrong password."""

from __future__ import annotations

import hashlib
from base64 import b64encode

import bcrypt

from ...domain.errors import Forbidden


class InvalidPassword(Forbidden):
    """A wrong password asked again by a signed-in request (a password change, turning two-factor
    off, erasing the account): 403, since the token itself is fine and a 401 would make a client
    (the dashboard) sign its person out."""

    code = "invalid_password"


def _prehash(password: str) -> bytes:
    # bcrypt reads only the first 72 bytes; a SHA-256 pre-hash (base64, 44 bytes) makes every
    # character of a password up to 128 characters (up to 512 UTF-8 bytes) count.
    return b64encode(hashlib.sha256(password.encode()).digest())


class PasswordHasher:
    def __init__(self, rounds: int):
        self.rounds = rounds
        # Made now, once per process: made lazily, the first unknown email would pay a hash on
        # top of the check, and that slower answer would tell that the email is not registered.
        self._dummy_hash = self.hash("not a real password: equalizes timing for unknown emails")

    def hash(self, password: str) -> str:
        return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(self.rounds)).decode()

    def verify(self, password: str, password_hash: str | None) -> bool:
        """True when the password matches; with no hash, spends the same time and says False."""
        candidate = (password_hash or self._dummy_hash).encode()
        matches = bcrypt.checkpw(_prehash(password), candidate)
        return matches and password_hash is not None
