-- name: record!
-- One entry of the ledger's change log, by the acting member (their name read here, so the
-- entry keeps it), numbered at COMMIT (migration 0016). The webhook event the change makes, if
-- any (`event`, NULL for none), comes from the same entry in the same statement: one event and
-- one delivery per enabled endpoint subscribed to it; when the caller knows the ledger has no
-- endpoint (`event` NULL) the endpoints are not even read.
WITH entry AS (
    INSERT INTO ledger_changes
        (ledger_id, actor_id, actor_name, via, request_id, entity, entity_id, op, before, after)
    VALUES (%(ledger_id)s, %(actor_id)s,
            (SELECT name FROM users WHERE id = %(actor_id)s),
            %(via)s, %(request_id)s, %(entity)s, %(entity_id)s, %(op)s, %(before)s, %(after)s)
    RETURNING ledger_id
), targets AS (
    SELECT id FROM webhook_endpoints
    WHERE %(event)s::text IS NOT NULL
      AND ledger_id = %(ledger_id)s AND disabled_at IS NULL AND %(event)s::text = ANY(events)
), event AS (
    INSERT INTO webhook_events (ledger_id, type, data)
    SELECT entry.ledger_id, %(event)s, %(payload)s FROM entry
    WHERE EXISTS (SELECT 1 FROM targets)
    RETURNING ledger_id, id
)
INSERT INTO webhook_deliveries (ledger_id, endpoint_id, event_id)
SELECT event.ledger_id, targets.id, event.id FROM event CROSS JOIN targets

-- name: record_new_transaction!
-- The `created` entry of the transaction just inserted on this connection (transactions.sql,
-- insert: currval of its id), by the acting member, its image rendered by the database
-- (transaction_image, migration 0024, as record_in_bulk renders one) so that the entry goes in
-- the insert's own round trip, before the id is back. `digits_of`: {code: digits} of the
-- transaction's currency when it is not the ledger's. The webhook event as record! makes it
-- (`event` NULL: the ledger has no endpoint), its payload the image.
WITH entry AS (
    INSERT INTO ledger_changes
        (ledger_id, actor_id, actor_name, via, request_id, entity, entity_id, op, before, after)
    SELECT t.ledger_id, %(actor_id)s, (SELECT name FROM users WHERE id = %(actor_id)s),
           %(via)s, %(request_id)s, 'transaction', t.id, 'created', NULL,
           transaction_image(t, %(digits)s, %(digits_of)s::jsonb, %(currency)s)
    FROM transactions_shown t
    -- currval in a subquery: evaluated once, so the id is an index key (a volatile call
    -- compared row by row would read the whole ledger through the view).
    WHERE t.ledger_id = %(ledger_id)s
      AND t.id = (SELECT currval(pg_get_serial_sequence('transactions', 'id')))
    RETURNING ledger_id, after
), targets AS (
    SELECT id FROM webhook_endpoints
    WHERE %(event)s::text IS NOT NULL
      AND ledger_id = %(ledger_id)s AND disabled_at IS NULL AND %(event)s::text = ANY(events)
), event AS (
    INSERT INTO webhook_events (ledger_id, type, data)
    SELECT entry.ledger_id, %(event)s, entry.after FROM entry
    WHERE EXISTS (SELECT 1 FROM targets)
    RETURNING ledger_id, id
)
INSERT INTO webhook_deliveries (ledger_id, endpoint_id, event_id)
SELECT event.ledger_id, targets.id, event.id FROM event CROSS JOIN targets

-- name: page
-- One page of the ledger's audit trail, newest first: committed entries only (seq IS NOT NULL;
-- an unnumbered one is the reading transaction's own), before the keyset cursor `before_seq`
-- when given. `hidden` lists the entities the reader's role may not see (empty: none). Every
-- filter is optional (NULL: not applied). `from_day` and `to_day` are days in the ledger's time
-- zone (`timezone`), inclusive: from the first instant of `from_day` to before the first of the
-- day after `to_day`, as PostgreSQL's zone data says (a DST day has its real length).
-- Walks ledger_changes_seq_idx backwards and stops at the page's end; given an entity and its
-- id, it walks ledger_changes_entity_idx in the same order (tests/ledgers/test_change_log_api.py
-- checks both plans).
SELECT c.seq, c.at,
       CASE WHEN c.actor_id IS NOT NULL
            THEN json_build_object('id', c.actor_id, 'name', c.actor_name) END AS actor,
       c.via, c.request_id, c.entity, c.entity_id, c.op, c.before, c.after
FROM ledger_changes c
WHERE c.ledger_id = %(ledger_id)s
  AND c.seq IS NOT NULL
  AND c.entity <> ALL (%(hidden)s::text[])
  AND (%(entity)s::text IS NULL OR c.entity = %(entity)s::text)
  AND (%(entity_id)s::bigint IS NULL OR c.entity_id = %(entity_id)s::bigint)
  AND (%(actor_id)s::bigint IS NULL OR c.actor_id = %(actor_id)s::bigint)
  AND (%(from_day)s::date IS NULL
       OR c.at >= %(from_day)s::date::timestamp AT TIME ZONE %(timezone)s::text)
  AND (%(to_day)s::date IS NULL
       OR c.at < (%(to_day)s::date + 1)::timestamp AT TIME ZONE %(timezone)s::text)
  AND (%(before_seq)s::bigint IS NULL OR c.seq < %(before_seq)s::bigint)
ORDER BY c.seq DESC
LIMIT %(limit)s

-- name: record_in_bulk$
-- The bulk path's second step, for one `entity`, in two uses:
-- * `renamed_category` NULL: one `created` entry for each row of the ledger that has no entry yet
--   (rows a bulk load wrote: COPY, INSERT ... SELECT);
-- * `op` given, for the transactions `ids` only (an import's): `created` (their first entry),
--   `updated` (linked to a bank line: their shape as it is on both sides) or `deleted` (written
--   before the rows are deleted: `before` is their shape);
-- * `renamed_category` a category id: one `updated` entry for each transaction, budget or
--   recurring rule of that category, whose REST shape shows the category's name: renamed from
--   `old_name` (its `before` is its `after` with that name), so that sync clients get them anew.
-- In id order, unnumbered like every entry (numbered at COMMIT, migration 0016); answers how
-- many. `after` is the entity's REST
-- shape as services/changes/shapes.py renders it, here in SQL so that a million rows never
-- leave the database (tests/ledgers/test_change_log_shapes.py holds the two equal): money with
-- the ledger currency's `digits` (half up; a transaction's or a recurring rule's own amount with
-- its currency's, from `digits_of`, {code: digits}, when it is not the ledger's `currency`),
-- dates as ISO dates, timestamps in UTC to the millisecond with a `Z`; a transaction's by
-- transaction_image (migration 0024), which record_new_transaction uses too. Only the branch of `entity` reads anything (the others' filters are constant false).
WITH fresh AS (
    SELECT 'transaction' AS entity, t.id,
           transaction_image(t, %(digits)s, %(digits_of)s::jsonb, %(currency)s) AS after
    FROM transactions_shown t
    WHERE %(entity)s = 'transaction' AND t.ledger_id = %(ledger_id)s
      AND (%(ids)s::bigint[] IS NULL OR t.id = ANY(%(ids)s::bigint[]))
      AND (%(renamed_category)s::bigint IS NULL
           OR t.category_id = %(renamed_category)s::bigint
           OR t.id IN (SELECT s.transaction_id FROM transaction_splits s
                       WHERE s.ledger_id = %(ledger_id)s
                         AND s.category_id = %(renamed_category)s::bigint))
    UNION ALL
    SELECT 'category', c.id,
           jsonb_build_object(
               'id', c.id,
               'name', c.name,
               'createdAt', to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
           )
    FROM categories c
    WHERE %(entity)s = 'category' AND c.ledger_id = %(ledger_id)s
      AND %(renamed_category)s::bigint IS NULL
    UNION ALL
    SELECT 'budget', b.id,
           jsonb_build_object(
               'id', b.id,
               'categoryId', b.category_id,
               'category', c.name,
               'amount', round(b.amount, %(digits)s)::text,
               'month', b.month,
               'year', b.year,
               'mode', b.mode,
               'alertThreshold', b.alert_threshold,
               'rollover', b.rollover,
               'createdAt', to_char(b.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
           )
    FROM budgets b
    LEFT JOIN categories c ON c.ledger_id = b.ledger_id AND c.id = b.category_id
    WHERE %(entity)s = 'budget' AND b.ledger_id = %(ledger_id)s
      AND (%(renamed_category)s::bigint IS NULL OR b.category_id = %(renamed_category)s::bigint)
    UNION ALL
    SELECT 'recurring', r.id,
           jsonb_build_object(
               'id', r.id,
               'amount', round(r.amount, coalesce((%(digits_of)s::jsonb ->> r.currency)::int,
                                                  %(digits)s))::text,
               'currency', coalesce(r.currency, %(currency)s),
               'type', r.type,
               'categoryId', r.category_id,
               'category', c.name,
               'description', r.description,
               'frequency', r.frequency,
               'interval', r.repeat_interval,
               'byWeekday', to_jsonb(r.by_weekday),
               'byMonthDay', r.by_month_day,
               'startDate', to_char(r.start_date, 'YYYY-MM-DD'),
               'endDate', to_char(r.end_date, 'YYYY-MM-DD'),
               'count', r.max_occurrences,
               'paused', r.paused,
               'pausedReason', r.paused_reason,
               'nextDate', to_char(r.next_date, 'YYYY-MM-DD'),
               'failures', r.failures,
               'retryAt', to_char(r.retry_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'lastError', r.last_error,
               'createdAt', to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
           )
    FROM recurring_rules r
    JOIN categories c ON c.ledger_id = r.ledger_id AND c.id = r.category_id
    WHERE %(entity)s = 'recurring' AND r.ledger_id = %(ledger_id)s
      AND (%(renamed_category)s::bigint IS NULL OR r.category_id = %(renamed_category)s::bigint)
), chosen AS (
    SELECT f.id, f.after, row_number() OVER (ORDER BY f.id) AS position
    FROM fresh f
    WHERE %(renamed_category)s::bigint IS NOT NULL OR %(op)s::text IS NOT NULL
       OR NOT EXISTS (SELECT 1 FROM ledger_changes e
                      WHERE e.ledger_id = %(ledger_id)s AND e.entity = f.entity
                        AND e.entity_id = f.id)
), entries AS (
    INSERT INTO ledger_changes
        (ledger_id, actor_id, actor_name, via, request_id, entity, entity_id, op, before, after)
    SELECT %(ledger_id)s, %(actor_id)s,
           (SELECT name FROM users WHERE id = %(actor_id)s),
           %(via)s, %(request_id)s, %(entity)s, u.id,
           coalesce(%(op)s::text,
                    CASE WHEN %(renamed_category)s::bigint IS NULL THEN 'created' ELSE 'updated' END),
           CASE WHEN %(op)s::text IN ('updated', 'deleted') THEN u.after
                WHEN %(renamed_category)s::bigint IS NULL THEN NULL
                WHEN %(entity)s <> 'transaction'
                THEN u.after || jsonb_build_object('category', %(old_name)s::text)
                -- A transaction shows the name as its category's or as some lines'.
                ELSE u.after || jsonb_build_object(
                    'category', CASE WHEN (u.after ->> 'categoryId')::bigint
                                          = %(renamed_category)s::bigint
                                     THEN to_jsonb(%(old_name)s::text)
                                     ELSE u.after -> 'category' END,
                    'splits', (SELECT coalesce(jsonb_agg(
                                   CASE WHEN (l ->> 'categoryId')::bigint
                                             = %(renamed_category)s::bigint
                                        THEN l || jsonb_build_object('category', %(old_name)s::text)
                                        ELSE l END ORDER BY n), '[]'::jsonb)
                               FROM jsonb_array_elements(u.after -> 'splits')
                                    WITH ORDINALITY AS x(l, n)))
           END,
           CASE WHEN %(op)s::text = 'deleted' THEN NULL ELSE u.after END
    FROM chosen u
    ORDER BY u.position
    RETURNING 1
)
SELECT count(*) FROM entries

-- name: record_rates$
-- One entry per rate a write created or changed (arrays of one length: the rows' ids, their
-- currency, day and rate now, and their rate before, NULL for a created one), in the arrays'
-- order, unnumbered like every entry (numbered at COMMIT, migration 0016); answers how many.
-- The images are the rate's REST shape, rendered here as services/changes/shapes.py's "rate"
-- (a test holds them equal): {"currency", "date", "rate"} with the rate in plain notation
-- without trailing zeros (trim_scale). A rate makes no webhook event.
WITH changed AS (
    SELECT c.id, c.currency, c.day, c.rate, c.old_rate, c.n
    FROM unnest(%(ids)s::bigint[], %(currencies)s::text[], %(days)s::date[],
                %(rates)s::numeric[], %(old_rates)s::numeric[])
         WITH ORDINALITY AS c(id, currency, day, rate, old_rate, n)
), entries AS (
    INSERT INTO ledger_changes
        (ledger_id, actor_id, actor_name, via, request_id, entity, entity_id, op, before, after)
    SELECT %(ledger_id)s, %(actor_id)s,
           (SELECT name FROM users WHERE id = %(actor_id)s),
           %(via)s, %(request_id)s, 'rate', c.id,
           CASE WHEN c.old_rate IS NULL THEN 'created' ELSE 'updated' END,
           CASE WHEN c.old_rate IS NOT NULL
                THEN jsonb_build_object('currency', c.currency,
                                        'date', to_char(c.day, 'YYYY-MM-DD'),
                                        'rate', trim_scale(c.old_rate)::text)
           END,
           jsonb_build_object('currency', c.currency, 'date', to_char(c.day, 'YYYY-MM-DD'),
                              'rate', trim_scale(c.rate)::text)
    FROM changed c
    ORDER BY c.n
    RETURNING 1
)
SELECT count(*) FROM entries
