-- name: insert_payees
-- The demo ledger's payees (one row each, names unique in the ledger); {id, name}.
INSERT INTO payees (ledger_id, name)
SELECT %(ledger_id)s, name FROM unnest(%(names)s::text[]) AS k(name)
RETURNING id, name

-- name: split_receipts!
-- Turns about one in `every` supermarket receipts (grocery expenses of at least 20) into splits:
-- 70 %% food (`first`), the rest household goods (`second`). The lines are inserted before the
-- transactions lose their category, in one statement; the COMMIT's check finds them summing.
WITH chosen AS (
    SELECT id, amount, round(amount * 0.7, 2) AS food
    FROM transactions
    WHERE ledger_id = %(ledger_id)s AND category_id = %(first)s AND type = 'EXPENSE'
      AND amount >= 20 AND id %% %(every)s = 0
), lines AS (
    INSERT INTO transaction_splits (ledger_id, transaction_id, line_no, category_id, amount, memo,
                                    occurred_on, type)
    SELECT %(ledger_id)s, id, 1, %(first)s, food, 'food', '-infinity'::date, 'EXPENSE'
    FROM chosen
    UNION ALL
    SELECT %(ledger_id)s, id, 2, %(second)s, amount - food, 'household', '-infinity'::date,
           'EXPENSE'
    FROM chosen
)
UPDATE transactions t SET category_id = NULL
FROM chosen
WHERE t.ledger_id = %(ledger_id)s AND t.id = chosen.id

-- name: tag_by_category!
-- Tags the ledger's transactions of a category with `tag` (made if new), one in `every`.
WITH tag AS (
    INSERT INTO tags (ledger_id, name) VALUES (%(ledger_id)s, %(tag)s)
    ON CONFLICT (ledger_id, lower(name)) DO UPDATE SET name = EXCLUDED.name
    RETURNING id
)
INSERT INTO transaction_tags (ledger_id, transaction_id, tag_id)
SELECT %(ledger_id)s, t.id, tag.id
FROM transactions t, tag
WHERE t.ledger_id = %(ledger_id)s AND t.category_id = %(category_id)s AND t.id %% %(every)s = 0
