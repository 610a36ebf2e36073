-- name: count_for_ledger$
-- How many endpoints the ledger has (the per-ledger limit; the caller holds the ledger's row lock).
SELECT count(*) FROM webhook_endpoints WHERE ledger_id = %(ledger_id)s

-- name: insert^
INSERT INTO webhook_endpoints (ledger_id, url, events, description, secret)
VALUES (%(ledger_id)s, %(url)s, %(events)s, %(description)s, %(secret)s)
RETURNING id, ledger_id, url, events, description, disabled_at IS NULL AS enabled,
          disabled_at, disabled_reason, created_at

-- name: list_for_ledger
SELECT id, ledger_id, url, events, description, disabled_at IS NULL AS enabled,
       disabled_at, disabled_reason, created_at
FROM webhook_endpoints
WHERE ledger_id = %(ledger_id)s
ORDER BY id

-- name: get^
SELECT id, ledger_id, url, events, description, disabled_at IS NULL AS enabled,
       disabled_at, disabled_reason, created_at
FROM webhook_endpoints
WHERE ledger_id = %(ledger_id)s AND id = %(id)s

-- name: get_for_update^
-- As get, locked until the end of the transaction (a change's `before` in the change log).
SELECT id, ledger_id, url, events, description, disabled_at IS NULL AS enabled,
       disabled_at, disabled_reason, created_at
FROM webhook_endpoints
WHERE ledger_id = %(ledger_id)s AND id = %(id)s
FOR NO KEY UPDATE

-- name: update^
-- Changes what is given (NULL: unchanged). enabled = true re-enables a disabled endpoint and
-- forgets its failures; enabled = false disables it (by its owner).
UPDATE webhook_endpoints
SET url = COALESCE(%(url)s::text, url),
    events = COALESCE(%(events)s::text[], events),
    description = COALESCE(%(description)s::text, description),
    disabled_at = CASE WHEN %(enabled)s::boolean IS NULL THEN disabled_at
                       WHEN %(enabled)s::boolean THEN NULL
                       ELSE COALESCE(disabled_at, now()) END,
    disabled_reason = CASE WHEN %(enabled)s::boolean IS NULL THEN disabled_reason
                           WHEN %(enabled)s::boolean THEN NULL
                           ELSE COALESCE(disabled_reason, 'disabled by an owner') END,
    failing_since = CASE WHEN %(enabled)s::boolean THEN NULL ELSE failing_since END
WHERE ledger_id = %(ledger_id)s AND id = %(id)s
RETURNING id, ledger_id, url, events, description, disabled_at IS NULL AS enabled,
          disabled_at, disabled_reason, created_at

-- name: delete^
-- Its deliveries go with it (ON DELETE CASCADE); the events stay for the other endpoints.
-- Returns what was deleted, as get showed it.
DELETE FROM webhook_endpoints WHERE ledger_id = %(ledger_id)s AND id = %(id)s
RETURNING id, ledger_id, url, events, description, disabled_at IS NULL AS enabled,
          disabled_at, disabled_reason, created_at

-- name: rotate_secret^
-- The new secret signs from now on; the current one keeps signing beside it until `until`.
UPDATE webhook_endpoints
SET previous_secret = secret, previous_secret_until = %(until)s, secret = %(secret)s
WHERE ledger_id = %(ledger_id)s AND id = %(id)s
RETURNING id, ledger_id, url, events, description, disabled_at IS NULL AS enabled,
          disabled_at, disabled_reason, created_at

-- name: record_event!
-- The outbox, in the caller's transaction: one event and one delivery per enabled endpoint of
-- the ledger subscribed to its type; nothing at all when there is none (the common case costs
-- one primary-key range read of the ledger's few endpoints). Answers how many deliveries.
WITH targets AS (
    SELECT id FROM webhook_endpoints
    WHERE ledger_id = %(ledger_id)s AND disabled_at IS NULL AND %(type)s::text = ANY(events)
), event AS (
    INSERT INTO webhook_events (ledger_id, type, data)
    SELECT %(ledger_id)s, %(type)s, %(data)s
    WHERE EXISTS (SELECT 1 FROM targets)
    RETURNING ledger_id, id
)
INSERT INTO webhook_deliveries (ledger_id, endpoint_id, event_id)
SELECT event.ledger_id, targets.id, event.id FROM event CROSS JOIN targets

-- name: claim_due
-- The delivery job starts a lane per endpoint: it takes the most overdue pending delivery of each
-- endpoint that has one due and no lane in this process yet (`busy_*`: the endpoints whose lanes
-- run), at most `per_ledger` lanes a ledger (its running ones counted), ledgers taking turns: each
-- ledger's first endpoint before any ledger's second, so one tenant's backlog or slow receivers
-- never hold every lane; the `limit` first of those, skipping rows another job holds. It counts
-- each attempt and pushes its next_attempt_at to `lease_until`: the attempt's lease. The caller
-- commits at once, so no row lock is held during the HTTP call; a job that dies mid-attempt
-- leaves the row due again when the lease ends (delivered at least once).
WITH busy AS (
    SELECT ledger_id, endpoint_id
    FROM unnest(%(busy_ledger_ids)s::bigint[], %(busy_endpoint_ids)s::bigint[])
         AS busy (ledger_id, endpoint_id)
), load AS (
    SELECT ledger_id, count(*) AS lanes FROM busy GROUP BY ledger_id
), heads AS (
    SELECT DISTINCT ON (ledger_id, endpoint_id) ledger_id, id, next_attempt_at
    FROM webhook_deliveries d
    WHERE status = 'pending' AND next_attempt_at <= %(now)s::timestamptz
      AND NOT EXISTS (
          SELECT 1 FROM busy WHERE busy.ledger_id = d.ledger_id AND busy.endpoint_id = d.endpoint_id)
    ORDER BY ledger_id, endpoint_id, next_attempt_at, id
), turns AS (
    SELECT h.ledger_id, h.id, h.next_attempt_at,
           COALESCE(l.lanes, 0)
           + row_number() OVER (PARTITION BY h.ledger_id ORDER BY h.next_attempt_at, h.id) AS turn
    FROM heads h LEFT JOIN load l ON l.ledger_id = h.ledger_id
), due AS (
    SELECT d.ledger_id, d.id
    FROM (SELECT ledger_id, id FROM turns WHERE turn <= %(per_ledger)s
          ORDER BY turn, next_attempt_at, ledger_id, id
          LIMIT %(limit)s) h
    JOIN webhook_deliveries d ON d.ledger_id = h.ledger_id AND d.id = h.id
    WHERE d.status = 'pending' AND d.next_attempt_at <= %(now)s::timestamptz
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1, next_attempt_at = %(lease_until)s
FROM due, webhook_endpoints w, webhook_events e
WHERE d.ledger_id = due.ledger_id AND d.id = due.id
  AND w.ledger_id = d.ledger_id AND w.id = d.endpoint_id
  AND e.ledger_id = d.ledger_id AND e.id = d.event_id
RETURNING d.ledger_id, d.id, d.endpoint_id, d.attempts, w.url, w.secret, w.previous_secret,
          w.previous_secret_until, w.disabled_at IS NOT NULL AS endpoint_disabled,
          e.message_id, e.type, e.data, e.created_at AS event_created_at

-- name: claim_next^
-- A lane's next delivery: its endpoint's most overdue due one (oldest first, so the receiver sees
-- them in order), claimed and leased as claim_due does.
WITH due AS (
    SELECT ledger_id, id FROM webhook_deliveries
    WHERE ledger_id = %(ledger_id)s AND endpoint_id = %(endpoint_id)s
      AND status = 'pending' AND next_attempt_at <= %(now)s::timestamptz
    ORDER BY next_attempt_at, id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1, next_attempt_at = %(lease_until)s
FROM due, webhook_endpoints w, webhook_events e
WHERE d.ledger_id = due.ledger_id AND d.id = due.id
  AND w.ledger_id = d.ledger_id AND w.id = d.endpoint_id
  AND e.ledger_id = d.ledger_id AND e.id = d.event_id
RETURNING d.ledger_id, d.id, d.endpoint_id, d.attempts, w.url, w.secret, w.previous_secret,
          w.previous_secret_until, w.disabled_at IS NOT NULL AS endpoint_disabled,
          e.message_id, e.type, e.data, e.created_at AS event_created_at

-- name: finish_attempt!
-- An attempt's outcome. status 'pending' with next_attempt_at: retry then. Only while the row is
-- still pending (a job whose lease ran out may report after another job's success).
UPDATE webhook_deliveries
SET status = %(status)s,
    next_attempt_at = COALESCE(%(next_attempt_at)s, next_attempt_at),
    response_status = %(response_status)s,
    last_error = %(last_error)s,
    finished_at = CASE WHEN %(status)s::text = 'pending' THEN NULL ELSE %(now)s::timestamptz END
WHERE ledger_id = %(ledger_id)s AND id = %(id)s AND status = 'pending'

-- name: note_success!
UPDATE webhook_endpoints SET failing_since = NULL
WHERE ledger_id = %(ledger_id)s AND id = %(id)s AND failing_since IS NOT NULL

-- name: note_failure^
-- Remembers since when the endpoint fails, and disables it once that is `disable_after` ago.
-- Returns the endpoint as `get` shows it after, with what its disabled columns were before
-- (locked first, so they are the ones this update changed: a change of the endpoint's REST shape
-- when it disables it, for the change log) and the ledger's currency; no row: no such endpoint.
WITH old AS (
    SELECT ledger_id, id, disabled_at, disabled_reason
    FROM webhook_endpoints
    WHERE ledger_id = %(ledger_id)s AND id = %(id)s
    FOR NO KEY UPDATE
)
UPDATE webhook_endpoints w
SET failing_since = COALESCE(w.failing_since, %(now)s::timestamptz),
    disabled_at = CASE WHEN w.disabled_at IS NULL
                        AND COALESCE(w.failing_since, %(now)s) <= %(now)s::timestamptz - %(disable_after)s::interval
                       THEN %(now)s ELSE w.disabled_at END,
    disabled_reason = CASE WHEN w.disabled_at IS NULL
                            AND COALESCE(w.failing_since, %(now)s) <= %(now)s::timestamptz - %(disable_after)s::interval
                           THEN 'failing for too long' ELSE w.disabled_reason END
FROM old
WHERE w.ledger_id = old.ledger_id AND w.id = old.id
RETURNING w.id, w.ledger_id, w.url, w.events, w.description, w.disabled_at IS NULL AS enabled,
          w.disabled_at, w.disabled_reason, w.created_at,
          old.disabled_at AS disabled_at_before, old.disabled_reason AS disabled_reason_before,
          (SELECT currency FROM ledgers l WHERE l.id = w.ledger_id) AS currency

-- name: list_deliveries
-- An endpoint's deliveries, newest first, after a keyset cursor (before_id).
SELECT d.id, e.type AS event, d.status, d.attempts, d.response_status, d.last_error,
       CASE WHEN d.status = 'pending' THEN d.next_attempt_at END AS next_attempt_at,
       d.created_at
FROM webhook_deliveries d
JOIN webhook_events e ON e.ledger_id = d.ledger_id AND e.id = d.event_id
WHERE d.ledger_id = %(ledger_id)s AND d.endpoint_id = %(endpoint_id)s
  AND (%(before_id)s::bigint IS NULL OR d.id < %(before_id)s::bigint)
ORDER BY d.id DESC
LIMIT %(limit)s

-- name: redeliver^
-- Sends a delivery's event to its endpoint again, now: a pending one is made due now; a
-- finished one gets a new pending delivery of the same event (same webhook-id), and keeps its
-- own history. Answers the delivery that will carry it; no row: no such delivery.
WITH target AS (
    SELECT d.ledger_id, d.id, d.endpoint_id, d.event_id, d.status
    FROM webhook_deliveries d
    WHERE d.ledger_id = %(ledger_id)s AND d.endpoint_id = %(endpoint_id)s AND d.id = %(id)s
    FOR UPDATE
), due_now AS (
    UPDATE webhook_deliveries d SET next_attempt_at = %(now)s
    FROM target t
    WHERE t.status = 'pending' AND d.ledger_id = t.ledger_id AND d.id = t.id
    RETURNING d.id, d.event_id, d.status, d.attempts, d.response_status, d.last_error,
              d.next_attempt_at, d.created_at
), again AS (
    INSERT INTO webhook_deliveries (ledger_id, endpoint_id, event_id, next_attempt_at)
    SELECT ledger_id, endpoint_id, event_id, %(now)s FROM target WHERE status <> 'pending'
    RETURNING id, event_id, status, attempts, response_status, last_error, next_attempt_at,
              created_at
)
SELECT r.id, e.type AS event, r.status, r.attempts, r.response_status, r.last_error,
       r.next_attempt_at, r.created_at
FROM (SELECT * FROM due_now UNION ALL SELECT * FROM again) r
JOIN webhook_events e ON e.ledger_id = %(ledger_id)s AND e.id = r.event_id

-- name: delete_expired_events!
-- History is kept for a bounded time: events older than `days` whose deliveries are all finished
-- go, and their deliveries with them (ON DELETE CASCADE).
DELETE FROM webhook_events e
WHERE e.created_at < now() - make_interval(days => %(days)s)
  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                  WHERE d.ledger_id = e.ledger_id AND d.event_id = e.id AND d.status = 'pending')
