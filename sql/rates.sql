-- name: rate_on$
-- The ledger's rate for `currency` on `day`: the latest on or before it (NULL: none). One step
-- backwards down ledger_rates_day_key.
SELECT rate FROM ledger_rates
WHERE ledger_id = %(ledger_id)s AND currency = %(currency)s AND day <= %(day)s
ORDER BY day DESC
LIMIT 1
