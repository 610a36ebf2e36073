-- Categories and transactions, every row owned by a user; idempotency keys for POSTs.
-- depends: 0001.create-users

-- Primary keys lead with user_id: every lookup is by owner, and the tables can be distributed by
-- user_id (Citus) without changing a key.
CREATE TABLE categories (
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    name       text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100 AND name = btrim(name)),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, id)
);

-- One name per user, whatever its case (names are stored trimmed).
CREATE UNIQUE INDEX categories_user_name_key ON categories (user_id, lower(name));

CREATE TABLE transactions (
    user_id     bigint        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id          bigint        GENERATED ALWAYS AS IDENTITY,
    category_id bigint        NOT NULL,
    type        text          NOT NULL CHECK (type IN ('INCOME', 'EXPENSE')),
    -- Exact money: up to 10^14 with 4 fraction digits (ISO 4217 uses at most 4).
    amount      numeric(18,4) NOT NULL CHECK (amount > 0),
    description text          NOT NULL DEFAULT '' CHECK (char_length(description) <= 500),
    occurred_on date          NOT NULL,
    created_at  timestamptz   NOT NULL DEFAULT now(),
    updated_at  timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, id),
    -- The category must be the same user's: a cross-user reference cannot exist. RESTRICT makes
    -- deleting a category in use an error the API turns into 409 category_in_use.
    FOREIGN KEY (user_id, category_id) REFERENCES categories (user_id, id) ON DELETE RESTRICT
);

-- Newest first within a period, and keyset pagination on (occurred_on, id).
CREATE INDEX transactions_user_date_idx ON transactions (user_id, occurred_on DESC, id DESC);
-- The categoryId filter, and the foreign key check when a category is deleted.
CREATE INDEX transactions_user_category_date_idx
    ON transactions (user_id, category_id, occurred_on DESC, id DESC);

-- Case-insensitive substring search (q) uses a trigram index where pg_trgm is installed (any
-- packaged PostgreSQL); the embedded server has no contrib modules, and there q filters the
-- user's rows found through the indexes above.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE INDEX transactions_description_trgm_idx
            ON transactions USING gin (description gin_trgm_ops);
    END IF;
END
$$;

-- A POST with an Idempotency-Key: the hash of what was asked and the answer that was given.
CREATE TABLE idempotency_keys (
    user_id         bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key             text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    request_hash    bytea       NOT NULL,
    response_status integer,
    response_body   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
