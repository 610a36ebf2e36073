-- System roles: an admin may disable an account (disabled_at set: its sessions end and it cannot
-- log in until re-enabled) and sees when each user last logged in. `role` (user|admin) exists
-- since 0001. Sessions ended by disabling their user say so in revoked_reason.
-- depends: 0008.ledger-invitations

ALTER TABLE users
    ADD COLUMN disabled_at   timestamptz,
    ADD COLUMN last_login_at timestamptz;

ALTER TABLE auth_sessions DROP CONSTRAINT auth_sessions_revoked_reason_check;
ALTER TABLE auth_sessions ADD CONSTRAINT auth_sessions_revoked_reason_check
    CHECK (revoked_reason IN ('logout', 'refresh_reuse', 'account_disabled'));
