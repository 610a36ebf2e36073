-- name: insert!
-- Starts a session for a login, with the id of its first refresh token and where it came from.
INSERT INTO auth_sessions (user_id, id, refresh_jti, expires_at, user_agent, address)
VALUES (%(user_id)s, %(session_id)s, %(refresh_jti)s,
        now() + make_interval(days => %(refresh_days)s::int), %(user_agent)s, %(address)s)

-- name: get_active_with_user^ touches
-- The session's owner when the session is live (not revoked, not expired), the session's
-- current refresh token id, and the owner's default ledger (where v1 paths act) with their role
-- there, so that no request needs another round trip to find it. No row: the token must be
-- refused (revoked, expired, user deleted or disabled). default_ledger_has_webhooks: whether
-- writes there must record webhook events (services/webhooks/outbox.wanted).
-- The same statement touches the session's last_used_at (GET /api/auth/sessions) when it is a
-- minute old or more, and only if no one holds the row: SKIP LOCKED never waits, and a
-- concurrent request of the same session simply leaves the touch to the one that has it. The
-- columns must stay those of personal_access_tokens.get_with_user (api/core/bearer.py: a
-- personal access token gives the same user row).
WITH touchable AS (
    SELECT user_id, id FROM auth_sessions
    WHERE user_id = %(user_id)s
      AND id = %(session_id)s
      AND revoked_at IS NULL
      AND expires_at > now()
      AND last_used_at < now() - interval '60 seconds'
    FOR NO KEY UPDATE SKIP LOCKED
), touched AS (
    UPDATE auth_sessions s SET last_used_at = now()
    FROM touchable t
    WHERE s.user_id = t.user_id AND s.id = t.id
)
SELECT u.id, u.name, u.email, u.role, u.currency, u.timezone, u.created_at,
       u.totp_enabled_at IS NOT NULL AS totp_enabled,
       s.refresh_jti,
       m.ledger_id AS default_ledger_id, m.role AS default_ledger_role,
       l.currency AS default_ledger_currency, l.timezone AS default_ledger_timezone,
       EXISTS (SELECT 1 FROM webhook_endpoints w
               WHERE w.ledger_id = m.ledger_id AND w.disabled_at IS NULL)
           AS default_ledger_has_webhooks
FROM auth_sessions s
JOIN users u ON u.id = s.user_id
LEFT JOIN ledger_members m ON m.user_id = u.id AND m.is_default
LEFT JOIN ledgers l ON l.id = m.ledger_id
WHERE s.user_id = %(user_id)s
  AND s.id = %(session_id)s
  AND s.revoked_at IS NULL
  AND s.expires_at > now()
  AND u.disabled_at IS NULL

-- name: rotate_refresh!
-- Replaces the refresh token id, only if the presented one is still the current one: of two
-- concurrent refreshes with the same token, exactly one succeeds. The replaced id is kept, with
-- the time (refreshed_at), for the reuse grace. A refresh extends the session by the refresh
-- token's lifetime, but never past max_days after its login (SESSION_MAX_DAYS): a session kept
-- alive by refreshing still ends, and one older than that is not refreshed at all.
UPDATE auth_sessions
SET previous_refresh_jti = refresh_jti,
    refresh_jti = %(new_jti)s,
    refreshed_at = now(),
    expires_at = least(now() + make_interval(days => %(refresh_days)s::int),
                       created_at + make_interval(days => %(max_days)s::int))
WHERE user_id = %(user_id)s
  AND id = %(session_id)s
  AND refresh_jti = %(old_jti)s
  AND revoked_at IS NULL
  AND expires_at > now()
  AND created_at > now() - make_interval(days => %(max_days)s::int)

-- name: rotated_away_within$
-- True when the refresh id is the one the session last rotated away from, less than
-- grace_seconds ago. Compared as text: a refresh token's jti is whatever it carries.
SELECT previous_refresh_jti::text = %(refresh_jti)s
       AND refreshed_at > now() - make_interval(secs => %(grace_seconds)s::int)
FROM auth_sessions
WHERE user_id = %(user_id)s AND id = %(session_id)s

-- name: revoke!
-- Ends a session; tokens carrying its id are refused from now on.
UPDATE auth_sessions
SET revoked_at = now(), revoked_reason = %(reason)s
WHERE user_id = %(user_id)s AND id = %(session_id)s AND revoked_at IS NULL

-- name: list_live
-- A user's live sessions (not revoked, not expired), newest first, for GET /api/auth/sessions:
-- at most `limit` of them (a script that logs in every few minutes would otherwise list
-- thousands).
SELECT id, user_agent, created_at, last_used_at
FROM auth_sessions
WHERE user_id = %(user_id)s
  AND revoked_at IS NULL
  AND expires_at > now()
ORDER BY created_at DESC, id
LIMIT %(limit)s

-- name: end_live!
-- Ends one live session of the user (DELETE /api/auth/sessions/{id}); 0 rows: none such (another
-- user's, unknown, already ended or expired).
UPDATE auth_sessions
SET revoked_at = now(), revoked_reason = %(reason)s
WHERE user_id = %(user_id)s
  AND id = %(session_id)s
  AND revoked_at IS NULL
  AND expires_at > now()

-- name: revoke_others_of_user!
-- Ends every live session of a user but one (a password change keeps the caller's).
UPDATE auth_sessions
SET revoked_at = now(), revoked_reason = %(reason)s
WHERE user_id = %(user_id)s AND id <> %(keep_session_id)s AND revoked_at IS NULL

-- name: revoke_all_of_user!
-- Ends every live session of a user at once (their account was disabled).
UPDATE auth_sessions
SET revoked_at = now(), revoked_reason = %(reason)s
WHERE user_id = %(user_id)s AND revoked_at IS NULL

-- name: delete_expired!
-- Housekeeping: sessions past their expiry or revoked long enough ago can go.
DELETE FROM auth_sessions
WHERE expires_at < now() - interval '1 day'
   OR revoked_at < now() - interval '1 day'
