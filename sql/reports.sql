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
SELECT b.ledger_id, b.id AS budget_id, b.category_id, c.name AS category, b.amount AS budget,
       b.mode, b.rollover, b.year, b.month, COALESCE(sum(t.amount), 0) AS spent
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

-- name: cache_states
-- What the analytics cache needs before a report (services/reports.py), for each of the
-- ledgers given (one or many): the ledger's generation (NULL before its first write since
-- migration 0012), whether this transaction has written anything (its own uncommitted writes
-- are in what it reads, not yet in the generation), and whether this server is a replica (the
-- cache is read and filled from the primary only).
SELECT l.ledger_id,
       (SELECT generation::text FROM ledger_generations g WHERE g.ledger_id = l.ledger_id)
           AS generation,
       pg_current_xact_id_if_assigned() IS NOT NULL AS wrote,
       pg_is_in_recovery() AS replica
FROM unnest(%(ledger_ids)s::bigint[]) AS l(ledger_id)

-- name: summary_for_ledgers
-- summary for many ledgers in one statement (GraphQL's `ledgers { summary }`), each ledger with
-- its own period (a default month follows each ledger's time zone): the arrays hold, per
-- ledger, its id and its period's ranges (periods.totals_ranges). The caller has checked
-- membership of each.
SELECT p.ledger_id, t.type, sum(t.amount) AS amount
FROM unnest(%(ledger_ids)s::bigint[], %(month_froms)s::date[], %(month_tos)s::date[],
            %(head_froms)s::date[], %(head_tos)s::date[], %(tail_froms)s::date[],
            %(tail_tos)s::date[])
     AS p(ledger_id, month_from, month_to, head_from, head_to, tail_from, tail_to)
CROSS JOIN LATERAL period_totals(p.ledger_id, p.month_from, p.month_to, p.head_from, p.head_to,
                                 p.tail_from, p.tail_to) t
GROUP BY p.ledger_id, t.type

-- name: category_breakdown_for_ledgers
-- category_breakdown for many ledgers in one statement, as summary_for_ledgers; each ledger's
-- rows in category_breakdown's order.
SELECT p.ledger_id, t.category_id, c.name AS category, sum(t.amount) AS amount
FROM unnest(%(ledger_ids)s::bigint[], %(month_froms)s::date[], %(month_tos)s::date[],
            %(head_froms)s::date[], %(head_tos)s::date[], %(tail_froms)s::date[],
            %(tail_tos)s::date[])
     AS p(ledger_id, month_from, month_to, head_from, head_to, tail_from, tail_to)
CROSS JOIN LATERAL period_totals(p.ledger_id, p.month_from, p.month_to, p.head_from, p.head_to,
                                 p.tail_from, p.tail_to) t
JOIN categories c ON c.ledger_id = p.ledger_id AND c.id = t.category_id
WHERE t.type = 'EXPENSE'
GROUP BY p.ledger_id, t.category_id, c.name
HAVING sum(t.amount) > 0
ORDER BY p.ledger_id, amount DESC, lower(c.name), t.category_id

-- name: trends_for_ledgers
-- trends for many ledgers in one statement, each with its own months (first_months,
-- last_months) and ranges; each ledger's months in order, zeros included.
SELECT p.ledger_id, m.month, m.income, m.expense
FROM unnest(%(ledger_ids)s::bigint[], %(first_months)s::date[], %(last_months)s::date[],
            %(month_froms)s::date[], %(month_tos)s::date[], %(head_froms)s::date[],
            %(head_tos)s::date[], %(tail_froms)s::date[], %(tail_tos)s::date[])
     AS p(ledger_id, first_month, last_month, month_from, month_to, head_from, head_to,
          tail_from, tail_to)
CROSS JOIN LATERAL (
    SELECT s.month AS starts, to_char(s.month, 'YYYY-MM') AS month,
           COALESCE(sum(t.amount) FILTER (WHERE t.type = 'INCOME'), 0) AS income,
           COALESCE(sum(t.amount) FILTER (WHERE t.type = 'EXPENSE'), 0) AS expense
    FROM generate_series(p.first_month, p.last_month, interval '1 month') AS s(month)
    LEFT JOIN period_totals(p.ledger_id, p.month_from, p.month_to, p.head_from, p.head_to,
                            p.tail_from, p.tail_to) t
      ON t.month = s.month::date
    GROUP BY s.month
) m
ORDER BY p.ledger_id, m.starts

-- name: budget_usage_for_ledgers
-- budget_usage for many ledgers in one statement, each with its own month (years, months: a
-- default month follows each ledger's time zone); each ledger's rows in budget_usage's order.
SELECT p.ledger_id, b.id AS budget_id, b.category_id, c.name AS category, b.amount AS budget,
       b.mode, b.rollover, b.year, b.month, COALESCE(sum(t.amount), 0) AS spent
FROM unnest(%(ledger_ids)s::bigint[], %(years)s::smallint[], %(months)s::smallint[])
     AS p(ledger_id, year, month)
JOIN budgets b ON b.ledger_id = p.ledger_id AND b.year = p.year AND b.month = p.month
LEFT JOIN categories c ON c.ledger_id = b.ledger_id AND c.id = b.category_id
LEFT JOIN monthly_totals t
  ON t.ledger_id = b.ledger_id
 AND t.month = make_date(b.year, b.month, 1)
 AND t.type = 'EXPENSE'
 AND (b.category_id IS NULL OR t.category_id = b.category_id)
GROUP BY p.ledger_id, b.ledger_id, b.id, c.name  -- (ledger_id, id) is the key
ORDER BY p.ledger_id, b.category_id IS NOT NULL, lower(c.name), b.id
