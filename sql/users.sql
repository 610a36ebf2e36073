-- name: insert^
-- Creates a user; the unique index on lower(email) makes a taken email a unique violation.
INSERT INTO users (name, email, password_hash, currency, timezone)
VALUES (%(name)s, %(email)s, %(password_hash)s, %(currency)s, %(timezone)s)
RETURNING id, name, email, role, currency, timezone, created_at

-- name: get_for_login^
-- The user with this email (any case), with the password hash, for verifying a login.
SELECT id, name, email, role, currency, timezone, created_at, password_hash
FROM users
WHERE lower(email) = lower(%(email)s)
