-- name: lease$
-- Takes `amount` more of a key's allowance in one window (a process's block, spent locally:
-- services/ratelimits.py) and answers how much all processes have taken now, this block
-- included. One atomic statement, run in a transaction of its own: the row lock lasts for this
-- statement only, so a busy account's requests never queue on it.
INSERT INTO rate_limit_counters AS c (key, window_start, used)
VALUES (%(key)s, %(window_start)s, %(amount)s::bigint)
ON CONFLICT (key, window_start) DO UPDATE SET used = c.used + excluded.used
RETURNING used

-- name: delete_stale!
-- Windows that have ended (housekeeping): a window is only ever read while it runs.
DELETE FROM rate_limit_counters
WHERE window_start < now() - make_interval(secs => %(window_seconds)s::int)
