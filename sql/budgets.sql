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
-- Locks the budgets a write can make spend more or have less available, until the transaction
-- ends: for each scope given (year, month, category; NULL category = overall) its own month's
-- budget and, while the next month has a budget of the scope that carries something over
-- (rollover not `none`), that one, and so on (a chain of budget rollover). Always in the same
-- order (period, overall first, then category id), so two writers never deadlock: a writer into
-- an earlier month takes the later months' locks after its own, as a writer into a later month
-- does. Run after lock_scope_shared: no budget can appear, go or change its rollover meanwhile.
WITH RECURSIVE k AS (
    SELECT * FROM unnest(%(years)s::smallint[], %(months)s::smallint[], %(category_ids)s::bigint[])
                  AS k(year, month, category_id)
), chain AS (
    SELECT b.id, b.year, b.month, b.category_id
    FROM k
    JOIN budgets b
      ON b.ledger_id = %(ledger_id)s AND b.year = k.year AND b.month = k.month
     AND b.category_id IS NOT DISTINCT FROM k.category_id
    UNION
    SELECT n.id, n.year, n.month, n.category_id
    FROM chain c
    JOIN budgets n
      ON n.ledger_id = %(ledger_id)s
     AND n.year = CASE WHEN c.month = 12 THEN c.year + 1 ELSE c.year END
     AND n.month = CASE WHEN c.month = 12 THEN 1 ELSE c.month + 1 END
     AND n.category_id IS NOT DISTINCT FROM c.category_id
     AND n.rollover <> 'none'
)
SELECT b.id, b.category_id, b.year, b.month, b.amount, b.mode, b.alert_threshold, b.rollover
FROM budgets b
WHERE b.ledger_id = %(ledger_id)s AND b.id IN (SELECT id FROM chain)
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

-- name: chains
-- For each scope given (ledger, year, month, category; NULL category = overall), the months of
-- its rollover chain with what each spent (the exact totals): back from the scope's month while
-- a month carries from the one before (rollover not `none`, and that month has a budget of the
-- scope), and with `forward` on to the later months that carry from it. `scope_no` numbers the
-- scopes from 1 in the order given; each scope's months oldest first. A scope whose month has
-- no budget has no rows. One statement whatever the chains' lengths: every step is a probe of
-- budgets_scope_key, every month's spent a range of the monthly totals. Run after lock_chains
-- (as its own statement, for a write), so it sees every write committed before the locks.
WITH RECURSIVE k AS (
    SELECT *
    FROM unnest(%(ledger_ids)s::bigint[], %(years)s::smallint[], %(months)s::smallint[],
                %(category_ids)s::bigint[]) WITH ORDINALITY AS k(ledger_id, year, month, category_id, scope_no)
), back AS (
    SELECT k.scope_no, b.ledger_id, b.id, b.year, b.month, b.category_id, b.rollover
    FROM k
    JOIN budgets b
      ON b.ledger_id = k.ledger_id AND b.year = k.year AND b.month = k.month
     AND b.category_id IS NOT DISTINCT FROM k.category_id
    UNION ALL
    SELECT c.scope_no, p.ledger_id, p.id, p.year, p.month, p.category_id, p.rollover
    FROM back c
    JOIN budgets p
      ON p.ledger_id = c.ledger_id
     AND p.year = CASE WHEN c.month = 1 THEN c.year - 1 ELSE c.year END
     AND p.month = CASE WHEN c.month = 1 THEN 12 ELSE c.month - 1 END
     AND p.category_id IS NOT DISTINCT FROM c.category_id
    WHERE c.rollover <> 'none'
), forth AS (
    SELECT k.scope_no, b.ledger_id, b.id, b.year, b.month, b.category_id
    FROM k
    JOIN budgets b
      ON b.ledger_id = k.ledger_id AND b.year = k.year AND b.month = k.month
     AND b.category_id IS NOT DISTINCT FROM k.category_id
    WHERE %(forward)s
    UNION ALL
    SELECT c.scope_no, n.ledger_id, n.id, n.year, n.month, n.category_id
    FROM forth c
    JOIN budgets n
      ON n.ledger_id = c.ledger_id
     AND n.year = CASE WHEN c.month = 12 THEN c.year + 1 ELSE c.year END
     AND n.month = CASE WHEN c.month = 12 THEN 1 ELSE c.month + 1 END
     AND n.category_id IS NOT DISTINCT FROM c.category_id
     AND n.rollover <> 'none'
), months AS (
    SELECT scope_no, ledger_id, id FROM back
    UNION
    SELECT scope_no, ledger_id, id FROM forth
)
SELECT m.scope_no, b.ledger_id, b.id, b.category_id, b.year, b.month, b.amount, b.mode,
       b.alert_threshold, b.rollover,
       coalesce((SELECT sum(t.amount)
                 FROM monthly_totals t
                 WHERE t.ledger_id = b.ledger_id AND t.month = make_date(b.year, b.month, 1)
                   AND t.type = 'EXPENSE'
                   AND (b.category_id IS NULL OR t.category_id = b.category_id)), 0) AS spent
FROM months m
JOIN budgets b ON b.ledger_id = m.ledger_id AND b.id = m.id
ORDER BY m.scope_no, b.year, b.month
