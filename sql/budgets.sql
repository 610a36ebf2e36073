-- name: upsert^
-- Creates the budget for (year, month, category or overall), or updates the one there: one
-- atomic statement, never read-then-write. mode and alert_threshold keep their current values
-- when not given (NULL), and take the defaults on creation. `created` tells which happened.
WITH saved AS (
    INSERT INTO budgets AS b (ledger_id, category_id, year, month, amount, mode, alert_threshold)
    VALUES (%(ledger_id)s, %(category_id)s, %(year)s, %(month)s, %(amount)s,
            COALESCE(%(mode)s::text, 'hard'), COALESCE(%(alert_threshold)s::smallint, 80))
    ON CONFLICT ON CONSTRAINT budgets_scope_key DO UPDATE
    SET amount = EXCLUDED.amount,
        mode = COALESCE(%(mode)s::text, b.mode),
        alert_threshold = COALESCE(%(alert_threshold)s::smallint, b.alert_threshold),
        updated_at = now()
    RETURNING b.*, (xmax = 0) AS created
)
SELECT s.id, s.category_id, c.name AS category, s.year, s.month, s.amount, s.mode,
       s.alert_threshold, s.created_at, s.created
FROM saved s
LEFT JOIN categories c ON c.ledger_id = s.ledger_id AND c.id = s.category_id

-- name: list_for_ledger
-- The ledger's budgets, optionally for one month and/or year; by period, overall first, then by
-- category name.
SELECT b.id, b.category_id, c.name AS category, b.year, b.month, b.amount, b.mode,
       b.alert_threshold, b.created_at
FROM budgets b
LEFT JOIN categories c ON c.ledger_id = b.ledger_id AND c.id = b.category_id
WHERE b.ledger_id = %(ledger_id)s
  AND (%(year)s::smallint IS NULL OR b.year = %(year)s::smallint)
  AND (%(month)s::smallint IS NULL OR b.month = %(month)s::smallint)
ORDER BY b.year, b.month, b.category_id IS NOT NULL, lower(c.name), b.id

-- name: list_for_ledgers
-- list_for_ledger for many ledgers in one statement (GraphQL's `ledgers { budgets }`):
-- ledger_id with every row, each ledger's rows in list_for_ledger's order. The caller has
-- checked membership of each.
SELECT b.ledger_id, b.id, b.category_id, c.name AS category, b.year, b.month, b.amount, b.mode,
       b.alert_threshold, b.created_at
FROM budgets b
LEFT JOIN categories c ON c.ledger_id = b.ledger_id AND c.id = b.category_id
WHERE b.ledger_id = ANY(%(ledger_ids)s::bigint[])
  AND (%(year)s::smallint IS NULL OR b.year = %(year)s::smallint)
  AND (%(month)s::smallint IS NULL OR b.month = %(month)s::smallint)
ORDER BY b.ledger_id, b.year, b.month, b.category_id IS NOT NULL, lower(c.name), b.id

-- name: get_by_id^
SELECT b.id, b.category_id, c.name AS category, b.year, b.month, b.amount, b.mode,
       b.alert_threshold, b.created_at
FROM budgets b
LEFT JOIN categories c ON c.ledger_id = b.ledger_id AND c.id = b.category_id
WHERE b.ledger_id = %(ledger_id)s AND b.id = %(id)s

-- name: get_by_scope^
-- The budget of (year, month, category or overall), as get_by_id shows it; NULL when none. Read
-- under the exclusive scope lock by a budget write (its change log `before`).
SELECT b.id, b.category_id, c.name AS category, b.year, b.month, b.amount, b.mode,
       b.alert_threshold, b.created_at
FROM budgets b
LEFT JOIN categories c ON c.ledger_id = b.ledger_id AND c.id = b.category_id
WHERE b.ledger_id = %(ledger_id)s AND b.year = %(year)s AND b.month = %(month)s
  AND b.category_id IS NOT DISTINCT FROM %(category_id)s::bigint

-- name: delete^
-- Its alerts go with it (ON DELETE CASCADE). Returns what was deleted, as get_by_id showed it.
WITH deleted AS (
    DELETE FROM budgets WHERE ledger_id = %(ledger_id)s AND id = %(id)s
    RETURNING *
)
SELECT d.id, d.category_id, c.name AS category, d.year, d.month, d.amount, d.mode,
       d.alert_threshold, d.created_at
FROM deleted d
LEFT JOIN categories c ON c.ledger_id = d.ledger_id AND c.id = d.category_id

-- name: lock_scope_exclusive$
-- Taken by budget writes: waits for expense writes of this ledger in flight, so a budget that is
-- being created cannot miss an expense checked before the budget was visible.
SELECT pg_advisory_xact_lock(1001, (%(ledger_id)s::bigint %% 2147483647)::int)::text

-- name: lock_scope_shared$
-- Taken by expense writes before they lock budget rows; shared locks never wait for each other.
SELECT pg_advisory_xact_lock_shared(1001, (%(ledger_id)s::bigint %% 2147483647)::int)::text

-- name: lock_applicable
-- Locks the budgets of the given scopes (year, month, category; NULL category = overall) until
-- the transaction ends, always in the same order (period, overall first, then category id), so
-- two writers can never deadlock. A writer that wants a locked budget waits here.
SELECT b.id, b.category_id, b.year, b.month, b.amount, b.mode, b.alert_threshold
FROM budgets b
JOIN unnest(%(years)s::smallint[], %(months)s::smallint[], %(category_ids)s::bigint[])
     AS k(year, month, category_id)
  ON b.year = k.year AND b.month = k.month AND b.category_id IS NOT DISTINCT FROM k.category_id
WHERE b.ledger_id = %(ledger_id)s
ORDER BY b.year, b.month, b.category_id NULLS FIRST
FOR UPDATE OF b

-- name: spent
-- What each scope has spent, from the exact totals. Run after lock_applicable, as a statement
-- of its own: in READ COMMITTED it then sees every expense committed by writers that held the
-- locks before this one.
SELECT k.year, k.month, k.category_id, COALESCE(sum(t.amount), 0) AS spent
FROM unnest(%(years)s::smallint[], %(months)s::smallint[], %(category_ids)s::bigint[])
     AS k(year, month, category_id)
LEFT JOIN monthly_totals t
  ON t.ledger_id = %(ledger_id)s
 AND t.month = make_date(k.year, k.month, 1)
 AND t.type = 'EXPENSE'
 AND (k.category_id IS NULL OR t.category_id = k.category_id)
GROUP BY k.year, k.month, k.category_id
