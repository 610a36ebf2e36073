-- name: categories
-- The same reads as categories.list_for_ledger, budgets.list_for_ledger, transactions.list_page
-- and ledgers.members, for many ledgers in one statement each: the GraphQL door's loaders, so
-- that a list of ledgers costs one statement per nested list, not one per ledger. Each returns
-- ledger_id with every row, in the single-ledger query's order within each ledger; every one
-- filters by the ledger ids it is given (the caller has checked membership).
SELECT ledger_id, id, name, created_at
FROM categories
WHERE ledger_id = ANY(%(ledger_ids)s::bigint[])
ORDER BY ledger_id, lower(name), name, id

-- name: budgets
SELECT b.ledger_id, b.id, b.category_id, c.name AS category, b.year, b.month, b.amount, b.mode,
       b.alert_threshold, b.created_at
FROM budgets b
LEFT JOIN categories c ON c.ledger_id = b.ledger_id AND c.id = b.category_id
WHERE b.ledger_id = ANY(%(ledger_ids)s::bigint[])
  AND (%(year)s::smallint IS NULL OR b.year = %(year)s::smallint)
  AND (%(month)s::smallint IS NULL OR b.month = %(month)s::smallint)
ORDER BY b.ledger_id, b.year, b.month, b.category_id IS NOT NULL, lower(c.name), b.id

-- name: members
SELECT m.ledger_id, m.user_id, u.name, u.email, m.role, m.is_default, m.joined_at
FROM ledger_members m
JOIN users u ON u.id = m.user_id
WHERE m.ledger_id = ANY(%(ledger_ids)s::bigint[])
ORDER BY m.ledger_id, m.joined_at, m.user_id

-- name: transaction_pages
-- One page per ledger (each with its own period: a default month follows the ledger's time
-- zone), newest date first then highest id, after the keyset cursor when given; the filters
-- are transactions.list_page's. A LATERAL subquery per ledger keeps each page on the
-- (ledger_id, occurred_on, id) index with its own LIMIT.
SELECT p.ledger_id, t.*
FROM unnest(%(ledger_ids)s::bigint[], %(date_froms)s::date[], %(date_tos)s::date[])
     AS p(ledger_id, date_from, date_to)
CROSS JOIN LATERAL (
    SELECT t.id, t.category_id, c.name AS category, t.type, t.amount, t.description,
           t.occurred_on, t.created_at,
           CASE WHEN u.id IS NOT NULL THEN json_build_object('id', u.id, 'name', u.name) END
               AS created_by
    FROM transactions t
    JOIN categories c ON c.ledger_id = t.ledger_id AND c.id = t.category_id
    LEFT JOIN users u ON u.id = t.created_by
    WHERE t.ledger_id = p.ledger_id
      AND t.occurred_on BETWEEN p.date_from AND p.date_to
      AND (%(type)s::text IS NULL OR t.type = %(type)s::text)
      AND (%(category_id)s::bigint IS NULL OR t.category_id = %(category_id)s::bigint)
      AND (%(min_amount)s::numeric IS NULL OR t.amount >= %(min_amount)s::numeric)
      AND (%(max_amount)s::numeric IS NULL OR t.amount <= %(max_amount)s::numeric)
      AND (%(q)s::text IS NULL OR t.description ILIKE
           '%%' || replace(replace(replace(%(q)s::text, '\', '\\'), '%%', '\%%'), '_', '\_') || '%%')
      AND (%(after_date)s::date IS NULL
           OR (t.occurred_on, t.id) < (%(after_date)s::date, %(after_id)s::bigint))
    ORDER BY t.occurred_on DESC, t.id DESC
    LIMIT %(limit)s
) t
ORDER BY p.ledger_id, t.occurred_on DESC, t.id DESC
