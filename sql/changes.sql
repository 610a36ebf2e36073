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
