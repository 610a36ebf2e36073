-- Account security (issue 32, ../shared/API.md "Account security", docs/SECURITY.md): two-factor
-- sign-in, sessions people can see and end, personal access tokens, security events, the shared
-- counters of the per-account and per-address rate limits, and account erasure's one exception
-- to the change log's append-only rule.
-- depends: 0022.change-log-numbering-linear

-- Two-factor sign-in (TOTP). Secrets are Fernet tokens under the same keys as webhook secrets
-- (WEBHOOK_SECRETS_KEY), never plain text. A setup keeps its secret pending until a first code
-- proves the person's app has it; totp_last_step is the last time step whose code was accepted:
-- a code of that step or an earlier one is refused, so each code works once.
ALTER TABLE users
    ADD COLUMN totp_secret          text,
    ADD COLUMN totp_pending_secret  text,
    ADD COLUMN totp_enabled_at      timestamptz,
    ADD COLUMN totp_last_step       bigint,
    ADD COLUMN password_changed_at  timestamptz,
    ADD CONSTRAINT users_totp_enabled_check CHECK ((totp_secret IS NULL) = (totp_enabled_at IS NULL));

-- Ten one-time recovery codes per enabling, stored as SHA-256 digests: each code carries 80
-- random bits, so a slow hash would add nothing but a bcrypt per stored code at login.
CREATE TABLE totp_recovery_codes (
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea       NOT NULL CHECK (octet_length(code_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- Sessions people can list: where they were started and when they were last used (touched at
-- most once a minute, never waiting for a lock), and why they ended.
ALTER TABLE auth_sessions
    ADD COLUMN user_agent   text CHECK (char_length(user_agent) <= 512),
    ADD COLUMN address      text CHECK (char_length(address) <= 64),
    ADD COLUMN last_used_at timestamptz;
UPDATE auth_sessions SET last_used_at = coalesce(refreshed_at, created_at);
ALTER TABLE auth_sessions ALTER COLUMN last_used_at SET DEFAULT now();
ALTER TABLE auth_sessions ALTER COLUMN last_used_at SET NOT NULL;
ALTER TABLE auth_sessions DROP CONSTRAINT auth_sessions_revoked_reason_check;
ALTER TABLE auth_sessions ADD CONSTRAINT auth_sessions_revoked_reason_check
    CHECK (revoked_reason IN ('logout', 'refresh_reuse', 'account_disabled', 'ended',
                              'password_changed'));
CREATE INDEX auth_sessions_live_idx ON auth_sessions (user_id, created_at)
    WHERE revoked_at IS NULL;

-- Personal access tokens for scripts: the token is shown once and kept as its SHA-256 digest
-- (256 random bits: nothing to slow down). The token text carries its user id, so the lookup
-- filters by the tenant key like every other query.
CREATE TABLE personal_access_tokens (
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id           uuid        NOT NULL,
    name         text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    token_hash   bytea       NOT NULL CHECK (octet_length(token_hash) = 32),
    scope        text        NOT NULL CHECK (scope IN ('read', 'write')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    PRIMARY KEY (user_id, id),
    UNIQUE (user_id, token_hash)
);

-- What happened to an account, for its owner to read (GET /api/auth/events): logins, failed
-- logins, two-factor on and off, password changes, sessions and tokens ended. The kinds are
-- listed in services/auth/events.py; here only their shape is checked.
CREATE TABLE security_events (
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    at         timestamptz NOT NULL DEFAULT now(),
    kind       text        NOT NULL CHECK (kind ~ '^[a-z][a-z_]{1,39}$'),
    address    text        CHECK (char_length(address) <= 64),
    user_agent text        CHECK (char_length(user_agent) <= 512),
    session_id uuid,
    detail     jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (user_id, id)
);
CREATE INDEX security_events_at_idx ON security_events (at);

-- Rate limits' counters when PostgreSQL is the shared store (THROTTLE_STORE=postgres): one row
-- per key ('account:<id>', 'address:<ip>') and window. Unlogged: counters are worth no WAL, and
-- a crash or failover that forgets them only gives everyone a fresh window.
CREATE UNLOGGED TABLE rate_limit_counters (
    key          text        NOT NULL,
    window_start timestamptz NOT NULL,
    used         bigint      NOT NULL CHECK (used >= 0),
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limit_counters_window_idx ON rate_limit_counters (window_start);

-- Account erasure replaces the person's name in the change logs of every ledger they acted in:
-- entries found by actor here, not by scanning every ledger's log.
CREATE INDEX ledger_changes_actor_idx ON ledger_changes (actor_id) WHERE actor_id IS NOT NULL;

-- The change log's third exception (0016 named it): inside a transaction that set
-- expense_api.erasing_user (repositories/erasure.py, and nothing else sets it), an UPDATE may
-- rewrite an entry's images and replace its actor's name with 'deleted user' when the actor is
-- that user; which entry it is, when and by whom (the id) and in what order stay as they were.
CREATE OR REPLACE FUNCTION ledger_changes_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_erasing text := current_setting('expense_api.erasing_user', true);
BEGIN
    IF TG_OP = 'INSERT' AND NEW.seq IS NULL THEN
        RETURN NEW;
    ELSIF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM ledgers WHERE id = OLD.ledger_id) THEN
        RETURN OLD;
    ELSIF TG_OP = 'UPDATE' AND TG_ARGV[0] = 'seq' AND OLD.seq IS NULL THEN
        RETURN NEW;
    ELSIF TG_OP = 'UPDATE' AND TG_ARGV[0] = 'other' AND v_erasing ~ '^[1-9][0-9]{0,18}$'
          AND (NEW.ledger_id, NEW.id, NEW.seq, NEW.at, NEW.actor_id, NEW.via, NEW.request_id,
               NEW.entity, NEW.entity_id, NEW.op, NEW.txid)
              IS NOT DISTINCT FROM
              (OLD.ledger_id, OLD.id, OLD.seq, OLD.at, OLD.actor_id, OLD.via, OLD.request_id,
               OLD.entity, OLD.entity_id, OLD.op, OLD.txid)
          AND (NEW.actor_name IS NOT DISTINCT FROM OLD.actor_name
               OR (OLD.actor_id = v_erasing::bigint AND NEW.actor_name = 'deleted user')) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the ledger change log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'entries are inserted with seq NULL and numbered at COMMIT';
END;
$$;
