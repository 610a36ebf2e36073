-- The code before this migration keeps every key 24 hours after created_at: answers that carry
-- tokens must not live that long, so they go.
DELETE FROM idempotency_keys WHERE expires_at < created_at + interval '24 hours';
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
ALTER TABLE idempotency_keys DROP COLUMN expires_at;

ALTER TABLE auth_sessions DROP COLUMN previous_refresh_jti;
