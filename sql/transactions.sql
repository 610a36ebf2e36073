-- name: allocate^
-- What a new transaction's REST shape needs before it is written (the change log's `after` goes
-- in the same round trip as the insert): its id, its creation time (now(): the transaction's
-- start, the same for every statement of it), its category's name (NULL: no such category in
-- the ledger, or none asked), the names of its lines' categories in line order (NULL for one
-- not in the ledger), the name of the member recording it, and the names its payee and tags
-- already have in the ledger (NULL: a new one, which keeps the case given).
SELECT nextval(pg_get_serial_sequence('transactions', 'id')) AS id, now() AS created_at,
       (SELECT name FROM categories
        WHERE ledger_id = %(ledger_id)s AND id = %(category_id)s::bigint) AS category,
       ARRAY(SELECT c.name
             FROM unnest(%(split_category_ids)s::bigint[]) WITH ORDINALITY AS k(id, line_no)
             LEFT JOIN categories c ON c.ledger_id = %(ledger_id)s AND c.id = k.id
             ORDER BY k.line_no) AS split_categories,
       (SELECT name FROM users WHERE id = %(created_by)s) AS created_by_name,
       (SELECT name FROM payees
        WHERE ledger_id = %(ledger_id)s AND lower(name) = lower(%(payee)s::text)) AS payee,
       ARRAY(SELECT coalesce(g.name, k.name)
             FROM unnest(%(tags)s::text[]) WITH ORDINALITY AS k(name, position)
             LEFT JOIN tags g ON g.ledger_id = %(ledger_id)s AND lower(g.name) = lower(k.name)
             ORDER BY k.position) AS tags

-- name: category_names
-- The names of the ledger's categories among `ids` ({id, name}; an id not in the ledger is
-- missing): what a changed transaction's category and lines show.
SELECT id, name FROM categories
WHERE ledger_id = %(ledger_id)s AND id = ANY(%(ids)s::bigint[])

-- name: ensure_payee!
-- The payee's row, made on first use; a name that differs only in case is the same payee.
INSERT INTO payees (ledger_id, name) VALUES (%(ledger_id)s, %(name)s)
ON CONFLICT (ledger_id, lower(name)) DO NOTHING

-- name: ensure_tags!
-- The tags' rows, made on first use, in name order (two writers adding the same new tags wait
-- for each other in one order, never in a cycle).
INSERT INTO tags (ledger_id, name)
SELECT %(ledger_id)s, name FROM unnest(%(names)s::text[]) AS k(name) ORDER BY lower(name), name
ON CONFLICT (ledger_id, lower(name)) DO NOTHING

-- name: insert!
-- Records the transaction `allocate` drew an id for on this connection (currval: the same
-- round trip can insert it before the id is back), by a member, created now() (the database
-- transaction's start, as allocate answered). The (ledger_id, category_id) foreign key refuses
-- another ledger's category (and one deleted since it was read); category_id is NULL for a
-- split one. The payee (ensure_payee first) is found by name. `amount` is in the ledger's
-- currency; currency, rate and foreign_amount are NULL unless it was recorded in another.
INSERT INTO transactions
    (ledger_id, id, category_id, type, amount, description, occurred_on, created_at, created_by,
     payee_id, currency, rate, foreign_amount)
OVERRIDING SYSTEM VALUE
VALUES (%(ledger_id)s, currval(pg_get_serial_sequence('transactions', 'id')), %(category_id)s,
        %(type)s, %(amount)s, %(description)s, %(occurred_on)s, now(), %(created_by)s,
        (SELECT id FROM payees
         WHERE ledger_id = %(ledger_id)s AND lower(name) = lower(%(payee)s::text)),
        %(currency)s, %(rate)s, %(foreign_amount)s)

-- name: insert_splits!
-- A split transaction's lines, numbered in the order given. Their date and type are the
-- transaction's (copied by a trigger); their categories are checked by the (ledger_id,
-- category_id) foreign key. `amounts` are the lines' shares in the ledger's currency;
-- `foreign_amounts` their amounts in the transaction's currency (NULLs when it is the ledger's).
-- `id` NULL: the transaction just inserted (insert's currval).
INSERT INTO transaction_splits (ledger_id, transaction_id, line_no, category_id, amount, memo,
                                occurred_on, type, foreign_amount)
SELECT %(ledger_id)s,
       coalesce(%(id)s::bigint, currval(pg_get_serial_sequence('transactions', 'id'))), k.line_no, k.category_id, k.amount, k.memo, '-infinity', 'EXPENSE',
       k.foreign_amount
FROM unnest(%(category_ids)s::bigint[], %(amounts)s::numeric[], %(memos)s::text[],
            %(foreign_amounts)s::numeric[])
     WITH ORDINALITY AS k(category_id, amount, memo, foreign_amount, line_no)

-- name: delete_splits!
DELETE FROM transaction_splits WHERE ledger_id = %(ledger_id)s AND transaction_id = %(id)s

-- name: insert_tags!
-- Tags a transaction with the named tags (ensure_tags first); `id` NULL: the transaction just
-- inserted (insert's currval).
INSERT INTO transaction_tags (ledger_id, transaction_id, tag_id)
SELECT DISTINCT %(ledger_id)s::bigint,
       coalesce(%(id)s::bigint, currval(pg_get_serial_sequence('transactions', 'id'))), g.id
FROM tags g
WHERE g.ledger_id = %(ledger_id)s
  AND lower(g.name) IN (SELECT lower(name) FROM unnest(%(names)s::text[]) AS k(name))
ON CONFLICT DO NOTHING

-- name: delete_tags!
DELETE FROM transaction_tags WHERE ledger_id = %(ledger_id)s AND transaction_id = %(id)s

-- name: get_by_id^
SELECT t.id, t.category_id, t.category, t.type, t.amount, t.description, t.occurred_on,
       t.created_at, t.created_by, t.payee, t.tags, t.splits, t.currency, t.rate, t.ledger_amount
FROM transactions_shown t
WHERE t.ledger_id = %(ledger_id)s AND t.id = %(id)s

-- name: lock$
-- Locks the transaction until the end of the database transaction, for changing or deleting
-- it; its id (NULL: none). get_by_id after it, as a statement of its own, reads the version
-- just locked (READ COMMITTED: a fresh snapshot), with its lines and tags.
SELECT id FROM transactions WHERE ledger_id = %(ledger_id)s AND id = %(id)s FOR UPDATE

-- name: update!
-- The client's fields and the payee (ensure_payee first; NULL payee: none). Lines and tags are
-- replaced by their own statements.
UPDATE transactions
SET category_id = %(category_id)s, type = %(type)s, amount = %(amount)s,
    description = %(description)s, occurred_on = %(occurred_on)s, updated_at = now(),
    currency = %(currency)s, rate = %(rate)s, foreign_amount = %(foreign_amount)s,
    payee_id = (SELECT id FROM payees
                WHERE ledger_id = %(ledger_id)s AND lower(name) = lower(%(payee)s::text))
WHERE ledger_id = %(ledger_id)s AND id = %(id)s

-- name: delete!
-- Its lines and tags go with it (ON DELETE CASCADE).
DELETE FROM transactions WHERE ledger_id = %(ledger_id)s AND id = %(id)s

-- name: list_page
-- One page, newest date first then highest id, after the keyset cursor (after_date, after_id)
-- when given. Every filter is optional (NULL: not applied). q matches text anywhere in the
-- description, case-insensitively, with LIKE's wildcards in q taken literally; payee is the
-- payee's name, case-insensitively; every name in tags must be on the transaction
-- (case-insensitively). category_id matches the transaction's category or any of its split
-- lines.
--
-- The page's ids first, then their REST shape (transactions_shown) for those rows only. The ids
-- come from three sources, each in the page's order, merged (Merge Append) and cut by the
-- LIMIT: every transaction (no category asked: transactions_ledger_date_idx), the category's
-- own (transactions_ledger_category_date_idx), and the split transactions with a line in it:
-- their lines through transaction_splits_category_idx, sorted by the date they carry (the
-- transaction's, copied) and id, each transaction then read by its key only as the merge asks
-- for it. The LIMIT 1 there keeps the lines the driving side whatever the planner thinks of the
-- ledger's size (under pages_for_ledgers' LATERAL, or in a generic plan, it guesses any
-- ledger's: a walk of the whole period looked as cheap). The sources not asked for stop at a
-- one-time filter, also in a generic plan. The filters below the sources apply inside each.
WITH page AS (
    SELECT t.id, t.occurred_on
    FROM (
        SELECT * FROM (
            SELECT t.ledger_id, t.id, t.occurred_on, t.type, t.amount, t.description, t.payee_id
            FROM transactions t
            WHERE %(category_id)s::bigint IS NULL AND t.ledger_id = %(ledger_id)s
            ORDER BY t.occurred_on DESC, t.id DESC
        ) every
        UNION ALL
        SELECT * FROM (
            SELECT t.ledger_id, t.id, t.occurred_on, t.type, t.amount, t.description, t.payee_id
            FROM transactions t
            WHERE t.ledger_id = %(ledger_id)s AND t.category_id = %(category_id)s::bigint
            ORDER BY t.occurred_on DESC, t.id DESC
        ) in_category
        UNION ALL
        SELECT * FROM (
            SELECT t.ledger_id, l.id, l.occurred_on, t.type, t.amount, t.description, t.payee_id
            FROM (SELECT DISTINCT s.transaction_id AS id, s.occurred_on
                  FROM transaction_splits s
                  WHERE %(category_id)s::bigint IS NOT NULL
                    AND s.ledger_id = %(ledger_id)s AND s.category_id = %(category_id)s::bigint
                    AND s.occurred_on BETWEEN %(date_from)s AND %(date_to)s
                  ORDER BY s.occurred_on DESC, s.transaction_id DESC) AS l
            CROSS JOIN LATERAL (
                SELECT * FROM transactions t
                WHERE t.ledger_id = %(ledger_id)s AND t.id = l.id
                LIMIT 1  -- its key: one row; the LIMIT keeps the lines the driving side
            ) AS t
            ORDER BY l.occurred_on DESC, l.id DESC
        ) by_lines
    ) t
    WHERE t.occurred_on BETWEEN %(date_from)s AND %(date_to)s
      AND (%(type)s::text IS NULL OR t.type = %(type)s::text)
      AND (%(min_amount)s::numeric IS NULL OR t.amount >= %(min_amount)s::numeric)
      AND (%(max_amount)s::numeric IS NULL OR t.amount <= %(max_amount)s::numeric)
      AND (%(q)s::text IS NULL OR t.description ILIKE
           '%%' || replace(replace(replace(%(q)s::text, '\', '\\'), '%%', '\%%'), '_', '\_') || '%%')
      AND (%(payee)s::text IS NULL OR t.payee_id = (
               SELECT y.id FROM payees y
               WHERE y.ledger_id = %(ledger_id)s AND lower(y.name) = lower(%(payee)s::text)))
      AND (%(tags)s::text[] IS NULL OR t.id IN (
               SELECT tt.transaction_id
               FROM transaction_tags tt
               WHERE tt.ledger_id = %(ledger_id)s
                 AND tt.tag_id IN (SELECT g.id FROM tags g
                                   WHERE g.ledger_id = %(ledger_id)s
                                     AND lower(g.name) IN (SELECT lower(n)
                                                           FROM unnest(%(tags)s::text[]) AS n))
               GROUP BY tt.transaction_id
               HAVING count(*) = (SELECT count(DISTINCT lower(n))
                                  FROM unnest(%(tags)s::text[]) AS n)))
      AND (%(after_date)s::date IS NULL
           OR (t.occurred_on, t.id) < (%(after_date)s::date, %(after_id)s::bigint))
    ORDER BY t.occurred_on DESC, t.id DESC
    LIMIT %(limit)s
)
SELECT s.id, s.category_id, s.category, s.type, s.amount, s.description, s.occurred_on,
       s.created_at, s.created_by, s.payee, s.tags, s.splits, s.currency, s.rate, s.ledger_amount
FROM page
JOIN transactions_shown s ON s.ledger_id = %(ledger_id)s AND s.id = page.id
ORDER BY page.occurred_on DESC, page.id DESC

-- name: pages_for_ledgers
-- list_page for many ledgers in one statement (GraphQL's `ledgers { transactions }`): one page
-- per ledger, each with its own period (a default month follows the ledger's time zone), in
-- list_page's order, after the keyset cursor when given, with list_page's filters and its
-- three sources of ids; ledger_id with every row. A LATERAL subquery per ledger keeps each page
-- on the indexes with its own LIMIT. The caller has checked membership.
SELECT p.ledger_id, s.id, s.category_id, s.category, s.type, s.amount, s.description,
       s.occurred_on, s.created_at, s.created_by, s.payee, s.tags, s.splits, s.currency, s.rate,
       s.ledger_amount
FROM unnest(%(ledger_ids)s::bigint[], %(date_froms)s::date[], %(date_tos)s::date[])
     AS p(ledger_id, date_from, date_to)
CROSS JOIN LATERAL (
    SELECT t.id, t.occurred_on
    FROM (
        SELECT * FROM (
            SELECT t.ledger_id, t.id, t.occurred_on, t.type, t.amount, t.description, t.payee_id
            FROM transactions t
            WHERE %(category_id)s::bigint IS NULL AND t.ledger_id = p.ledger_id
            ORDER BY t.occurred_on DESC, t.id DESC
        ) every
        UNION ALL
        SELECT * FROM (
            SELECT t.ledger_id, t.id, t.occurred_on, t.type, t.amount, t.description, t.payee_id
            FROM transactions t
            WHERE t.ledger_id = p.ledger_id AND t.category_id = %(category_id)s::bigint
            ORDER BY t.occurred_on DESC, t.id DESC
        ) in_category
        UNION ALL
        SELECT * FROM (
            SELECT t.ledger_id, l.id, l.occurred_on, t.type, t.amount, t.description, t.payee_id
            FROM (SELECT DISTINCT s.transaction_id AS id, s.occurred_on
                  FROM transaction_splits s
                  WHERE %(category_id)s::bigint IS NOT NULL
                    AND s.ledger_id = p.ledger_id AND s.category_id = %(category_id)s::bigint
                    AND s.occurred_on BETWEEN p.date_from AND p.date_to
                  ORDER BY s.occurred_on DESC, s.transaction_id DESC) AS l
            CROSS JOIN LATERAL (
                SELECT * FROM transactions t
                WHERE t.ledger_id = p.ledger_id AND t.id = l.id
                LIMIT 1  -- its key: one row; the LIMIT keeps the lines the driving side
            ) AS t
            ORDER BY l.occurred_on DESC, l.id DESC
        ) by_lines
    ) t
    WHERE t.occurred_on BETWEEN p.date_from AND p.date_to
      AND (%(type)s::text IS NULL OR t.type = %(type)s::text)
      AND (%(min_amount)s::numeric IS NULL OR t.amount >= %(min_amount)s::numeric)
      AND (%(max_amount)s::numeric IS NULL OR t.amount <= %(max_amount)s::numeric)
      AND (%(q)s::text IS NULL OR t.description ILIKE
           '%%' || replace(replace(replace(%(q)s::text, '\', '\\'), '%%', '\%%'), '_', '\_') || '%%')
      AND (%(payee)s::text IS NULL OR t.payee_id = (
               SELECT y.id FROM payees y
               WHERE y.ledger_id = p.ledger_id AND lower(y.name) = lower(%(payee)s::text)))
      AND (%(tags)s::text[] IS NULL OR t.id IN (
               SELECT tt.transaction_id
               FROM transaction_tags tt
               WHERE tt.ledger_id = p.ledger_id
                 AND tt.tag_id IN (SELECT g.id FROM tags g
                                   WHERE g.ledger_id = p.ledger_id
                                     AND lower(g.name) IN (SELECT lower(n)
                                                           FROM unnest(%(tags)s::text[]) AS n))
               GROUP BY tt.transaction_id
               HAVING count(*) = (SELECT count(DISTINCT lower(n))
                                  FROM unnest(%(tags)s::text[]) AS n)))
      AND (%(after_date)s::date IS NULL
           OR (t.occurred_on, t.id) < (%(after_date)s::date, %(after_id)s::bigint))
    ORDER BY t.occurred_on DESC, t.id DESC
    LIMIT %(limit)s
) k
JOIN transactions_shown s ON s.ledger_id = p.ledger_id AND s.id = k.id
ORDER BY p.ledger_id, k.occurred_on DESC, k.id DESC

-- name: first_date$
-- The date of the ledger's earliest transaction (NULL: it has none): where a period given only
-- its `to` starts. One step down transactions_ledger_date_idx.
SELECT min(occurred_on) FROM transactions WHERE ledger_id = %(ledger_id)s

-- name: first_dates
-- first_date of each ledger given, in one statement (a `to` alone asked of many ledgers at once:
-- GraphQL's `ledgers { summary(to: ...) }`); first_date NULL for a ledger with none.
SELECT l.ledger_id,
       (SELECT min(t.occurred_on) FROM transactions t WHERE t.ledger_id = l.ledger_id)
           AS first_date
FROM unnest(%(ledger_ids)s::bigint[]) AS l(ledger_id)
