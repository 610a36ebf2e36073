-- Users, their login sessions (one per refresh-token family) and the failed-login counters.
-- depends:

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    email         text        NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    password_hash text        NOT NULL,
    role          text        NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    currency      char(3)     NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    timezone      text        NOT NULL DEFAULT 'UTC',
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Emails are unique regardless of case.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- A session is what one login started: the access and refresh tokens it issues carry its id.
-- Rotating a refresh token replaces refresh_jti; logout or a reused refresh token revokes it.
CREATE TABLE auth_sessions (
    user_id        bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id             uuid        NOT NULL,
    refresh_jti    uuid        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    refreshed_at   timestamptz,
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoked_reason text CHECK (revoked_reason IN ('logout', 'refresh_reuse')),
    PRIMARY KEY (user_id, id)
);

CREATE INDEX auth_sessions_expires_at_idx ON auth_sessions (expires_at);

-- Failed logins per key ('email:<address>' or 'address:<ip>') within a sliding window.
CREATE TABLE login_throttle (
    key               text        PRIMARY KEY,
    failures          integer     NOT NULL CHECK (failures > 0),
    window_started_at timestamptz NOT NULL
);
