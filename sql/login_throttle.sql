-- name: record_failure$
-- Counts one failed login for a key; a window older than window_seconds starts again at 1.
-- The count after this one (a second factor's attempt is counted first and checked by it).
INSERT INTO login_throttle AS t (key, failures, window_started_at)
VALUES (%(key)s, 1, now())
ON CONFLICT (key) DO UPDATE
SET failures = CASE WHEN t.window_started_at <= now() - make_interval(secs => %(window_seconds)s::int)
                    THEN 1 ELSE t.failures + 1 END,
    window_started_at = CASE WHEN t.window_started_at <= now() - make_interval(secs => %(window_seconds)s::int)
                             THEN now() ELSE t.window_started_at END
RETURNING failures

-- name: seconds_blocked$
-- Seconds until the later of the two keys is allowed again, or NULL when neither is blocked.
SELECT max(ceil(extract(epoch FROM
           t.window_started_at + make_interval(secs => %(window_seconds)s::int) - now())))::int
FROM login_throttle t
WHERE t.window_started_at > now() - make_interval(secs => %(window_seconds)s::int)
  AND ((t.key = %(email_key)s AND t.failures >= %(email_limit)s::int)
    OR (t.key = %(address_key)s AND t.failures >= %(address_limit)s::int))

-- name: clear!
-- A successful login clears the email's counter (not the address's: one good password must not
-- unlock guessing at other accounts from the same address).
DELETE FROM login_throttle WHERE key = %(key)s

-- name: delete_stale!
DELETE FROM login_throttle
WHERE window_started_at <= now() - make_interval(secs => %(window_seconds)s::int)
