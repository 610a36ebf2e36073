-- name: insert^
-- A new ledger; its first member (the owner) is added by add_member in the same transaction.
INSERT INTO ledgers (name, currency, timezone)
VALUES (%(name)s, %(currency)s, %(timezone)s)
RETURNING id, name, currency, timezone, created_at

-- name: add_member^
-- Adds a member with a role; is_default marks the user's personal ledger (one per user).
-- Returns the member as `member` shows it (the change log's `after`).
WITH added AS (
    INSERT INTO ledger_members (ledger_id, user_id, role, is_default)
    VALUES (%(ledger_id)s, %(user_id)s, %(role)s, %(is_default)s)
    RETURNING user_id, role, is_default, joined_at
)
SELECT a.user_id, u.name, u.email, a.role, a.is_default, a.joined_at
FROM added a
JOIN users u ON u.id = a.user_id

-- name: membership^
-- What a user may do in a ledger, with the ledger's money and time settings. No row: the user is
-- not a member (to them the ledger does not exist). has_webhooks: whether the write path must
-- record webhook events (services/webhooks/outbox.wanted), found here at no extra round trip.
SELECT m.ledger_id, m.user_id, m.role, m.is_default, l.currency, l.timezone,
       EXISTS (SELECT 1 FROM webhook_endpoints w
               WHERE w.ledger_id = m.ledger_id AND w.disabled_at IS NULL) AS has_webhooks
FROM ledger_members m
JOIN ledgers l ON l.id = m.ledger_id
WHERE m.ledger_id = %(ledger_id)s AND m.user_id = %(user_id)s

-- name: list_for_user
-- The ledgers a user belongs to, with their own role and default flag: the default first, then
-- by name.
SELECT l.id, l.name, l.currency, l.timezone, m.is_default, m.role, l.created_at
FROM ledger_members m
JOIN ledgers l ON l.id = m.ledger_id
WHERE m.user_id = %(user_id)s
ORDER BY m.is_default DESC, lower(l.name), l.name, l.id

-- name: get_for_member^
-- One ledger as a member sees it (their role and default flag). No row: not a member.
SELECT l.id, l.name, l.currency, l.timezone, m.is_default, m.role, l.created_at
FROM ledger_members m
JOIN ledgers l ON l.id = m.ledger_id
WHERE m.ledger_id = %(ledger_id)s AND m.user_id = %(user_id)s

-- name: lock^
-- Serializes the changes to a ledger's membership (and its deletion): whoever holds this lock
-- counts owners and changes roles before anyone else may. FOR NO KEY UPDATE, not FOR UPDATE, so
-- the foreign key checks of writes into the ledger (FOR KEY SHARE) are not blocked.
SELECT id FROM ledgers WHERE id = %(ledger_id)s FOR NO KEY UPDATE

-- name: get_for_member_locked^
-- get_for_member, with the ledger's row locked until the end of the transaction (a change's
-- `before`; FOR NO KEY UPDATE, as `lock`).
SELECT l.id, l.name, l.currency, l.timezone, m.is_default, m.role, l.created_at
FROM ledger_members m
JOIN ledgers l ON l.id = m.ledger_id
WHERE m.ledger_id = %(ledger_id)s AND m.user_id = %(user_id)s
FOR NO KEY UPDATE OF l

-- name: rename^
UPDATE ledgers
SET name = %(name)s, updated_at = now()
WHERE id = %(ledger_id)s
RETURNING id, name, currency, timezone, created_at

-- name: is_anyones_default$
-- Whether the ledger is some member's default (the one their v1 paths act on).
SELECT EXISTS (
    SELECT 1 FROM ledger_members WHERE ledger_id = %(ledger_id)s AND is_default
)

-- name: delete!
-- Everything in the ledger goes with it: every table that holds a ledger's rows references
-- ledgers ON DELETE CASCADE.
DELETE FROM ledgers WHERE id = %(ledger_id)s

-- name: members
-- The ledger's members with their names and emails, in the order they joined.
SELECT m.user_id, u.name, u.email, m.role, m.is_default, m.joined_at
FROM ledger_members m
JOIN users u ON u.id = m.user_id
WHERE m.ledger_id = %(ledger_id)s
ORDER BY m.joined_at, m.user_id

-- name: members_for_ledgers
-- members for many ledgers in one statement (GraphQL's `ledgers { members }`): ledger_id with
-- every row, each ledger's members in the order they joined. The caller has checked
-- membership of each.
SELECT m.ledger_id, m.user_id, u.name, u.email, m.role, m.is_default, m.joined_at
FROM ledger_members m
JOIN users u ON u.id = m.user_id
WHERE m.ledger_id = ANY(%(ledger_ids)s::bigint[])
ORDER BY m.ledger_id, m.joined_at, m.user_id

-- name: member^
SELECT m.user_id, u.name, u.email, m.role, m.is_default, m.joined_at
FROM ledger_members m
JOIN users u ON u.id = m.user_id
WHERE m.ledger_id = %(ledger_id)s AND m.user_id = %(user_id)s

-- name: owner_count$
-- Read under the ledger's lock (lock), so two demotions cannot both see a second owner.
SELECT count(*) FROM ledger_members WHERE ledger_id = %(ledger_id)s AND role = 'owner'

-- name: set_role!
UPDATE ledger_members
SET role = %(role)s
WHERE ledger_id = %(ledger_id)s AND user_id = %(user_id)s

-- name: remove_member!
-- The member's own alert read states go with them (alert_reads references ledger_members).
DELETE FROM ledger_members WHERE ledger_id = %(ledger_id)s AND user_id = %(user_id)s

-- name: time_zone_known$
-- Whether this database knows the time zone (the worker's claim works out each ledger's date
-- with date_in_zone, migration 0014, which is NULL for a zone it does not know).
SELECT date_in_zone(now(), %(name)s) IS NOT NULL

-- name: local_times
-- The wall-clock time in a zone this database knows, now and half a year on (one side of any
-- daylight-saving change each): compared with Python's, as the API's dates and the worker's
-- must agree. (PostgreSQL reads CET, EET, MET and WET as fixed-offset abbreviations; Python's
-- zoneinfo gives them summer time.)
SELECT m AS moment, m AT TIME ZONE %(name)s AS local
FROM (VALUES (now()), (now() + interval '182 days')) AS v (m)

-- name: lock_member!
-- The user's row, locked (FOR NO KEY UPDATE, as an owner's invitations are counted) before their
-- ledgers are counted: two joins or creations at once then count each other. The count is a
-- statement of its own, so that its snapshot, taken after the lock, sees the other's commit.
SELECT id FROM users WHERE id = %(user_id)s FOR NO KEY UPDATE

-- name: count_for_user$
SELECT count(*) FROM ledger_members WHERE user_id = %(user_id)s
