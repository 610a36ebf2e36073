-- name: insert^
-- Fires an alert unless this (budget, kind) already fired: no row back means it had.
INSERT INTO alerts (user_id, budget_id, kind, percent_used)
VALUES (%(user_id)s, %(budget_id)s, %(kind)s, %(percent_used)s)
ON CONFLICT (user_id, budget_id, kind) DO NOTHING
RETURNING id, budget_id, kind, percent_used, created_at, read_at

-- name: list_page
-- Newest first (by id, which grows with time), optionally only unread, after a keyset cursor.
SELECT id, budget_id, kind, percent_used, created_at, read_at
FROM alerts
WHERE user_id = %(user_id)s
  AND (NOT %(unread_only)s::boolean OR read_at IS NULL)
  AND (%(before_id)s::bigint IS NULL OR id < %(before_id)s::bigint)
ORDER BY id DESC
LIMIT %(limit)s

-- name: mark_read^
-- Marks an alert read; reading it again keeps the first read time.
UPDATE alerts
SET read_at = COALESCE(read_at, now())
WHERE user_id = %(user_id)s AND id = %(id)s
RETURNING id, budget_id, kind, percent_used, created_at, read_at
