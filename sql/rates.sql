-- name: rate_on$
-- The ledger's rate for `currency` on `day`: the latest on or before it (NULL: none). One step
-- backwards down ledger_rates_day_key.
SELECT rate FROM ledger_rates
WHERE ledger_id = %(ledger_id)s AND currency = %(currency)s AND day <= %(day)s
ORDER BY day DESC
LIMIT 1

-- name: page
-- A page of the ledger's rates ordered by currency then day, after the keyset position
-- (`after_currency`, `after_day`) when given; `currency`, `from_day`, `to_day` filter (NULL: not
-- applied). A walk along ledger_rates_day_key (ledger, currency, day), stopped by the LIMIT.
SELECT id, currency, day, rate
FROM ledger_rates
WHERE ledger_id = %(ledger_id)s
  AND (%(currency)s::text IS NULL OR currency = %(currency)s::text)
  AND (%(from_day)s::date IS NULL OR day >= %(from_day)s::date)
  AND (%(to_day)s::date IS NULL OR day <= %(to_day)s::date)
  AND (%(after_currency)s::text IS NULL
       OR (currency, day) > (%(after_currency)s::text, %(after_day)s::date))
ORDER BY currency, day
LIMIT %(limit)s

-- name: lock_ledger$
-- Serializes the writes to a ledger's rates (a transaction-scoped advisory lock, class 1020:
-- budgets.sql's scope locks are 1001), so that the `before` each upsert reads is the row it
-- replaces: a concurrent writer of the same rates waits for this one's commit. Nothing else of
-- the ledger waits.
SELECT pg_advisory_xact_lock(1020, (%(ledger_id)s::bigint %% 2147483647)::int)::text

-- name: upsert
-- The given rates (three arrays of one length: currency, day, rate; no (currency, day) twice)
-- written in one statement: inserted, or where the ledger has that currency's day, replaced
-- when the value differs (1.50 and 1.5 are the same rate: nothing is written). Answers each
-- rate written (created or changed; unchanged ones are not), with its value before (`old_rate`,
-- NULL: created), by currency then day. The `old` rows come from the statement's snapshot,
-- taken after lock_ledger: nobody else changed them since. Only the new and changed rates reach
-- the INSERT: ON CONFLICT would lock (write) every row it finds, unchanged ones included, so a
-- file imported again would rewrite its whole history's tuples to change nothing (measured: a
-- third slower; docs/BENCHMARKS.md "Exchange-rate imports").
WITH given AS (
    SELECT g.currency, g.day, g.rate
    FROM unnest(%(currencies)s::text[], %(days)s::date[], %(rates)s::numeric[])
         AS g(currency, day, rate)
), old AS (
    SELECT r.currency, r.day, r.rate
    FROM ledger_rates r
    JOIN given g ON g.currency = r.currency AND g.day = r.day
    WHERE r.ledger_id = %(ledger_id)s
), written AS (
    INSERT INTO ledger_rates AS r (ledger_id, currency, day, rate)
    SELECT %(ledger_id)s, g.currency, g.day, g.rate
    FROM given g
    LEFT JOIN old o ON o.currency = g.currency AND o.day = g.day
    WHERE o.rate IS DISTINCT FROM g.rate
    ON CONFLICT (ledger_id, currency, day) DO UPDATE
        SET rate = EXCLUDED.rate, updated_at = now()
        WHERE r.rate IS DISTINCT FROM EXCLUDED.rate
    RETURNING r.id, r.currency, r.day, r.rate
)
SELECT w.id, w.currency, w.day, w.rate, o.rate AS old_rate
FROM written w
LEFT JOIN old o ON o.currency = w.currency AND o.day = w.day
ORDER BY w.currency, w.day
