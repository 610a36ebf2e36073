-- name: insert^
-- A new ledger; its first member (the owner) is added by add_member in the same transaction.
INSERT INTO ledgers (name, currency, timezone)
VALUES (%(name)s, %(currency)s, %(timezone)s)
RETURNING id, name, currency, timezone, created_at

-- name: add_member!
-- Adds a member with a role; is_default marks the user's personal ledger (one per user).
INSERT INTO ledger_members (ledger_id, user_id, role, is_default)
VALUES (%(ledger_id)s, %(user_id)s, %(role)s, %(is_default)s)

-- name: membership^
-- What a user may do in a ledger, with the ledger's money and time settings. No row: the user is
-- not a member (to them the ledger does not exist).
SELECT m.ledger_id, m.user_id, m.role, m.is_default, l.currency, l.timezone
FROM ledger_members m
JOIN ledgers l ON l.id = m.ledger_id
WHERE m.ledger_id = %(ledger_id)s AND m.user_id = %(user_id)s
