-- name: lock_ledger^
-- Serializes the writes to a ledger's rules (their positions run 1..n without gaps: two
-- inserts at once must not both take n+1). FOR NO KEY UPDATE, as ledgers.sql's lock, so the
-- foreign key checks of other writes into the ledger are not blocked.
SELECT id FROM ledgers WHERE id = %(ledger_id)s FOR NO KEY UPDATE

-- name: count_for_ledger$
SELECT count(*) FROM rules WHERE ledger_id = %(ledger_id)s

-- name: list_for_ledger
-- The ledger's rules in the order they are tried: by position (then id, which never decides
-- while positions are 1..n).
SELECT id, ledger_id, position, match, set_category_id, set_payee, set_tags, created_at
FROM rules
WHERE ledger_id = %(ledger_id)s
ORDER BY position, id

-- name: get_by_id^
SELECT id, ledger_id, position, match, set_category_id, set_payee, set_tags, created_at
FROM rules
WHERE ledger_id = %(ledger_id)s AND id = %(id)s

-- name: insert^
-- A new rule at `position` (the caller has made room: shift). The (ledger_id, set_category_id)
-- foreign key refuses another ledger's category.
INSERT INTO rules (ledger_id, position, match, set_category_id, set_payee, set_tags)
VALUES (%(ledger_id)s, %(position)s, %(match)s, %(set_category_id)s, %(set_payee)s,
        %(set_tags)s)
RETURNING id, ledger_id, position, match, set_category_id, set_payee, set_tags, created_at

-- name: update^
-- Writes a changed rule (its position as given: the caller has moved the others).
UPDATE rules
SET position = %(position)s, match = %(match)s, set_category_id = %(set_category_id)s,
    set_payee = %(set_payee)s, set_tags = %(set_tags)s, updated_at = now()
WHERE ledger_id = %(ledger_id)s AND id = %(id)s
RETURNING id, ledger_id, position, match, set_category_id, set_payee, set_tags, created_at

-- name: shift
-- Moves the rules at positions first..last (but `except_id`) by `step` (+1: down, -1: up),
-- to make room for a rule or close the gap it leaves. Returns each moved rule as it is now.
UPDATE rules
SET position = position + %(step)s, updated_at = now()
WHERE ledger_id = %(ledger_id)s
  AND position BETWEEN %(first)s AND %(last)s
  AND id <> %(except_id)s
RETURNING id, ledger_id, position, match, set_category_id, set_payee, set_tags, created_at

-- name: delete^
-- Returns what was deleted, as get_by_id showed it.
DELETE FROM rules WHERE ledger_id = %(ledger_id)s AND id = %(id)s
RETURNING id, ledger_id, position, match, set_category_id, set_payee, set_tags, created_at

-- name: uncategorized_id$
-- The ledger's category named Uncategorized (case-insensitively, trimmed as names are), if any.
SELECT id FROM categories
WHERE ledger_id = %(ledger_id)s AND lower(name) = 'uncategorized'
ORDER BY id
LIMIT 1

-- name: transactions_to_apply
-- The ledger's transactions dated date_from..date_to that a rule is run over, oldest first:
-- with only_category (not NULL) those in that category alone (a split transaction has none:
-- never). What the matcher reads (payee, description, amount, type) and what a rule may change
-- (category_id: NULL for a split one; tags). A rule's amounts are in the ledger's currency: the
-- amount matched is the ledger amount, whatever currency the transaction was recorded in.
SELECT t.id, t.payee, t.description, t.ledger_amount AS amount, t.type, t.category_id, t.tags
FROM transactions_shown t
WHERE t.ledger_id = %(ledger_id)s
  AND t.occurred_on BETWEEN %(date_from)s AND %(date_to)s
  AND (%(only_category)s::bigint IS NULL OR t.category_id = %(only_category)s::bigint)
ORDER BY t.occurred_on, t.id
