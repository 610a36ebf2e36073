-- Refresh reuse grace: a session remembers the refresh id it last rotated away from (refreshed_at
-- already says when), so that one token presented again shortly after its rotation (a client
-- retrying a refresh whose answer it lost) is told apart from theft.
-- Idempotency keys get an expiry of their own: stored answers that carry tokens are kept for
-- minutes, the others for 24 hours as before.
-- depends: 0005.add-foreign-key-and-prune-indexes

ALTER TABLE auth_sessions ADD COLUMN previous_refresh_jti uuid;

ALTER TABLE idempotency_keys ADD COLUMN expires_at timestamptz;
UPDATE idempotency_keys SET expires_at = created_at + interval '24 hours';
ALTER TABLE idempotency_keys
    ALTER COLUMN expires_at SET DEFAULT now() + interval '24 hours',
    ALTER COLUMN expires_at SET NOT NULL;

-- Expiry and housekeeping now look at expires_at.
DROP INDEX idempotency_keys_created_at_idx;
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
