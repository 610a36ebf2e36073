-- name: insert^
-- Creates a category; a name taken in this ledger (any case) is a unique violation.
INSERT INTO categories (ledger_id, name)
VALUES (%(ledger_id)s, %(name)s)
RETURNING id, name, created_at

-- name: list_for_ledger
-- The ledger's categories by name, case-insensitively.
SELECT id, name, created_at
FROM categories
WHERE ledger_id = %(ledger_id)s
ORDER BY lower(name), name, id

-- name: list_for_ledgers
-- list_for_ledger for many ledgers in one statement (a door showing a list of ledgers with
-- their categories: GraphQL's `ledgers { categories }`): ledger_id with every row, each
-- ledger's rows in list_for_ledger's order. The caller has checked membership of each.
SELECT ledger_id, id, name, created_at
FROM categories
WHERE ledger_id = ANY(%(ledger_ids)s::bigint[])
ORDER BY ledger_id, lower(name), name, id

-- name: get_by_id^
SELECT id, name, created_at
FROM categories
WHERE ledger_id = %(ledger_id)s AND id = %(id)s

-- name: get_for_update^
-- As get_by_id, locked until the end of the transaction (a rename's change-log `before`).
SELECT id, name, created_at
FROM categories
WHERE ledger_id = %(ledger_id)s AND id = %(id)s
FOR UPDATE

-- name: rename^
UPDATE categories
SET name = %(name)s, updated_at = now()
WHERE ledger_id = %(ledger_id)s AND id = %(id)s
RETURNING id, name, created_at

-- name: delete^
-- Fails with a foreign key violation while transactions or budgets use the category. Returns
-- what was deleted.
DELETE FROM categories
WHERE ledger_id = %(ledger_id)s AND id = %(id)s
RETURNING id, name, created_at
