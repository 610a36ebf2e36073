-- Back to 0022: no two-factor, session details, access tokens, security events, rate-limit
-- counters or erasure exception.
CREATE OR REPLACE FUNCTION ledger_changes_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.seq IS NULL THEN
        RETURN NEW;
    ELSIF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM ledgers WHERE id = OLD.ledger_id) THEN
        RETURN OLD;
    ELSIF TG_OP = 'UPDATE' AND TG_ARGV[0] = 'seq' AND OLD.seq IS NULL THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the ledger change log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'entries are inserted with seq NULL and numbered at COMMIT';
END;
$$;
DROP INDEX ledger_changes_actor_idx;
DROP TABLE rate_limit_counters;
DROP TABLE security_events;
DROP TABLE personal_access_tokens;
DROP INDEX auth_sessions_live_idx;
UPDATE auth_sessions SET revoked_reason = 'logout'
WHERE revoked_reason IN ('ended', 'password_changed');
ALTER TABLE auth_sessions DROP CONSTRAINT auth_sessions_revoked_reason_check;
ALTER TABLE auth_sessions ADD CONSTRAINT auth_sessions_revoked_reason_check
    CHECK (revoked_reason IN ('logout', 'refresh_reuse', 'account_disabled'));
ALTER TABLE auth_sessions DROP COLUMN last_used_at, DROP COLUMN address, DROP COLUMN user_agent;
DROP TABLE totp_recovery_codes;
ALTER TABLE users DROP CONSTRAINT users_totp_enabled_check,
    DROP COLUMN password_changed_at, DROP COLUMN totp_last_step, DROP COLUMN totp_enabled_at,
    DROP COLUMN totp_pending_secret, DROP COLUMN totp_secret;
