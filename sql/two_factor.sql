-- name: lock_state^
-- The account's two-factor state, its row locked until the transaction ends: a setup, an
-- enabling and a disabling of one account happen one after the other. Secrets are Fernet
-- tokens (services/auth/two_factor.py), never plain text.
SELECT email, password_hash, totp_secret, totp_pending_secret, totp_last_step
FROM users
WHERE id = %(user_id)s
FOR NO KEY UPDATE  -- not FOR UPDATE: foreign-key checks against the row (sessions, keys) go on

-- name: set_pending!
-- A new setup's secret, waiting for a first code; replaces a pending one. Not while two-factor
-- is on (a setup then would be refused before this).
UPDATE users SET totp_pending_secret = %(secret)s
WHERE id = %(user_id)s AND totp_secret IS NULL

-- name: enable!
-- The pending secret becomes the account's, with the step of the code that proved it as the
-- last one used (that code cannot be used again to log in).
UPDATE users
SET totp_secret = totp_pending_secret,
    totp_pending_secret = NULL,
    totp_enabled_at = now(),
    totp_last_step = %(step)s
WHERE id = %(user_id)s AND totp_secret IS NULL AND totp_pending_secret = %(pending)s

-- name: disable!
-- Two-factor off: the secret, a pending one, and the last step forgotten.
UPDATE users
SET totp_secret = NULL, totp_pending_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL
WHERE id = %(user_id)s

-- name: claim_step!
-- Spends a time step: only if no code of this step or a later one was accepted before. Two
-- requests with one code: the second waits for the first's row lock, then finds the condition
-- false and changes nothing (0 rows), so exactly one of them gets in.
UPDATE users SET totp_last_step = %(step)s
WHERE id = %(user_id)s
  AND totp_secret IS NOT NULL
  AND (totp_last_step IS NULL OR totp_last_step < %(step)s)

-- name: delete_recovery_codes!
-- Every recovery code of the account (a new enabling replaces them; disabling ends them).
DELETE FROM totp_recovery_codes WHERE user_id = %(user_id)s

-- name: insert_recovery_codes!
-- A new set of recovery codes, as their SHA-256 digests.
INSERT INTO totp_recovery_codes (user_id, code_hash)
SELECT %(user_id)s, code_hash FROM unnest(%(hashes)s::bytea[]) AS code_hash

-- name: unused_recovery_codes
-- The digests of the account's recovery codes not yet used (at most ten), for comparing a
-- presented code with each in constant time.
SELECT code_hash FROM totp_recovery_codes
WHERE user_id = %(user_id)s AND used_at IS NULL

-- name: spend_recovery_code^
-- Marks a recovery code used, only if it still is not: of two requests with one code exactly
-- one spends it. `spent` 1 or 0, and how many unused codes are left after this statement.
WITH spent AS (
    UPDATE totp_recovery_codes SET used_at = now()
    WHERE user_id = %(user_id)s AND code_hash = %(code_hash)s AND used_at IS NULL
    RETURNING code_hash
)
SELECT (SELECT count(*) FROM spent) AS spent,
       (SELECT count(*) FROM totp_recovery_codes
        WHERE user_id = %(user_id)s AND used_at IS NULL
          AND code_hash NOT IN (SELECT code_hash FROM spent)) AS left

-- name: code_failures_today^
-- The account's wrong second-factor codes of the last 24 hours (failed logins, disablings and
-- erasures whose reason is the code: services/auth/events.py), at most `limit` of them, and
-- when the oldest of those was sent: the daily cap lifts a day after it. Read from the events,
-- which every wrong code writes in a transaction of its own; a few of the user's own rows.
SELECT count(*) AS failures, min(at) + interval '1 day' - now() AS lifts_in
FROM (SELECT at
      FROM security_events
      WHERE user_id = %(user_id)s
        AND at > now() - interval '1 day'
        AND kind IN ('login_failed', 'totp_disable_failed', 'account_erase_failed')
        AND detail->>'reason' = 'totp'
      ORDER BY at DESC
      LIMIT %(limit)s) AS recent
