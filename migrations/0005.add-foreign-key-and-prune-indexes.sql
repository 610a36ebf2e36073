-- Indexes that foreign keys and the prune queries need (issue 11).
-- depends: 0004.create-period-totals

-- Deleting a category cascades to its totals rows: without an index leading with the foreign
-- key's columns, each delete scans every totals row of the user (the primary keys lead with
-- user_id and then the month or day, not the category).
CREATE INDEX monthly_totals_user_category_idx ON monthly_totals (user_id, category_id);
CREATE INDEX daily_totals_user_category_idx ON daily_totals (user_id, category_id);

-- `expense-api prune` deletes sessions revoked over a day ago (sql/auth_sessions.sql
-- delete_expired; expires_at has its index already) and stale login counters
-- (sql/login_throttle.sql delete_stale). Partial: most sessions are never revoked, and only the
-- revoked ones are looked up by revoked_at.
CREATE INDEX auth_sessions_revoked_at_idx ON auth_sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX login_throttle_window_started_at_idx ON login_throttle (window_started_at);
