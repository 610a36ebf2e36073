-- name: ledger^
-- What an export says of the ledger itself.
SELECT id, name, currency, timezone FROM ledgers WHERE id = %(ledger_id)s

-- name: categories
SELECT id, name, created_at FROM categories WHERE ledger_id = %(ledger_id)s ORDER BY id

-- name: payees
SELECT id, name FROM payees WHERE ledger_id = %(ledger_id)s ORDER BY id

-- name: tags
SELECT id, name FROM tags WHERE ledger_id = %(ledger_id)s ORDER BY id

-- name: budgets
-- As the budget list shows them (sql/budgets.sql), in id order.
SELECT b.id, b.category_id, c.name AS category, b.year, b.month, b.amount, b.mode,
       b.alert_threshold, b.rollover, b.created_at
FROM budgets b
LEFT JOIN categories c ON c.ledger_id = b.ledger_id AND c.id = b.category_id
WHERE b.ledger_id = %(ledger_id)s
ORDER BY b.id

-- name: recurring
-- As the recurring list shows them (sql/recurring.sql), with the progress a restore needs to go
-- on where the rule is (last_date, occurrence_count).
SELECT r.id, r.category_id, c.name AS category, r.type, r.amount, r.description, r.frequency,
       r.repeat_interval, r.by_weekday, r.by_month_day, r.start_date, r.end_date,
       r.max_occurrences, r.paused, r.paused_reason, r.last_date, r.next_date,
       r.occurrence_count, r.failures, r.retry_at, r.last_error, r.created_at, r.currency
FROM recurring_rules r
JOIN categories c ON c.ledger_id = r.ledger_id AND c.id = r.category_id
WHERE r.ledger_id = %(ledger_id)s
ORDER BY r.id

-- name: rules
-- The import rules, in the order they apply.
SELECT id, position, match, set_category_id, set_payee, set_tags, created_at
FROM rules
WHERE ledger_id = %(ledger_id)s
ORDER BY position, id

-- name: span^
-- The first and last date of the ledger's transactions within [date_from, date_to] (NULL, NULL:
-- none), and the balance there (income minus expenses): an OFX statement's DTSTART, DTEND and
-- LEDGERBAL, known before its list.
SELECT min(occurred_on) AS first, max(occurred_on) AS last,
       coalesce(sum(CASE WHEN type = 'INCOME' THEN amount ELSE -amount END), 0) AS balance
FROM transactions
WHERE ledger_id = %(ledger_id)s AND occurred_on BETWEEN %(date_from)s AND %(date_to)s

-- name: transactions_page
-- One page of an export: the transactions of [date_from, date_to] after the keyset position
-- (after_date, after_id), oldest date first then lowest id, as their REST shape shows them
-- (transactions_shown) with where they came from (account, bank id, import key). An export
-- reads page after page in one REPEATABLE READ snapshot (db/snapshot.py), so the pages agree.
SELECT s.id, s.amount, s.type, s.category_id, s.category, s.description, s.occurred_on,
       s.created_at, s.created_by, s.payee, s.tags, s.splits, s.currency, s.rate, s.ledger_amount,
       t.account, t.bank_id, t.import_key
FROM transactions t
JOIN transactions_shown s ON s.ledger_id = t.ledger_id AND s.id = t.id
WHERE t.ledger_id = %(ledger_id)s
  AND t.occurred_on BETWEEN %(date_from)s AND %(date_to)s
  AND (t.occurred_on, t.id) > (%(after_date)s::date, %(after_id)s::bigint)
ORDER BY t.occurred_on, t.id
LIMIT %(limit)s

-- name: rates_page
-- One page of the ledger's rates by currency then day, after the keyset position
-- (after_currency, after_day) (ledger_rates_day_key).
SELECT currency, day, rate FROM ledger_rates
WHERE ledger_id = %(ledger_id)s AND (currency, day) > (%(after_currency)s::text, %(after_day)s::date)
ORDER BY currency, day
LIMIT %(limit)s

-- name: insert_categories
-- A restore's categories; {id, name} (names are unique in a ledger, case-insensitively).
INSERT INTO categories (ledger_id, name)
SELECT %(ledger_id)s, name FROM unnest(%(names)s::text[]) WITH ORDINALITY AS k(name, n) ORDER BY n
RETURNING id, name

-- name: insert_payees
-- A restore's payees; {id, name}.
INSERT INTO payees (ledger_id, name)
SELECT %(ledger_id)s, name FROM unnest(%(names)s::text[]) WITH ORDINALITY AS k(name, n) ORDER BY n
RETURNING id, name

-- name: insert_tags
-- A restore's tags; {id, name}.
INSERT INTO tags (ledger_id, name)
SELECT %(ledger_id)s, name FROM unnest(%(names)s::text[]) WITH ORDINALITY AS k(name, n) ORDER BY n
RETURNING id, name

-- name: allocate_transaction_ids
-- `count` new transaction ids, in order ({id}): a restore numbers its lines and tags with them
-- before writing the transactions.
SELECT nextval(pg_get_serial_sequence('transactions', 'id')) AS id
FROM generate_series(1, %(count)s)

-- name: insert_transactions!
-- A restore's transactions, one statement (ids from allocate_transaction_ids; category NULL for
-- a split one, whose lines come next): `amounts` in the ledger's currency, and for one in
-- another currency its currency, rate and amount in it (NULL, NULL, NULL in the ledger's).
INSERT INTO transactions
    (ledger_id, id, category_id, type, amount, description, occurred_on, created_by, payee_id,
     account, bank_id, import_key, currency, rate, foreign_amount)
OVERRIDING SYSTEM VALUE
SELECT %(ledger_id)s, k.id, k.category_id, k.type, k.amount, k.description, k.occurred_on,
       %(created_by)s, k.payee_id, k.account, k.bank_id, k.import_key, k.currency, k.rate,
       k.foreign_amount
FROM unnest(%(ids)s::bigint[], %(category_ids)s::bigint[], %(types)s::text[],
            %(amounts)s::numeric[], %(descriptions)s::text[], %(dates)s::date[],
            %(payee_ids)s::bigint[], %(accounts)s::text[], %(bank_ids)s::text[],
            %(import_keys)s::text[], %(currencies)s::text[], %(rates)s::numeric[],
            %(foreign_amounts)s::numeric[])
     AS k(id, category_id, type, amount, description, occurred_on, payee_id, account, bank_id,
          import_key, currency, rate, foreign_amount)

-- name: insert_splits!
-- A restore's split lines (their date and type are copied from the transaction by a trigger):
-- `amounts` their shares in the ledger's currency, `foreign_amounts` theirs in the
-- transaction's other currency (NULL in the ledger's).
INSERT INTO transaction_splits (ledger_id, transaction_id, line_no, category_id, amount, memo,
                                occurred_on, type, foreign_amount)
SELECT %(ledger_id)s, k.transaction_id, k.line_no, k.category_id, k.amount, k.memo,
       '-infinity', 'EXPENSE', k.foreign_amount
FROM unnest(%(transaction_ids)s::bigint[], %(line_nos)s::smallint[], %(category_ids)s::bigint[],
            %(amounts)s::numeric[], %(memos)s::text[], %(foreign_amounts)s::numeric[])
     AS k(transaction_id, line_no, category_id, amount, memo, foreign_amount)

-- name: insert_transaction_tags!
INSERT INTO transaction_tags (ledger_id, transaction_id, tag_id)
SELECT %(ledger_id)s, k.transaction_id, k.tag_id
FROM unnest(%(transaction_ids)s::bigint[], %(tag_ids)s::bigint[]) AS k(transaction_id, tag_id)

-- name: insert_budgets!
-- A restore's budgets, with their mode, alert threshold and rollover.
INSERT INTO budgets (ledger_id, category_id, year, month, amount, mode, alert_threshold, rollover)
SELECT %(ledger_id)s, k.category_id, k.year, k.month, k.amount, k.mode, k.alert_threshold,
       k.rollover
FROM unnest(%(category_ids)s::bigint[], %(years)s::smallint[], %(months)s::smallint[],
            %(amounts)s::numeric[], %(modes)s::text[], %(thresholds)s::smallint[],
            %(rollovers)s::text[])
     WITH ORDINALITY AS k(category_id, year, month, amount, mode, alert_threshold, rollover, n)
ORDER BY k.n

-- name: insert_recurring!
-- A restore's recurring rules, acting as the member restoring, with their progress (last date
-- handled, next date, how many handled) and paused as `paused` says. by_weekdays holds each
-- rule's days joined with commas (NULL: none). `currencies`: a rule's own other than the
-- ledger's (NULL: the ledger's).
INSERT INTO recurring_rules
    (ledger_id, acts_as, category_id, type, amount, description, frequency, repeat_interval,
     by_weekday, by_month_day, start_date, end_date, max_occurrences, paused, last_date,
     next_date, occurrence_count, currency)
SELECT %(ledger_id)s, %(acts_as)s, k.category_id, k.type, k.amount, k.description, k.frequency,
       k.repeat_interval, string_to_array(k.by_weekday, ','), k.by_month_day, k.start_date,
       k.end_date, k.max_occurrences, k.paused, k.last_date, k.next_date, k.occurrence_count,
       k.currency
FROM unnest(%(category_ids)s::bigint[], %(types)s::text[], %(amounts)s::numeric[],
            %(descriptions)s::text[], %(frequencies)s::text[], %(intervals)s::integer[],
            %(by_weekdays)s::text[], %(by_month_days)s::smallint[], %(start_dates)s::date[],
            %(end_dates)s::date[], %(counts)s::integer[], %(paused)s::boolean[],
            %(last_dates)s::date[], %(next_dates)s::date[], %(occurrence_counts)s::integer[],
            %(currencies)s::text[])
     WITH ORDINALITY AS k(category_id, type, amount, description, frequency, repeat_interval,
                          by_weekday, by_month_day, start_date, end_date, max_occurrences,
                          paused, last_date, next_date, occurrence_count, currency, n)
ORDER BY k.n

-- name: insert_rates
-- A restore's ledger rates, one statement (no (currency, day) twice: checked before); each
-- row written as services/changes' record_rates takes it (`old_rate` NULL: created).
INSERT INTO ledger_rates (ledger_id, currency, day, rate)
SELECT %(ledger_id)s, k.currency, k.day, k.rate
FROM unnest(%(currencies)s::text[], %(days)s::date[], %(rates)s::numeric[])
     WITH ORDINALITY AS k(currency, day, rate, n)
ORDER BY k.n
RETURNING id, currency, day, rate, NULL::numeric AS old_rate
