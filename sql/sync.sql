-- name: knowledge$
-- The ledger's knowledge: the seq of its latest committed change, 0 before the first. The commit
-- trigger (migration 0016) raises it in the transaction that numbers the entries, so a snapshot
-- that sees knowledge N sees every entry up to seq N and none after.
SELECT coalesce(
    (SELECT knowledge FROM ledger_generations WHERE ledger_id = %(ledger_id)s), 0
)

-- name: latest_changes
-- Each entity of the kinds given whose latest committed entry comes after `since`, once: that
-- entry (seq, entity, entity_id, op), in seq order, at most `limit`. A walk up
-- ledger_changes_seq_idx from `since`, keeping the entries no later entry of the same entity
-- follows (one probe of ledger_changes_entity_idx each), stopped by the LIMIT: the work is the
-- page and the entries superseded inside it, whatever the size of the log. Entries still
-- unnumbered (seq NULL) are another transaction's, uncommitted: never seen here.
SELECT c.seq, c.entity, c.entity_id, c.op
FROM ledger_changes c
WHERE c.ledger_id = %(ledger_id)s
  AND c.seq > %(since)s::bigint
  AND c.entity = ANY(%(entities)s::text[])
  AND NOT EXISTS (
      SELECT 1 FROM ledger_changes later
      WHERE later.ledger_id = c.ledger_id AND later.entity = c.entity
        AND later.entity_id = c.entity_id AND later.seq > c.seq
  )
ORDER BY c.seq
LIMIT %(limit)s

-- name: ledger^
-- The ledger as GET /api/ledgers/{id} shows it to the member (their role and default flag).
SELECT l.id, l.name, l.currency, l.timezone, m.is_default, m.role, l.created_at
FROM ledger_members m
JOIN ledgers l ON l.id = m.ledger_id
WHERE m.ledger_id = %(ledger_id)s AND m.user_id = %(user_id)s

-- name: members
-- The ledger's members among `ids` (user ids), as GET .../members shows them.
SELECT m.user_id, u.name, u.email, m.role, m.joined_at
FROM ledger_members m
JOIN users u ON u.id = m.user_id
WHERE m.ledger_id = %(ledger_id)s AND m.user_id = ANY(%(ids)s::bigint[])

-- name: categories
-- The ledger's categories among `ids`, as GET /api/categories/{id} shows them.
SELECT id, name, created_at
FROM categories
WHERE ledger_id = %(ledger_id)s AND id = ANY(%(ids)s::bigint[])

-- name: transactions
-- The ledger's transactions among `ids`, as GET /api/transactions/{id} shows them.
SELECT t.id, t.category_id, t.category, t.type, t.amount, t.description, t.occurred_on,
       t.created_at, t.created_by, t.payee, t.tags, t.splits, t.currency, t.rate, t.ledger_amount
FROM transactions_shown t
WHERE t.ledger_id = %(ledger_id)s AND t.id = ANY(%(ids)s::bigint[])

-- name: budgets
-- The ledger's budgets among `ids`, as GET /api/budgets/{id} shows them.
SELECT b.id, b.category_id, c.name AS category, b.year, b.month, b.amount, b.mode,
       b.alert_threshold, b.created_at
FROM budgets b
LEFT JOIN categories c ON c.ledger_id = b.ledger_id AND c.id = b.category_id
WHERE b.ledger_id = %(ledger_id)s AND b.id = ANY(%(ids)s::bigint[])

-- name: recurring
-- The ledger's recurring rules among `ids`, as GET /api/recurring/{id} shows them.
SELECT r.id, r.category_id, c.name AS category, r.type, r.amount, r.description, r.frequency,
       r.repeat_interval, r.by_weekday, r.by_month_day, r.start_date, r.end_date,
       r.max_occurrences, r.paused, r.paused_reason, r.next_date, r.failures, r.retry_at,
       r.last_error, r.created_at
FROM recurring_rules r
JOIN categories c ON c.ledger_id = r.ledger_id AND c.id = r.category_id
WHERE r.ledger_id = %(ledger_id)s AND r.id = ANY(%(ids)s::bigint[])

-- name: rules
-- The ledger's rules among `ids`, as GET /api/ledgers/{id}/rules/{id} shows them (after
-- repositories/rules.shown).
SELECT id, ledger_id, position, match, set_category_id, set_payee, set_tags, created_at
FROM rules
WHERE ledger_id = %(ledger_id)s AND id = ANY(%(ids)s::bigint[])

-- name: rates
-- The ledger's exchange rates among `ids`, as GET .../rates shows them.
SELECT id, currency, day, rate
FROM ledger_rates
WHERE ledger_id = %(ledger_id)s AND id = ANY(%(ids)s::bigint[])

-- name: payees_and_tags
-- The payees and tags whose state a transaction entry with a seq in (since, upto] changed,
-- once each, with the first such seq and their state now: a payee's id, name, how many
-- transactions name it and their latest date; a tag's id, name and how many carry it (count 0:
-- none any more). An entry changes a payee it names before or after when the payee or the date
-- differs between the two (created and deleted entries too: one side is null), and the tags in
-- one of before's and after's lists but not in the other. Payees and tags have no entries of
-- their own: every change of theirs is a transaction's. A walk up ledger_changes_seq_idx over
-- the range, one probe per name found.
WITH named AS (
    SELECT c.seq, 'payee' AS entity, lower(n.name) AS name
    FROM ledger_changes c
    CROSS JOIN LATERAL (VALUES (c.before->>'payee'), (c.after->>'payee')) AS n(name)
    WHERE c.ledger_id = %(ledger_id)s AND c.seq > %(since)s::bigint
      AND c.seq <= %(upto)s::bigint AND c.entity = 'transaction'
      AND n.name IS NOT NULL
      AND ((c.before->>'payee') IS DISTINCT FROM (c.after->>'payee')
           OR (c.before->>'date') IS DISTINCT FROM (c.after->>'date'))
    UNION ALL
    SELECT c.seq, 'tag', n.name
    FROM ledger_changes c
    CROSS JOIN LATERAL (
        (SELECT lower(jsonb_array_elements_text(coalesce(c.before->'tags', '[]')))
         EXCEPT
         SELECT lower(jsonb_array_elements_text(coalesce(c.after->'tags', '[]'))))
        UNION
        (SELECT lower(jsonb_array_elements_text(coalesce(c.after->'tags', '[]')))
         EXCEPT
         SELECT lower(jsonb_array_elements_text(coalesce(c.before->'tags', '[]'))))
    ) AS n(name)
    WHERE c.ledger_id = %(ledger_id)s AND c.seq > %(since)s::bigint
      AND c.seq <= %(upto)s::bigint AND c.entity = 'transaction'
      AND (c.before ? 'tags' OR c.after ? 'tags')
),
firsts AS (
    SELECT entity, name, min(seq) AS seq FROM named GROUP BY entity, name
)
SELECT f.seq, f.entity, p.id, p.name, u.count, u.last_used_on
FROM firsts f
JOIN payees p ON p.ledger_id = %(ledger_id)s AND lower(p.name) = f.name
CROSS JOIN LATERAL (
    SELECT count(*) AS count, max(t.occurred_on) AS last_used_on
    FROM transactions t
    WHERE t.ledger_id = p.ledger_id AND t.payee_id = p.id
) u
WHERE f.entity = 'payee'
UNION ALL
SELECT f.seq, f.entity, g.id, g.name, u.count, NULL
FROM firsts f
JOIN tags g ON g.ledger_id = %(ledger_id)s AND lower(g.name) = f.name
CROSS JOIN LATERAL (
    SELECT count(*) AS count
    FROM transaction_tags tt
    WHERE tt.ledger_id = g.ledger_id AND tt.tag_id = g.id
) u
WHERE f.entity = 'tag'
ORDER BY 1, 2, 3
