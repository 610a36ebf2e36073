-- name: account^
-- Everything the service holds about one account, for its owner (GET /api/me/export;
-- services/account_data.py). Each query filters by the account (user_id); none returns a
-- secret: no password hash, two-factor secret, recovery code or token digest, no refresh token
-- id.
-- The account itself.
SELECT id, name, email, role, currency, timezone, created_at, last_login_at, disabled_at,
       totp_enabled_at, password_changed_at
FROM users
WHERE id = %(user_id)s

-- name: sessions
-- Every session the service still keeps (live ones, and ended or expired ones until
-- housekeeping drops them a day later), oldest first.
SELECT id, created_at, last_used_at, expires_at, revoked_at, revoked_reason, user_agent, address
FROM auth_sessions
WHERE user_id = %(user_id)s
ORDER BY created_at, id

-- name: personal_access_tokens
-- The account's personal access tokens: names and dates, never the token or its digest.
SELECT id, name, scope, created_at, expires_at, last_used_at
FROM personal_access_tokens
WHERE user_id = %(user_id)s
ORDER BY created_at, id

-- name: memberships
-- The ledgers the account belongs to, with its role there, in the order it joined them.
SELECT m.ledger_id, l.name, l.currency, l.timezone, m.role, m.is_default, m.joined_at
FROM ledger_members m
JOIN ledgers l ON l.id = m.ledger_id
WHERE m.user_id = %(user_id)s
ORDER BY m.joined_at, m.ledger_id

-- name: invitations_sent
-- The invitations the account made, in every ledger, with their status as the ledger's list
-- shows it (revoked ones included: the account made them all the same).
SELECT i.id, i.ledger_id, i.email, i.role,
       CASE WHEN i.status = 'pending' AND i.expires_at <= now() THEN 'expired' ELSE i.status END
           AS status,
       i.created_at, i.expires_at, i.responded_at
FROM invitations i
WHERE i.invited_by = %(user_id)s
ORDER BY i.created_at, i.ledger_id, i.id

-- name: invitations_received
-- The invitations to the account: bound to it, or to its email (any case) before it
-- registered; with the ledger's name.
SELECT i.id, i.ledger_id, l.name AS ledger_name, i.email, i.role,
       CASE WHEN i.status = 'pending' AND i.expires_at <= now() THEN 'expired' ELSE i.status END
           AS status,
       i.created_at, i.expires_at, i.responded_at
FROM invitations i
JOIN ledgers l ON l.id = i.ledger_id
WHERE i.invitee_id = %(user_id)s
   OR lower(i.email) = (SELECT lower(u.email) FROM users u WHERE u.id = %(user_id)s)
ORDER BY i.created_at, i.ledger_id, i.id

-- name: recurring_acting_as
-- The recurring rules that act as the account (record transactions in its name), in every
-- ledger, as the recurring list shows them, with the ledger's currency.
SELECT r.id, r.ledger_id, l.currency AS ledger_currency, r.category_id, c.name AS category,
       r.type, r.amount, r.currency, r.description, r.frequency, r.repeat_interval, r.by_weekday,
       r.by_month_day, r.start_date, r.end_date, r.max_occurrences, r.paused, r.paused_reason,
       r.next_date, r.failures, r.retry_at, r.last_error, r.created_at
FROM recurring_rules r
JOIN ledgers l ON l.id = r.ledger_id
JOIN categories c ON c.ledger_id = r.ledger_id AND c.id = r.category_id
WHERE r.acts_as = %(user_id)s
ORDER BY r.ledger_id, r.id

-- name: imports_uploaded
-- The bank files the account uploaded, in every ledger: what the file was, not its rows (they
-- are the ledger's transactions).
SELECT ledger_id, id, status, format, account, file_name, currency, created_at, committed_at,
       undone_at
FROM imports
WHERE created_by = %(user_id)s
ORDER BY created_at, ledger_id, id
