"""Authentication: password hashing, JWT issue/verify/revoke, and login throttling."""
