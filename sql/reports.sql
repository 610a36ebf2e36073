-- name: summary
-- Income and expense of a period, from the exact totals (see migrations/0004).
SELECT t.type, sum(t.amount) AS amount
FROM period_totals(%(ledger_id)s, %(month_from)s, %(month_to)s, %(head_from)s, %(head_to)s,
                   %(tail_from)s, %(tail_to)s) t
GROUP BY t.type

-- name: category_breakdown
-- Expenses of a period per category, largest first (ties by name); categories with nothing
-- spent in the period are left out.
SELECT t.category_id, c.name AS category, sum(t.amount) AS amount
FROM period_totals(%(ledger_id)s, %(month_from)s, %(month_to)s, %(head_from)s, %(head_to)s,
                   %(tail_from)s, %(tail_to)s) t
JOIN categories c ON c.ledger_id = %(ledger_id)s AND c.id = t.category_id
WHERE t.type = 'EXPENSE'
GROUP BY t.category_id, c.name
HAVING sum(t.amount) > 0
ORDER BY amount DESC, lower(c.name), t.category_id

-- name: trends
-- One row per month from first_month to last_month, zeros included.
SELECT to_char(s.month, 'YYYY-MM') AS month,
       COALESCE(sum(t.amount) FILTER (WHERE t.type = 'INCOME'), 0) AS income,
       COALESCE(sum(t.amount) FILTER (WHERE t.type = 'EXPENSE'), 0) AS expense
FROM generate_series(%(first_month)s::date, %(last_month)s::date, interval '1 month') AS s(month)
LEFT JOIN period_totals(%(ledger_id)s, %(month_from)s, %(month_to)s, %(head_from)s, %(head_to)s,
                        %(tail_from)s, %(tail_to)s) t
  ON t.month = s.month::date
GROUP BY s.month
ORDER BY s.month

-- name: budget_usage
-- Each budget of a month with what its scope spent (the category's expenses, or all expenses
-- for the overall budget); overall first, then by category name.
SELECT b.id AS budget_id, b.category_id, c.name AS category, b.amount AS budget, b.mode,
       COALESCE(sum(t.amount), 0) AS spent
FROM budgets b
LEFT JOIN categories c ON c.ledger_id = b.ledger_id AND c.id = b.category_id
LEFT JOIN monthly_totals t
  ON t.ledger_id = b.ledger_id
 AND t.month = make_date(b.year, b.month, 1)
 AND t.type = 'EXPENSE'
 AND (b.category_id IS NULL OR t.category_id = b.category_id)
WHERE b.ledger_id = %(ledger_id)s AND b.year = %(year)s AND b.month = %(month)s
GROUP BY b.ledger_id, b.id, c.name  -- (ledger_id, id) is the key: the other columns follow
ORDER BY b.category_id IS NOT NULL, lower(c.name), b.id

-- name: cache_state^
-- What the analytics cache needs before a report (services/reports.py): the ledger's generation
-- (NULL before its first write since migration 0012), whether this transaction has written
-- anything (its own uncommitted writes are in what it reads, not yet in the generation), and
-- whether this server is a replica (the cache is read and filled from the primary only).
SELECT (SELECT generation::text FROM ledger_generations WHERE ledger_id = %(ledger_id)s)
           AS generation,
       pg_current_xact_id_if_assigned() IS NOT NULL AS wrote,
       pg_is_in_recovery() AS replica
