-- name: lock_owner!
-- Locks the owner's row until the transaction ends, so that two token creations of one user
-- count each other's tokens against the cap (the count runs as the next statement, after the
-- lock: under READ COMMITTED it then sees the other's committed insert). NO KEY UPDATE: the
-- foreign-key checks of sessions and tokens (KEY SHARE) are not held up.
SELECT 1 FROM users WHERE id = %(user_id)s FOR NO KEY UPDATE

-- name: insert_within_cap^
-- A new token, unless the user already has `cap` of them (then no row). expires_at NULL: it
-- never expires.
INSERT INTO personal_access_tokens (user_id, id, name, token_hash, scope, expires_at)
SELECT %(user_id)s, %(id)s, %(name)s, %(token_hash)s, %(scope)s,
       now() + make_interval(days => %(expires_in_days)s::int)
WHERE (SELECT count(*) FROM personal_access_tokens WHERE user_id = %(user_id)s) < %(cap)s
RETURNING id, name, scope, created_at, expires_at, last_used_at

-- name: list_for_user
-- A user's tokens (expired ones too, so they can be seen and deleted), newest first. Never the
-- digest.
SELECT id, name, scope, created_at, expires_at, last_used_at
FROM personal_access_tokens
WHERE user_id = %(user_id)s
ORDER BY created_at DESC, id

-- name: delete!
-- Deletes one of the user's tokens; 0 rows: none such (another user's or unknown).
DELETE FROM personal_access_tokens WHERE user_id = %(user_id)s AND id = %(id)s

-- name: delete_all_of_user!
-- Deletes every token of a user (their password changed).
DELETE FROM personal_access_tokens WHERE user_id = %(user_id)s

-- name: get_with_user^ touches
-- The owner of the token whose SHA-256 digest this is, found by the tenant key the token text
-- carries and the digest (the primary key's user_id, then the unique (user_id, token_hash)
-- index): the columns of auth_sessions.get_active_with_user (the same user row whichever kind
-- of bearer token came), with the token's id, scope and whether it has expired instead of a
-- refresh id. No row: no such token, or its owner is disabled or gone. Like the session check,
-- one statement that also touches the token's last_used_at, at most once a minute, without
-- waiting for a lock.
WITH touchable AS (
    SELECT user_id, id FROM personal_access_tokens
    WHERE user_id = %(user_id)s
      AND token_hash = %(token_hash)s
      AND (expires_at IS NULL OR expires_at > now())
      AND (last_used_at IS NULL OR last_used_at < now() - interval '60 seconds')
    FOR NO KEY UPDATE SKIP LOCKED
), touched AS (
    UPDATE personal_access_tokens p SET last_used_at = now()
    FROM touchable t
    WHERE p.user_id = t.user_id AND p.id = t.id
)
SELECT u.id, u.name, u.email, u.role, u.currency, u.timezone, u.created_at,
       u.totp_enabled_at IS NOT NULL AS totp_enabled,
       p.id AS token_id, p.scope AS token_scope,
       (p.expires_at IS NOT NULL AND p.expires_at <= now()) AS token_expired,
       m.ledger_id AS default_ledger_id, m.role AS default_ledger_role,
       l.currency AS default_ledger_currency, l.timezone AS default_ledger_timezone,
       EXISTS (SELECT 1 FROM webhook_endpoints w
               WHERE w.ledger_id = m.ledger_id AND w.disabled_at IS NULL)
           AS default_ledger_has_webhooks
FROM personal_access_tokens p
JOIN users u ON u.id = p.user_id
LEFT JOIN ledger_members m ON m.user_id = u.id AND m.is_default
LEFT JOIN ledgers l ON l.id = m.ledger_id
WHERE p.user_id = %(user_id)s
  AND p.token_hash = %(token_hash)s
  AND u.disabled_at IS NULL
