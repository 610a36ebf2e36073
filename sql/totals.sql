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
