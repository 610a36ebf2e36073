-- name: defer_for_transaction$
-- For bulk loads only: the totals trigger skips rows written by this transaction, which must
-- call expense_api.repositories.totals.rebuild_for_users (the delete_* and rebuild_* queries
-- below) for every user it wrote before committing.
SELECT set_config('expense_api.defer_totals', 'on', true)

-- name: delete_monthly_for_users!
DELETE FROM monthly_totals WHERE user_id = ANY(%(user_ids)s::bigint[])

-- name: delete_daily_for_users!
DELETE FROM daily_totals WHERE user_id = ANY(%(user_ids)s::bigint[])

-- name: rebuild_monthly_for_users!
INSERT INTO monthly_totals (user_id, month, category_id, type, amount, tx_count)
SELECT user_id, date_trunc('month', occurred_on)::date, category_id, type, sum(amount), count(*)
FROM transactions
WHERE user_id = ANY(%(user_ids)s::bigint[])
GROUP BY 1, 2, 3, 4

-- name: rebuild_daily_for_users!
INSERT INTO daily_totals (user_id, day, category_id, type, amount, tx_count)
SELECT user_id, occurred_on, category_id, type, sum(amount), count(*)
FROM transactions
WHERE user_id = ANY(%(user_ids)s::bigint[])
GROUP BY 1, 2, 3, 4

-- name: monthly_mismatches$
-- Rows where monthly_totals differ from the transactions they sum (0 when exact).
SELECT count(*) FROM (
    SELECT user_id, date_trunc('month', occurred_on)::date AS month, category_id, type,
           sum(amount) AS amount, count(*) AS tx_count
    FROM transactions WHERE user_id = ANY(%(user_ids)s::bigint[]) GROUP BY 1, 2, 3, 4
) actual
FULL JOIN (
    SELECT user_id, month, category_id, type, amount, tx_count
    FROM monthly_totals WHERE user_id = ANY(%(user_ids)s::bigint[]) AND (tx_count <> 0 OR amount <> 0)
) kept USING (user_id, month, category_id, type)
WHERE actual.amount IS DISTINCT FROM kept.amount OR actual.tx_count IS DISTINCT FROM kept.tx_count

-- name: daily_mismatches$
-- Rows where daily_totals differ from the transactions they sum (0 when exact).
SELECT count(*) FROM (
    SELECT user_id, occurred_on AS day, category_id, type, sum(amount) AS amount,
           count(*) AS tx_count
    FROM transactions WHERE user_id = ANY(%(user_ids)s::bigint[]) GROUP BY 1, 2, 3, 4
) actual
FULL JOIN (
    SELECT user_id, day, category_id, type, amount, tx_count
    FROM daily_totals WHERE user_id = ANY(%(user_ids)s::bigint[]) AND (tx_count <> 0 OR amount <> 0)
) kept USING (user_id, day, category_id, type)
WHERE actual.amount IS DISTINCT FROM kept.amount OR actual.tx_count IS DISTINCT FROM kept.tx_count
