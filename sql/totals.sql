-- name: defer_for_transaction$
-- For bulk loads only: the totals trigger skips rows written by this transaction, which must
-- call expense_api.repositories.totals.rebuild_for_ledgers (the delete_* and rebuild_* queries
-- below) for every ledger it wrote before committing.
SELECT set_config('expense_api.defer_totals', 'on', true)

-- name: delete_monthly_for_ledgers!
DELETE FROM monthly_totals WHERE ledger_id = ANY(%(ledger_ids)s::bigint[])

-- name: delete_daily_for_ledgers!
DELETE FROM daily_totals WHERE ledger_id = ANY(%(ledger_ids)s::bigint[])

-- name: rebuild_monthly_for_ledgers!
INSERT INTO monthly_totals (ledger_id, month, category_id, type, amount, tx_count)
SELECT ledger_id, date_trunc('month', occurred_on)::date, category_id, type, sum(amount), count(*)
FROM (SELECT ledger_id, occurred_on, category_id, type, amount FROM transactions
          WHERE ledger_id = ANY(%(ledger_ids)s::bigint[]) AND category_id IS NOT NULL
          UNION ALL
          SELECT ledger_id, occurred_on, category_id, type, amount FROM transaction_splits
          WHERE ledger_id = ANY(%(ledger_ids)s::bigint[])) AS entries
GROUP BY 1, 2, 3, 4

-- name: rebuild_daily_for_ledgers!
INSERT INTO daily_totals (ledger_id, day, category_id, type, amount, tx_count)
SELECT ledger_id, occurred_on, category_id, type, sum(amount), count(*)
FROM (SELECT ledger_id, occurred_on, category_id, type, amount FROM transactions
          WHERE ledger_id = ANY(%(ledger_ids)s::bigint[]) AND category_id IS NOT NULL
          UNION ALL
          SELECT ledger_id, occurred_on, category_id, type, amount FROM transaction_splits
          WHERE ledger_id = ANY(%(ledger_ids)s::bigint[])) AS entries
GROUP BY 1, 2, 3, 4

-- name: monthly_mismatches$
-- Rows where monthly_totals differ from the entries they sum: the transactions with a category
-- and the lines of split ones (0 when exact).
SELECT count(*) FROM (
    SELECT ledger_id, date_trunc('month', occurred_on)::date AS month, category_id, type,
           sum(amount) AS amount, count(*) AS tx_count
    FROM (SELECT ledger_id, occurred_on, category_id, type, amount FROM transactions
          WHERE ledger_id = ANY(%(ledger_ids)s::bigint[]) AND category_id IS NOT NULL
          UNION ALL
          SELECT ledger_id, occurred_on, category_id, type, amount FROM transaction_splits
          WHERE ledger_id = ANY(%(ledger_ids)s::bigint[])) AS entries
    GROUP BY 1, 2, 3, 4
) actual
FULL JOIN (
    SELECT ledger_id, month, category_id, type, amount, tx_count
    FROM monthly_totals WHERE ledger_id = ANY(%(ledger_ids)s::bigint[]) AND (tx_count <> 0 OR amount <> 0)
) kept USING (ledger_id, month, category_id, type)
WHERE actual.amount IS DISTINCT FROM kept.amount OR actual.tx_count IS DISTINCT FROM kept.tx_count

-- name: daily_mismatches$
-- Rows where daily_totals differ from the entries they sum (0 when exact).
SELECT count(*) FROM (
    SELECT ledger_id, occurred_on AS day, category_id, type, sum(amount) AS amount,
           count(*) AS tx_count
    FROM (SELECT ledger_id, occurred_on, category_id, type, amount FROM transactions
          WHERE ledger_id = ANY(%(ledger_ids)s::bigint[]) AND category_id IS NOT NULL
          UNION ALL
          SELECT ledger_id, occurred_on, category_id, type, amount FROM transaction_splits
          WHERE ledger_id = ANY(%(ledger_ids)s::bigint[])) AS entries
    GROUP BY 1, 2, 3, 4
) actual
FULL JOIN (
    SELECT ledger_id, day, category_id, type, amount, tx_count
    FROM daily_totals WHERE ledger_id = ANY(%(ledger_ids)s::bigint[]) AND (tx_count <> 0 OR amount <> 0)
) kept USING (ledger_id, day, category_id, type)
WHERE actual.amount IS DISTINCT FROM kept.amount OR actual.tx_count IS DISTINCT FROM kept.tx_count

-- name: lock_monthly!
-- Locks the monthly rows of the given keys (made, empty, when missing) in key order, before a
-- write that changes them in several statements (a PATCH: the row, then its lines): every
-- other writer changes its rows in one statement in that order, so taking them all first, in
-- the same order, keeps the two from waiting for each other in a cycle. The no-op update is
-- what locks an existing row.
INSERT INTO monthly_totals AS t (ledger_id, month, category_id, type, amount, tx_count)
SELECT DISTINCT %(ledger_id)s::bigint, date_trunc('month', k.day)::date, k.category_id, k.type,
       0::numeric, 0::bigint
FROM unnest(%(days)s::date[], %(category_ids)s::bigint[], %(types)s::text[])
     AS k(day, category_id, type)
ORDER BY 2, 3, 4
ON CONFLICT (ledger_id, month, category_id, type) DO UPDATE SET amount = t.amount

-- name: lock_daily!
-- lock_monthly's daily rows, taken after the monthly ones (the order of every writer).
INSERT INTO daily_totals AS t (ledger_id, day, category_id, type, amount, tx_count)
SELECT DISTINCT %(ledger_id)s::bigint, k.day, k.category_id, k.type, 0::numeric, 0::bigint
FROM unnest(%(days)s::date[], %(category_ids)s::bigint[], %(types)s::text[])
     AS k(day, category_id, type)
ORDER BY 2, 3, 4
ON CONFLICT (ledger_id, day, category_id, type) DO UPDATE SET amount = t.amount

-- name: keep_for_transaction$
-- Ends defer_for_transaction: the trigger keeps the totals again for the rest of the
-- transaction (a bulk write that added its own rows' totals, set-based, goes on writing).
SELECT set_config('expense_api.defer_totals', 'off', true)
