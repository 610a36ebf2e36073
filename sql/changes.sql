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
