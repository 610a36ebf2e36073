-- name: fire
-- Fires the alerts that spending reaches for budgets (migration 0024, fire_budget_alerts: the
-- one place that rule is written): arrays of one length, each budget with what its month
-- spends, what it has available and its threshold. The alerts it recorded; one that had fired
-- before is not recorded again.
SELECT * FROM fire_budget_alerts(%(ledger_id)s, %(budget_ids)s::bigint[], %(spent)s::numeric[],
                                 %(available)s::numeric[], %(thresholds)s::smallint[])

-- name: insert_recurring_skipped^
-- A recurring rule's occurrence that a hard budget refused: one alert per skipped occurrence.
INSERT INTO alerts (ledger_id, budget_id, kind, percent_used, recurring_id)
VALUES (%(ledger_id)s, %(budget_id)s, 'recurring_skipped', %(percent_used)s, %(recurring_id)s)
RETURNING id, ledger_id, budget_id, kind, percent_used, recurring_id, created_at,
          NULL::timestamptz AS read_at

-- name: list_page
-- The ledger's alerts as one member sees them (read_at: when that member read it), newest first
-- (by id, which grows with time), optionally only those unread, after a keyset cursor.
SELECT a.id, a.ledger_id, a.budget_id, a.kind, a.percent_used, a.recurring_id, a.created_at,
       r.read_at
FROM alerts a
LEFT JOIN alert_reads r
  ON r.ledger_id = a.ledger_id AND r.alert_id = a.id AND r.user_id = %(user_id)s
WHERE a.ledger_id = %(ledger_id)s
  AND (NOT %(unread_only)s::boolean OR r.read_at IS NULL)
  AND (%(before_id)s::bigint IS NULL OR a.id < %(before_id)s::bigint)
ORDER BY a.id DESC
LIMIT %(limit)s

-- name: mark_read^
-- Marks an alert read for one member; reading it again keeps their first read time. No row: no
-- such alert in the ledger.
WITH alert AS (
    SELECT id, ledger_id, budget_id, kind, percent_used, recurring_id, created_at
    FROM alerts
    WHERE ledger_id = %(ledger_id)s AND id = %(id)s
), marked AS (
    INSERT INTO alert_reads AS r (ledger_id, alert_id, user_id)
    SELECT ledger_id, id, %(user_id)s FROM alert
    ON CONFLICT (ledger_id, alert_id, user_id) DO UPDATE SET read_at = r.read_at
    RETURNING alert_id, read_at
)
SELECT a.id, a.ledger_id, a.budget_id, a.kind, a.percent_used, a.recurring_id, a.created_at,
       m.read_at
FROM alert a
JOIN marked m ON m.alert_id = a.id

-- name: list_page_across_ledgers
-- The alerts of every ledger the user belongs to with one of `roles`, as they see them (read_at:
-- when they read it), newest first (alert ids are unique across ledgers and grow with time),
-- optionally only those unread, after a keyset cursor.
SELECT a.id, a.ledger_id, a.budget_id, a.kind, a.percent_used, a.recurring_id, a.created_at,
       r.read_at
FROM ledger_members m
JOIN alerts a ON a.ledger_id = m.ledger_id
LEFT JOIN alert_reads r
  ON r.ledger_id = a.ledger_id AND r.alert_id = a.id AND r.user_id = m.user_id
WHERE m.user_id = %(user_id)s
  AND m.role = ANY(%(roles)s::text[])
  AND (NOT %(unread_only)s::boolean OR r.read_at IS NULL)
  AND (%(before_id)s::bigint IS NULL OR a.id < %(before_id)s::bigint)
ORDER BY a.id DESC
LIMIT %(limit)s

-- name: mark_read_in_any_ledger^
-- Marks an alert of any ledger the user belongs to with one of `roles` read for them; reading it
-- again keeps their first read time. No row: no such alert in their ledgers.
WITH alert AS (
    SELECT a.id, a.ledger_id, a.budget_id, a.kind, a.percent_used, a.recurring_id, a.created_at
    FROM ledger_members m
    JOIN alerts a ON a.ledger_id = m.ledger_id AND a.id = %(id)s
    WHERE m.user_id = %(user_id)s AND m.role = ANY(%(roles)s::text[])
), marked AS (
    INSERT INTO alert_reads AS r (ledger_id, alert_id, user_id)
    SELECT ledger_id, id, %(user_id)s FROM alert
    ON CONFLICT (ledger_id, alert_id, user_id) DO UPDATE SET read_at = r.read_at
    RETURNING alert_id, read_at
)
SELECT a.id, a.ledger_id, a.budget_id, a.kind, a.percent_used, a.recurring_id, a.created_at,
       m.read_at
FROM alert a
JOIN marked m ON m.alert_id = a.id
