-- name: insert^
-- Creates a user; the unique index on lower(email) makes a taken email a unique violation.
INSERT INTO users (name, email, password_hash, currency, timezone)
VALUES (%(name)s, %(email)s, %(password_hash)s, %(currency)s, %(timezone)s)
RETURNING id, name, email, role, currency, timezone, created_at

-- name: get_for_login^
-- The user with this email (any case), with the password hash, for verifying a login, whether
-- the account is disabled, and its two-factor secret (encrypted; NULL: two-factor is off) with
-- the last time step a code was accepted for, so a login with a code costs no extra read.
SELECT id, name, email, role, currency, timezone, created_at, password_hash, disabled_at,
       totp_secret, totp_last_step
FROM users
WHERE lower(email) = lower(%(email)s)

-- name: record_login!
-- A successful login: when the user last logged in, for the admins' list. Only while the
-- password hash is still the one the login checked and the account is not disabled: a password
-- change (or a disabling) that commits between the check and this statement holds the row lock
-- first, so this UPDATE re-reads the changed row and finds 0 rows, and the login is refused
-- instead of starting a session the change never saw to end. Taken the other way round, the
-- change waits for this login to commit and then ends its session with the others.
UPDATE users SET last_login_at = now()
WHERE id = %(user_id)s AND password_hash = %(password_hash)s AND disabled_at IS NULL

-- name: admin_list
-- Accounts as admins see them, by id after the cursor's id, optionally those whose name or
-- email contains `q` (any case; strpos, so % and _ are plain characters). limit is one more
-- than the page, to tell whether another page follows.
SELECT id, name, email, role, currency, timezone, created_at, disabled_at, last_login_at
FROM users
WHERE id > %(after_id)s
  AND (%(q)s::text IS NULL
       OR strpos(lower(name), lower(%(q)s::text)) > 0
       OR strpos(lower(email), lower(%(q)s::text)) > 0)
ORDER BY id
LIMIT %(limit)s

-- name: lock_for_admin^
-- One account, its row locked until the transaction ends, for changing its role or status.
SELECT id, name, email, role, currency, timezone, created_at, disabled_at, last_login_at
FROM users
WHERE id = %(user_id)s
FOR NO KEY UPDATE  -- not FOR UPDATE: foreign-key checks against the row (sessions, keys) go on

-- name: id_by_email$
-- The id of the account with this email (any case).
SELECT id FROM users WHERE lower(email) = lower(%(email)s)

-- name: lock_active_admins
-- Locks every active admin's row (in id order, so that two callers never deadlock) and lists
-- them: whoever counts admins under this lock sees the changes of whoever held it before.
-- NO KEY UPDATE: it conflicts with itself, but not with the foreign-key checks of sessions,
-- idempotency keys or transactions that point at an admin's row.
SELECT id
FROM users
WHERE role = 'admin' AND disabled_at IS NULL
ORDER BY id
FOR NO KEY UPDATE

-- name: admin_update^
-- Sets the role and the disabled status; NULL leaves a column as it is. Disabling an account
-- that is already disabled keeps the time it was disabled.
UPDATE users
SET role = coalesce(%(role)s::text, role),
    disabled_at = CASE
        WHEN %(disabled)s::boolean IS NULL THEN disabled_at
        WHEN %(disabled)s::boolean THEN coalesce(disabled_at, now())
    END
WHERE id = %(user_id)s
RETURNING id, name, email, role, currency, timezone, created_at, disabled_at, last_login_at

-- name: stats^
-- What the service holds, for admins: counts only, never contents.
SELECT (SELECT count(*) FROM users) AS users,
       (SELECT count(*) FROM ledgers) AS ledgers,
       (SELECT count(*) FROM transactions) AS transactions,
       pg_database_size(current_database()) AS database_bytes

-- name: get_password_hash$
-- The user's password hash, for checking the current password before changing it.
SELECT password_hash FROM users WHERE id = %(user_id)s

-- name: change_password!
-- Replaces the password hash, only if it is still the one the current password was checked
-- against: of two concurrent changes, the second finds 0 rows (its current password is no
-- longer current).
UPDATE users
SET password_hash = %(new_hash)s, password_changed_at = now()
WHERE id = %(user_id)s AND password_hash = %(old_hash)s
