-- name: insert^
-- A new import in preview, with nothing of the ledger changed yet.
INSERT INTO imports (ledger_id, format, account, file_name, currency, created_by)
VALUES (%(ledger_id)s, %(format)s, %(account)s, %(file_name)s, %(currency)s, %(created_by)s)
RETURNING id, created_at

-- name: stage_rows!
-- The import's rows with their decisions, in one statement whatever their number (arrays, one
-- element per row, in line order).
INSERT INTO import_rows (ledger_id, import_id, line, occurred_on, amount, type, payee,
                         description, bank_id, import_key, currency, category_id, category_name,
                         tags, splits, decision, transaction_id, reason, rate)
SELECT %(ledger_id)s, %(import_id)s, r.line, r.occurred_on, r.amount, r.type, r.payee,
       r.description, r.bank_id, r.import_key, r.currency, r.category_id, r.category_name,
       coalesce((SELECT array_agg(t) FROM jsonb_array_elements_text(r.tags) AS t), '{}'),
       r.splits, r.decision, r.transaction_id, r.reason, r.rate
FROM unnest(%(lines)s::int[], %(dates)s::date[], %(amounts)s::numeric[], %(types)s::text[],
            %(payees)s::text[], %(descriptions)s::text[], %(bank_ids)s::text[],
            %(import_keys)s::text[], %(currencies)s::text[], %(category_ids)s::bigint[],
            %(category_names)s::text[], %(tags)s::jsonb[], %(splits)s::jsonb[],
            %(decisions)s::text[], %(transaction_ids)s::bigint[], %(reasons)s::text[],
            %(rates)s::numeric[])
     AS r(line, occurred_on, amount, type, payee, description, bank_id, import_key, currency,
          category_id, category_name, tags, splits, decision, transaction_id, reason, rate)

-- name: known_bank_ids
-- The ledger's transactions of the account that carry one of these bank ids.
SELECT bank_id, id FROM transactions
WHERE ledger_id = %(ledger_id)s AND account = %(account)s AND bank_id = ANY(%(bank_ids)s::text[])

-- name: known_import_keys
-- The ledger's transactions of the account that carry one of these import keys.
SELECT import_key, id FROM transactions
WHERE ledger_id = %(ledger_id)s AND account = %(account)s
  AND import_key = ANY(%(import_keys)s::text[])

-- name: hand_entered_near
-- Transactions entered by hand (no bank id, no import key: never imported nor linked), dated
-- between the two days, that a bank line may match: in the ledger's currency with one of
-- `amounts` (transactions_hand_entered_idx), or in another currency with one of the (currency,
-- amount in it) pairs (transactions_hand_entered_foreign_idx). Each with `currency` (the
-- ledger's for its own) and `amount` in that currency: never a match across currencies.
SELECT id, amount, type, occurred_on, %(ledger_currency)s::text AS currency FROM transactions
WHERE ledger_id = %(ledger_id)s AND bank_id IS NULL AND import_key IS NULL
  AND currency IS NULL
  AND amount = ANY(%(amounts)s::numeric[])
  AND occurred_on BETWEEN %(first)s AND %(last)s
UNION ALL
SELECT t.id, t.foreign_amount, t.type, t.occurred_on, t.currency
FROM unnest(%(currencies)s::text[], %(foreign_amounts)s::numeric[]) AS k(currency, amount)
JOIN transactions t
  ON t.ledger_id = %(ledger_id)s AND t.currency = k.currency AND t.foreign_amount = k.amount
 AND t.bank_id IS NULL AND t.import_key IS NULL
 AND t.occurred_on BETWEEN %(first)s AND %(last)s
ORDER BY id

-- name: rates_on
-- The ledger's rate of each (currency, day) pair: the latest on or before the day (none: the
-- pair is not answered). One statement for all the pairs, each one step backwards down
-- ledger_rates_day_key.
SELECT k.currency, k.day, r.rate
FROM unnest(%(currencies)s::text[], %(days)s::date[]) AS k(currency, day)
CROSS JOIN LATERAL (SELECT rate FROM ledger_rates
                    WHERE ledger_id = %(ledger_id)s AND currency = k.currency
                      AND day <= k.day
                    ORDER BY day DESC
                    LIMIT 1) AS r

-- name: category_ids
-- The ledger's categories by lower-case name.
SELECT lower(name) AS key, id, name FROM categories WHERE ledger_id = %(ledger_id)s

-- name: get^
-- An import as its REST shape shows it, with its counts per decision (rows skipped at commit
-- are counted as what they were).
SELECT i.id, i.status, i.format, i.account, i.file_name, i.currency, i.created_at,
       i.committed_at, i.undone_at, i.over_budget, i.kept,
       (SELECT jsonb_build_object(
                   'new', count(*) FILTER (WHERE decision = 'new'),
                   'duplicate', count(*) FILTER (WHERE decision = 'duplicate'),
                   'match', count(*) FILTER (WHERE decision = 'match'),
                   'invalid', count(*) FILTER (WHERE decision = 'invalid'))
        FROM import_rows r WHERE r.ledger_id = i.ledger_id AND r.import_id = i.id) AS counts
FROM imports i
WHERE i.ledger_id = %(ledger_id)s AND i.id = %(id)s

-- name: lock$
-- Locks the import until the end of the database transaction; its status (NULL: none).
SELECT status FROM imports WHERE ledger_id = %(ledger_id)s AND id = %(id)s FOR UPDATE

-- name: list_page
-- The ledger's imports, newest first, after the keyset cursor `before_id` when given.
SELECT i.id FROM imports i
WHERE i.ledger_id = %(ledger_id)s
  AND (%(before_id)s::bigint IS NULL OR i.id < %(before_id)s::bigint)
ORDER BY i.id DESC
LIMIT %(limit)s

-- name: rows_page
-- An import's rows in line order, after `after_line`, optionally of one decision.
SELECT line, occurred_on, amount, type, payee, description, bank_id, decision, transaction_id,
       category_id, category_name, splits, reason, skip, currency, rate
FROM import_rows
WHERE ledger_id = %(ledger_id)s AND import_id = %(import_id)s
  AND (%(decision)s::text IS NULL OR decision = %(decision)s::text)
  AND line > %(after_line)s
ORDER BY line
LIMIT %(limit)s::bigint

-- name: set_overrides!
-- A commit's per-row overrides: skip, make a match a new transaction, another category.
UPDATE import_rows r
SET skip = o.skip,
    decision = CASE WHEN o.make_new THEN 'new' ELSE r.decision END,
    transaction_id = CASE WHEN o.make_new THEN NULL ELSE r.transaction_id END,
    category_id = coalesce(o.category_id, r.category_id)
FROM unnest(%(lines)s::int[], %(skips)s::boolean[], %(make_new)s::boolean[],
            %(category_ids)s::bigint[]) AS o(line, skip, make_new, category_id)
WHERE r.ledger_id = %(ledger_id)s AND r.import_id = %(import_id)s AND r.line = o.line

-- name: ensure_categories
-- The categories a commit needs that the ledger lacks, made (by name, any case); the new ones.
INSERT INTO categories (ledger_id, name)
SELECT DISTINCT ON (lower(n)) %(ledger_id)s, n
FROM unnest(%(names)s::text[]) AS k(n)
ORDER BY lower(n), n
ON CONFLICT (ledger_id, lower(name)) DO NOTHING
RETURNING id, name, created_at

-- name: ensure_payees!
-- The payees a commit's rows name, made when new (in name order: never a wait cycle).
INSERT INTO payees (ledger_id, name)
SELECT DISTINCT ON (lower(payee)) %(ledger_id)s, payee
FROM import_rows
WHERE ledger_id = %(ledger_id)s AND import_id = %(import_id)s AND decision = 'new' AND NOT skip
  AND payee IS NOT NULL
ORDER BY lower(payee), payee
ON CONFLICT (ledger_id, lower(name)) DO NOTHING

-- name: ensure_tags!
INSERT INTO tags (ledger_id, name)
SELECT DISTINCT ON (lower(tag)) %(ledger_id)s, tag
FROM import_rows r, unnest(r.tags) AS tag
WHERE r.ledger_id = %(ledger_id)s AND r.import_id = %(import_id)s AND r.decision = 'new'
  AND NOT r.skip
ORDER BY lower(tag), tag
ON CONFLICT (ledger_id, lower(name)) DO NOTHING

-- name: insert_transactions!
-- Every new row that is not skipped becomes a transaction, in one statement: its category the
-- row's (a rule's or an override's), else the file's by name, else `Uncategorized`; none for a
-- split one (its lines have theirs). Each carries the account and its bank id or import key,
-- so the same line is a duplicate next time. A row in another currency (its rate recorded at
-- preview) keeps its currency, rate and amount (foreign_amount); its ledger amount is amount x
-- rate rounded half up to the ledger currency's `digits`: round() on exact numeric products,
-- which for these positive amounts is domain/currencies.convert's rule (a test holds them
-- equal), so the commit writes the ledger amount the preview showed.
INSERT INTO transactions (ledger_id, category_id, type, amount, description, occurred_on,
                          created_by, payee_id, account, bank_id, import_key, import_id,
                          currency, rate, foreign_amount)
SELECT r.ledger_id,
       CASE WHEN r.splits IS NULL
            THEN coalesce(r.category_id,
                          (SELECT c.id FROM categories c
                           WHERE c.ledger_id = r.ledger_id
                             AND lower(c.name) = lower(coalesce(r.category_name, 'Uncategorized'))))
       END,
       r.type,
       CASE WHEN r.rate IS NULL THEN r.amount ELSE round(r.amount * r.rate, %(digits)s::int) END,
       r.description, r.occurred_on, %(created_by)s,
       (SELECT p.id FROM payees p WHERE p.ledger_id = r.ledger_id AND lower(p.name) = lower(r.payee)),
       %(account)s, r.bank_id, r.import_key, r.import_id,
       CASE WHEN r.rate IS NOT NULL THEN r.currency END, r.rate,
       CASE WHEN r.rate IS NOT NULL THEN r.amount END
FROM import_rows r
WHERE r.ledger_id = %(ledger_id)s AND r.import_id = %(import_id)s AND r.decision = 'new'
  AND NOT r.skip
ORDER BY r.line
-- A bank line another import of the account committed since this preview is not written twice
-- (the unique keys of 0018); mark_imported_meanwhile lists it as a duplicate.
ON CONFLICT DO NOTHING

-- name: mark_imported_meanwhile!
-- The new rows that insert_transactions did not write (another commit wrote their bank line
-- first): duplicates, and skipped, so that nothing else of the commit counts them as written.
UPDATE import_rows
SET decision = 'duplicate', reason = 'Imported by another commit since the preview.'
WHERE ledger_id = %(ledger_id)s AND import_id = %(import_id)s AND decision = 'new'
  AND NOT skip AND transaction_id IS NULL

-- name: written_keys
-- The transactions this import wrote, by their keys (before its matches are linked: until then
-- its transactions are exactly the new ones): {id, bank_id, import_key}.
SELECT id, bank_id, import_key FROM transactions
WHERE ledger_id = %(ledger_id)s AND import_id = %(import_id)s

-- name: new_row_keys
-- The import's new rows to write, with their keys: {line, bank_id, import_key}.
SELECT line, bank_id, import_key FROM import_rows
WHERE ledger_id = %(ledger_id)s AND import_id = %(import_id)s AND decision = 'new' AND NOT skip

-- name: set_transaction_ids!
-- Each row's transaction, by line (its primary key: one index lookup per row).
UPDATE import_rows r SET transaction_id = u.transaction_id
FROM unnest(%(lines)s::int[], %(ids)s::bigint[]) AS u(line, transaction_id)
WHERE r.ledger_id = %(ledger_id)s AND r.import_id = %(import_id)s AND r.line = u.line

-- name: insert_splits!
-- The lines of the new split rows (categories by name, made before): each line's share of the
-- ledger amount as the preview allocated it (`ledger_amount`; a preview staged before rates
-- has only `amount`, in the ledger's currency), and for a row in another currency its amount
-- in that currency.
INSERT INTO transaction_splits (ledger_id, transaction_id, line_no, category_id, amount, memo,
                                occurred_on, type, foreign_amount)
SELECT r.ledger_id, r.transaction_id, l.n, c.id,
       coalesce(l.line ->> 'ledger_amount', l.line ->> 'amount')::numeric,
       l.line ->> 'memo', '-infinity'::date, 'EXPENSE',
       CASE WHEN r.rate IS NOT NULL THEN (l.line ->> 'amount')::numeric END
FROM import_rows r
CROSS JOIN LATERAL jsonb_array_elements(r.splits) WITH ORDINALITY AS l(line, n)
JOIN categories c ON c.ledger_id = r.ledger_id AND lower(c.name) = lower(l.line ->> 'category')
WHERE r.ledger_id = %(ledger_id)s AND r.import_id = %(import_id)s AND r.decision = 'new'
  AND NOT r.skip AND r.splits IS NOT NULL

-- name: insert_tags!
INSERT INTO transaction_tags (ledger_id, transaction_id, tag_id)
SELECT DISTINCT r.ledger_id, r.transaction_id, g.id
FROM import_rows r
CROSS JOIN LATERAL unnest(r.tags) AS tag
JOIN tags g ON g.ledger_id = r.ledger_id AND lower(g.name) = lower(tag)
WHERE r.ledger_id = %(ledger_id)s AND r.import_id = %(import_id)s AND r.decision = 'new'
  AND NOT r.skip

-- name: link_matches
-- Each matched row's transaction takes the row's bank id or import key (and the account and the
-- import), unless it was linked or deleted since the preview; the ids linked.
UPDATE transactions t
SET account = %(account)s, bank_id = r.bank_id, import_key = r.import_key,
    import_id = r.import_id, updated_at = now()
FROM import_rows r
WHERE r.ledger_id = %(ledger_id)s AND r.import_id = %(import_id)s AND r.decision = 'match'
  AND NOT r.skip
  AND t.ledger_id = r.ledger_id AND t.id = r.transaction_id
  AND t.bank_id IS NULL AND t.import_key IS NULL
RETURNING t.id

-- name: totals_of_new_rows!
-- The totals of what insert_transactions and insert_splits wrote while the per-row upkeep was
-- deferred: one ordered upsert for all of them (bump_split_totals, migration 0017). Run before
-- the matches are linked: until then the import's transactions are exactly the new ones
-- (transactions_import_idx), and their lines are found by their keys.
SELECT bump_split_totals(array_agg(ledger_id), array_agg(occurred_on), array_agg(category_id),
                         array_agg(type), array_agg(amount), array_agg(1))
FROM (SELECT t.ledger_id, t.occurred_on, t.category_id, t.type, t.amount
      FROM transactions t
      WHERE t.ledger_id = %(ledger_id)s AND t.import_id = %(import_id)s
        AND t.category_id IS NOT NULL
      UNION ALL
      SELECT s.ledger_id, s.occurred_on, s.category_id, s.type, s.amount
      FROM transactions t
      JOIN transaction_splits s ON s.ledger_id = t.ledger_id AND s.transaction_id = t.id
      WHERE t.ledger_id = %(ledger_id)s AND t.import_id = %(import_id)s
        AND t.category_id IS NULL) AS entries

-- name: created_scopes
-- The budget scopes (year, month, category; NULL: overall) whose expenses the import's
-- transactions count in (the matched ones too: their scopes are only checked again).
SELECT DISTINCT extract(year FROM e.occurred_on)::int AS year,
       extract(month FROM e.occurred_on)::int AS month, e.category_id
FROM (SELECT t.occurred_on, t.category_id FROM transactions t
      WHERE t.ledger_id = %(ledger_id)s AND t.import_id = %(import_id)s AND t.type = 'EXPENSE'
      UNION ALL
      SELECT s.occurred_on, s.category_id FROM transactions t
      JOIN transaction_splits s ON s.ledger_id = t.ledger_id AND s.transaction_id = t.id
      WHERE t.ledger_id = %(ledger_id)s AND t.import_id = %(import_id)s AND t.type = 'EXPENSE'
        AND t.category_id IS NULL) AS e
UNION
SELECT DISTINCT extract(year FROM t.occurred_on)::int, extract(month FROM t.occurred_on)::int,
       NULL::bigint
FROM transactions t
WHERE t.ledger_id = %(ledger_id)s AND t.import_id = %(import_id)s AND t.type = 'EXPENSE'
ORDER BY 1, 2, 3 NULLS FIRST

-- name: category_names_needed
-- The category names a commit's new rows need that no category id gives: a row's own (or
-- Uncategorized), a split row's lines'.
SELECT DISTINCT coalesce(category_name, 'Uncategorized') AS name
FROM import_rows
WHERE ledger_id = %(ledger_id)s AND import_id = %(import_id)s AND decision = 'new' AND NOT skip
  AND category_id IS NULL AND splits IS NULL
UNION
SELECT DISTINCT split_line.item ->> 'category'
FROM import_rows r, jsonb_array_elements(r.splits) AS split_line(item)
WHERE r.ledger_id = %(ledger_id)s AND r.import_id = %(import_id)s AND r.decision = 'new'
  AND NOT r.skip AND r.splits IS NOT NULL

-- name: created_ids
-- The transactions the commit created, still there.
SELECT transaction_id AS id FROM import_rows
WHERE ledger_id = %(ledger_id)s AND import_id = %(import_id)s AND decision = 'new'
  AND NOT skip AND transaction_id IS NOT NULL
ORDER BY transaction_id

-- name: set_committed!
UPDATE imports SET status = 'committed', committed_at = now(), over_budget = %(over_budget)s
WHERE ledger_id = %(ledger_id)s AND id = %(id)s

-- name: set_status!
UPDATE imports SET status = %(status)s,
       undone_at = CASE WHEN %(status)s = 'undone' THEN now() ELSE undone_at END,
       kept = coalesce(%(kept)s::jsonb, kept)
WHERE ledger_id = %(ledger_id)s AND id = %(id)s

-- name: undo_split_created
-- The transactions a commit created, by whether they changed since it (kept) or not (deleted):
-- {id, kept}.
SELECT t.id, t.updated_at > i.committed_at AS kept
FROM imports i
JOIN import_rows r ON r.ledger_id = i.ledger_id AND r.import_id = i.id
JOIN transactions t ON t.ledger_id = r.ledger_id AND t.id = r.transaction_id
WHERE i.ledger_id = %(ledger_id)s AND i.id = %(import_id)s AND r.decision = 'new'
  AND NOT r.skip AND t.import_id = i.id
ORDER BY t.id

-- name: delete_transactions!
DELETE FROM transactions WHERE ledger_id = %(ledger_id)s AND id = ANY(%(ids)s::bigint[])

-- name: unlink_matches
-- Undo's unlinking: the matched transactions forget the bank line; the ids unlinked.
UPDATE transactions t
SET account = NULL, bank_id = NULL, import_key = NULL, import_id = NULL, updated_at = now()
FROM import_rows r
WHERE r.ledger_id = %(ledger_id)s AND r.import_id = %(import_id)s AND r.decision = 'match'
  AND NOT r.skip AND t.ledger_id = r.ledger_id AND t.id = r.transaction_id
  AND t.import_id = r.import_id
RETURNING t.id
