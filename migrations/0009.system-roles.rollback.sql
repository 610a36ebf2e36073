UPDATE auth_sessions SET revoked_reason = 'logout' WHERE revoked_reason = 'account_disabled';
ALTER TABLE auth_sessions DROP CONSTRAINT auth_sessions_revoked_reason_check;
ALTER TABLE auth_sessions ADD CONSTRAINT auth_sessions_revoked_reason_check
    CHECK (revoked_reason IN ('logout', 'refresh_reuse'));

ALTER TABLE users
    DROP COLUMN disabled_at,
    DROP COLUMN last_login_at;
