-- name: insert!
-- One event in an account's security history (services/auth/events.py lists the kinds).
INSERT INTO security_events (user_id, kind, address, user_agent, session_id, detail)
VALUES (%(user_id)s, %(kind)s, %(address)s, %(user_agent)s, %(session_id)s, %(detail)s)

-- name: page
-- An account's events, newest first, after a keyset cursor (the id of the last one seen).
SELECT id, at, kind, address, user_agent, session_id, detail
FROM security_events
WHERE user_id = %(user_id)s
  AND (%(before_id)s::bigint IS NULL OR id < %(before_id)s::bigint)
ORDER BY id DESC
LIMIT %(limit)s

-- name: delete_older_than!
-- Housekeeping: events past SECURITY_EVENTS_DAYS go.
DELETE FROM security_events WHERE at < now() - make_interval(days => %(days)s::int)
