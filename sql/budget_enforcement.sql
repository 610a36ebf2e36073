-- name: lock_applicable
-- Locks the budgets of the given scopes (year, month, category; NULL category = overall) until
-- the transaction ends, always in the same order (period, overall first, then category id), so
-- two writers can never deadlock. A writer that wants a locked budget waits here.
SELECT b.id, b.category_id, b.year, b.month, b.amount, b.mode, b.alert_threshold
FROM budgets b
JOIN unnest(%(years)s::smallint[], %(months)s::smallint[], %(category_ids)s::bigint[])
     AS k(year, month, category_id)
  ON b.year = k.year AND b.month = k.month AND b.category_id IS NOT DISTINCT FROM k.category_id
WHERE b.user_id = %(user_id)s
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
  ON t.user_id = %(user_id)s
 AND t.month = make_date(k.year, k.month, 1)
 AND t.type = 'EXPENSE'
 AND (k.category_id IS NULL OR t.category_id = k.category_id)
GROUP BY k.year, k.month, k.category_id

-- name: insert_alert^
-- Fires an alert unless this (budget, kind) already fired: no row back means it had.
INSERT INTO alerts (user_id, budget_id, kind, percent_used)
VALUES (%(user_id)s, %(budget_id)s, %(kind)s, %(percent_used)s)
ON CONFLICT (user_id, budget_id, kind) DO NOTHING
RETURNING id, budget_id, kind, percent_used, created_at, read_at
