-- name: upsert^
-- Creates the budget for (year, month, category or overall), or updates the one there: one
-- atomic statement, never read-then-write. mode, alert_threshold and rollover keep their current
-- values when not given (NULL), and take the defaults on creation. `created` tells which happened.
WITH saved AS (
    INSERT INTO budgets AS b (ledger_id, category_id, year, month, amount, mode, alert_threshold,
                              rollover)
    VALUES (%(ledger_id)s, %(category_id)s, %(year)s, %(month)s, %(amount)s,
            COALESCE(%(mode)s::text, 'hard'), COALESCE(%(alert_threshold)s::smallint, 80),
            COALESCE(%(rollover)s::text, 'none'))
    ON CONFLICT ON CONSTRAINT budgets_scope_key DO UPDATE
    SET amount = EXCLUDED.amount,
        mode = COALESCE(%(mode)s::text, b.mode),
        alert_threshold = COALESCE(%(alert_threshold)s::smallint, b.alert_threshold),
        rollover = COALESCE(%(rollover)s::text, b.rollover),
        updated_at = now()
    RETURNING b.*, (xmax = 0) AS created
)
SELECT s.id, s.category_id, c.name AS category, s.year, s.month, s.amount, s.mode,
       s.alert_threshold, s.rollover, s.created_at, s.created
FROM saved s
LEFT JOIN categories c ON c.ledger_id = s.ledger_id AND c.id = s.category_id

-- name: list_for_ledger
-- The ledger's budgets, optionally for one month and/or year; by period, overall first, then by
-- category name.
SELECT b.id, b.category_id, c.name AS category, b.year, b.month, b.amount, b.mode,
       b.alert_threshold, b.rollover, b.created_at
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
       b.alert_threshold, b.rollover, b.created_at
FROM budgets b
LEFT JOIN categories c ON c.ledger_id = b.ledger_id AND c.id = b.category_id
WHERE b.ledger_id = ANY(%(ledger_ids)s::bigint[])
  AND (%(year)s::smallint IS NULL OR b.year = %(year)s::smallint)
  AND (%(month)s::smallint IS NULL OR b.month = %(month)s::smallint)
ORDER BY b.ledger_id, b.year, b.month, b.category_id IS NOT NULL, lower(c.name), b.id

-- name: get_by_id^
SELECT b.id, b.category_id, c.name AS category, b.year, b.month, b.amount, b.mode,
       b.alert_threshold, b.rollover, b.created_at
FROM budgets b
LEFT JOIN categories c ON c.ledger_id = b.ledger_id AND c.id = b.category_id
WHERE b.ledger_id = %(ledger_id)s AND b.id = %(id)s

-- name: get_by_scope^
-- The budget of (year, month, category or overall), as get_by_id shows it; NULL when none. Read
-- under the exclusive scope lock by a budget write (its change log `before`).
SELECT b.id, b.category_id, c.name AS category, b.year, b.month, b.amount, b.mode,
       b.alert_threshold, b.rollover, b.created_at
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
       d.alert_threshold, d.rollover, d.created_at
FROM deleted d
LEFT JOIN categories c ON c.ledger_id = d.ledger_id AND c.id = d.category_id

-- name: lock_scope_exclusive$
-- Taken by budget writes: waits for expense writes of this ledger in flight, so a budget that is
-- being created cannot miss an expense checked before the budget was visible.
SELECT pg_advisory_xact_lock(1001, (%(ledger_id)s::bigint %% 2147483647)::int)::text

-- name: lock_scope_shared$
-- Taken by expense writes before they lock budget rows; shared locks never wait for each other.
SELECT pg_advisory_xact_lock_shared(1001, (%(ledger_id)s::bigint %% 2147483647)::int)::text

-- name: lock_chains
-- Locks the budgets a write into the scopes given can make spend more or have less available
-- (each scope's month and the later months of its rollover chain), in the fixed order, until
-- the transaction ends (migration 0024, lock_budget_chains). Run after lock_scope_shared.
SELECT * FROM lock_budget_chains(%(ledger_id)s, %(years)s::smallint[], %(months)s::smallint[],
                                 %(category_ids)s::bigint[])

-- name: enforce
-- The budget rule of a write (migration 0024, enforce_budgets): the scopes its old and new
-- states spend in (year, month, category; NULL category = overall) with what each spends there
-- before and after. Locks, reads, decides; refuses with SQLSTATE EB409 (the figures as JSON in
-- its DETAIL), else answers the alerts it fired. Nothing rises: nothing is locked.
SELECT * FROM enforce_budgets(%(ledger_id)s, %(years)s::smallint[], %(months)s::smallint[],
                              %(category_ids)s::bigint[], %(before)s::numeric[],
                              %(after)s::numeric[])

-- name: chains
-- For each scope given (ledger, year, month, category; NULL category = overall), the months of
-- its rollover chain (migration 0024, budget_chains: back from the scope's month while a month
-- carries from the one before, and with `forward` on to the later months that carry from it)
-- with what each spent (the exact totals), carried and has available (budget_rollover, the one
-- place the rollover arithmetic is written). `scope_no` numbers the scopes from 1 in the order
-- given; each scope's months oldest first. A scope whose month has no budget has no rows.
SELECT c.scope_no, c.ledger_id, c.id, c.category_id, c.year, c.month, c.amount, c.mode,
       c.alert_threshold, c.rollover, c.spent, c.state[4] AS carried, c.state[1] AS available
FROM (
    SELECT c.*,
           budget_rollover(c.amount, c.rollover, c.spent, c.year * 12 + c.month)
               OVER (PARTITION BY c.scope_no ORDER BY c.year, c.month) AS state
    FROM budget_chains(%(ledger_ids)s::bigint[], %(years)s::smallint[], %(months)s::smallint[],
                       %(category_ids)s::bigint[], %(forward)s) AS c
) c
ORDER BY c.scope_no, c.year, c.month
