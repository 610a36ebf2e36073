-- Back to before system roles. Refused while an account is disabled: dropping disabled_at would
-- let it log in again, silently. Enable it (or delete it) first.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM users WHERE disabled_at IS NOT NULL) THEN
        RAISE EXCEPTION 'cannot roll back 0009: % account(s) are disabled and would be enabled '
            'again; enable them first (PATCH /api/admin/users/{id} with disabled false)',
            (SELECT count(*) FROM users WHERE disabled_at IS NOT NULL);
    END IF;
END
$$;

UPDATE auth_sessions SET revoked_reason = 'logout' WHERE revoked_reason = 'account_disabled';
ALTER TABLE auth_sessions DROP CONSTRAINT auth_sessions_revoked_reason_check;
ALTER TABLE auth_sessions ADD CONSTRAINT auth_sessions_revoked_reason_check
    CHECK (revoked_reason IN ('logout', 'refresh_reuse'));

ALTER TABLE users
    DROP COLUMN disabled_at,
    DROP COLUMN last_login_at;
