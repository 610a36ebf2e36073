-- name: lock_inviter^
-- Serializes one owner's invitation creations, so two at once cannot both pass the hourly limit.
-- FOR NO KEY UPDATE: foreign key checks against the user (FOR KEY SHARE) are not blocked.
SELECT id FROM users WHERE id = %(user_id)s FOR NO KEY UPDATE

-- name: created_within^
-- How many invitations the user created within the last `seconds`, and in how many seconds the
-- oldest of them leaves that window.
SELECT count(*) AS count,
       ceil(extract(epoch FROM min(created_at) + make_interval(secs => %(seconds)s) - now()))::int
           AS frees_in
FROM invitations
WHERE invited_by = %(user_id)s AND created_at > now() - make_interval(secs => %(seconds)s)

-- name: member_with_email$
-- Whether a member of the ledger has this email (any case).
SELECT EXISTS (
    SELECT 1
    FROM ledger_members m
    JOIN users u ON u.id = m.user_id
    WHERE m.ledger_id = %(ledger_id)s AND lower(u.email) = lower(%(email)s)
)

-- name: account_with_email$
-- The id of the account with this email (any case), or nothing: the invitation binds to it.
SELECT id FROM users WHERE lower(email) = lower(%(email)s)

-- name: revoke_pending_for_email
-- A new invitation replaces the pending one for the same address. Returns each one revoked as
-- list_for_ledger showed it before (its change log `before`: pending, or expired).
UPDATE invitations
SET status = 'revoked'
WHERE ledger_id = %(ledger_id)s AND lower(email) = lower(%(email)s) AND status = 'pending'
RETURNING id, ledger_id, email, role,
          CASE WHEN expires_at <= now() THEN 'expired' ELSE 'pending' END AS status,
          created_at, expires_at

-- name: insert^
INSERT INTO invitations (ledger_id, email, role, invited_by, invitee_id)
VALUES (%(ledger_id)s, %(email)s, %(role)s, %(invited_by)s, %(invitee_id)s)
RETURNING id, ledger_id, email, role, status, created_at, expires_at

-- name: list_for_ledger
-- The ledger's invitations, newest first; revoked and replaced ones are gone, a pending one past
-- its expiry is 'expired'.
SELECT id, ledger_id, email, role,
       CASE WHEN status = 'pending' AND expires_at <= now() THEN 'expired' ELSE status END
           AS status,
       created_at, expires_at
FROM invitations
WHERE ledger_id = %(ledger_id)s AND status <> 'revoked'
ORDER BY created_at DESC, id DESC

-- name: revoke^
-- Revokes a pending (or expired) invitation of the ledger; returns it as list_for_ledger showed
-- it before (pending or expired), no row when there was none to revoke.
UPDATE invitations
SET status = 'revoked'
WHERE ledger_id = %(ledger_id)s AND id = %(id)s AND status = 'pending'
RETURNING id, ledger_id, email, role,
          CASE WHEN expires_at <= now() THEN 'expired' ELSE 'pending' END AS status,
          created_at, expires_at

-- name: get_in_ledger^
SELECT id, status FROM invitations WHERE ledger_id = %(ledger_id)s AND id = %(id)s

-- name: pending_for_invitee
-- The invitations bound to the user that are still open, with the ledger's name and the inviter.
SELECT i.id, i.ledger_id, i.email, i.role, i.status, i.created_at, i.expires_at,
       l.name AS ledger_name, json_build_object('id', u.id, 'name', u.name) AS invited_by
FROM invitations i
JOIN ledgers l ON l.id = i.ledger_id
JOIN users u ON u.id = i.invited_by
WHERE i.invitee_id = %(user_id)s AND i.status = 'pending' AND i.expires_at > now()
ORDER BY i.created_at DESC, i.id DESC

-- name: ledger_of^
-- The ledger of an invitation bound to the user (unlocked: accept locks the ledger first).
SELECT ledger_id FROM invitations WHERE invitee_id = %(user_id)s AND id = %(id)s

-- name: lock_for_invitee^
-- The invitation bound to the user, locked until the end of the transaction: of two answers at
-- once, the second waits and then sees the first one's status. No row: not theirs (or revoked).
-- inviter_is_owner: whether the member who made it still owns the ledger (an invitation is an
-- owner's word, and dies with their ownership); currency: the ledger's (to render its entries).
SELECT i.ledger_id, i.id, i.email, i.role, i.status, i.created_at, i.expires_at,
       i.expires_at <= now() AS expired,
       (SELECT currency FROM ledgers l WHERE l.id = i.ledger_id) AS currency,
       EXISTS (SELECT 1 FROM ledger_members m
               WHERE m.ledger_id = i.ledger_id AND m.user_id = i.invited_by AND m.role = 'owner')
           AS inviter_is_owner
FROM invitations i
WHERE i.invitee_id = %(user_id)s AND i.id = %(id)s AND i.status <> 'revoked'
FOR UPDATE OF i

-- name: answer^
-- Accepts or declines a pending invitation; returns it as list_for_ledger shows it now.
UPDATE invitations
SET status = %(status)s, responded_at = now()
WHERE ledger_id = %(ledger_id)s AND id = %(id)s AND status = 'pending'
RETURNING id, ledger_id, email, role, status, created_at, expires_at

-- name: join^
-- Adds the invitee as a member; nothing when they already are one. Returns the new member as
-- ledgers.sql's `member` shows it (no row: they already were one).
WITH joined AS (
    INSERT INTO ledger_members (ledger_id, user_id, role)
    VALUES (%(ledger_id)s, %(user_id)s, %(role)s)
    ON CONFLICT (ledger_id, user_id) DO NOTHING
    RETURNING user_id, role, is_default, joined_at
)
SELECT j.user_id, u.name, u.email, j.role, j.is_default, j.joined_at
FROM joined j
JOIN users u ON u.id = j.user_id
