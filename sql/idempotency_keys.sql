-- name: claim$
-- Claims a key for this request (or takes over one that has expired), to be kept for
-- keep_seconds. Returns true when this request now owns the key; NULL when a live entry exists.
-- A concurrent request with the same key waits here until the first one's transaction ends, so
-- the work is never done twice.
INSERT INTO idempotency_keys AS k (user_id, key, request_hash, expires_at)
VALUES (%(user_id)s, %(key)s, %(request_hash)s,
        now() + make_interval(secs => %(keep_seconds)s::int))
ON CONFLICT (user_id, key) DO UPDATE
SET request_hash = EXCLUDED.request_hash, response_status = NULL, response_body = NULL,
    created_at = now(), expires_at = EXCLUDED.expires_at
WHERE k.expires_at <= now()
RETURNING true

-- name: get^
SELECT request_hash, response_status, response_body
FROM idempotency_keys
WHERE user_id = %(user_id)s AND key = %(key)s

-- name: save_response!
-- The answer to replay, stored in the same transaction as the work it describes.
UPDATE idempotency_keys
SET response_status = %(status)s, response_body = %(body)s
WHERE user_id = %(user_id)s AND key = %(key)s

-- name: delete_expired!
DELETE FROM idempotency_keys WHERE expires_at <= now()
