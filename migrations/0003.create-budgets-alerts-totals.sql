-- Budgets, their alerts, and exact per-user totals kept by a trigger in every write's transaction.
-- depends: 0002.create-categories-transactions

-- One budget per (user, year, month, category); category NULL is the overall budget, and NULLS
-- NOT DISTINCT makes that one row too, so the API's upsert has a single conflict target.
CREATE TABLE budgets (
    user_id         bigint        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id              bigint        GENERATED ALWAYS AS IDENTITY,
    category_id     bigint,
    year            smallint      NOT NULL CHECK (year BETWEEN 1900 AND 2999),
    month           smallint      NOT NULL CHECK (month BETWEEN 1 AND 12),
    amount          numeric(18,4) NOT NULL CHECK (amount > 0),
    mode            text          NOT NULL DEFAULT 'hard' CHECK (mode IN ('hard', 'soft')),
    alert_threshold smallint      NOT NULL DEFAULT 80 CHECK (alert_threshold BETWEEN 1 AND 100),
    created_at      timestamptz   NOT NULL DEFAULT now(),
    updated_at      timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, id),
    FOREIGN KEY (user_id, category_id) REFERENCES categories (user_id, id) ON DELETE RESTRICT,
    CONSTRAINT budgets_scope_key UNIQUE NULLS NOT DISTINCT (user_id, year, month, category_id)
);

-- For the foreign key check when a category is deleted.
CREATE INDEX budgets_user_category_idx ON budgets (user_id, category_id);

-- Each (budget, kind) fires once: budgets are per month, so once per month.
CREATE TABLE alerts (
    user_id      bigint        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id           bigint        GENERATED ALWAYS AS IDENTITY,
    budget_id    bigint        NOT NULL,
    kind         text          NOT NULL CHECK (kind IN ('threshold', 'limit')),
    percent_used numeric       NOT NULL CHECK (percent_used >= 0),
    created_at   timestamptz   NOT NULL DEFAULT now(),
    read_at      timestamptz,
    PRIMARY KEY (user_id, id),
    FOREIGN KEY (user_id, budget_id) REFERENCES budgets (user_id, id) ON DELETE CASCADE,
    UNIQUE (user_id, budget_id, kind)
);

CREATE INDEX alerts_user_unread_idx ON alerts (user_id, id DESC) WHERE read_at IS NULL;

-- Sums of transactions per user, category, type and month / day. Budget enforcement reads what a
-- month has spent from monthly_totals; analytics read whole months from monthly_totals and the
-- partial months at a range's edges from daily_totals, so their cost does not grow with the
-- number of transactions. The trigger below keeps both exact in the writing transaction.
CREATE TABLE monthly_totals (
    user_id     bigint   NOT NULL,
    month       date     NOT NULL CHECK (extract(day FROM month) = 1),
    category_id bigint   NOT NULL,
    type        text     NOT NULL CHECK (type IN ('INCOME', 'EXPENSE')),
    amount      numeric  NOT NULL CHECK (amount >= 0),
    tx_count    bigint   NOT NULL CHECK (tx_count >= 0),
    PRIMARY KEY (user_id, month, category_id, type),
    FOREIGN KEY (user_id, category_id) REFERENCES categories (user_id, id) ON DELETE CASCADE
);

CREATE TABLE daily_totals (
    user_id     bigint   NOT NULL,
    day         date     NOT NULL,
    category_id bigint   NOT NULL,
    type        text     NOT NULL CHECK (type IN ('INCOME', 'EXPENSE')),
    amount      numeric  NOT NULL CHECK (amount >= 0),
    tx_count    bigint   NOT NULL CHECK (tx_count >= 0),
    PRIMARY KEY (user_id, day, category_id, type),
    FOREIGN KEY (user_id, category_id) REFERENCES categories (user_id, id) ON DELETE CASCADE
);

CREATE FUNCTION bump_monthly_total(p_user bigint, p_day date, p_category bigint, p_type text,
                                   p_amount numeric, p_count integer) RETURNS void
LANGUAGE sql AS $$
    -- A decrement updates the row the matching increment made. (It cannot go through the upsert:
    -- CHECK constraints are tested on the proposed row before ON CONFLICT is considered.)
    UPDATE monthly_totals
    SET amount = amount + p_amount, tx_count = tx_count + p_count
    WHERE p_count < 0
      AND user_id = p_user AND month = date_trunc('month', p_day)::date AND category_id = p_category AND type = p_type;

    INSERT INTO monthly_totals AS t (user_id, month, category_id, type, amount, tx_count)
    SELECT p_user, date_trunc('month', p_day)::date, p_category, p_type, p_amount, p_count
    WHERE p_count > 0
    ON CONFLICT (user_id, month, category_id, type) DO UPDATE
    SET amount = t.amount + EXCLUDED.amount, tx_count = t.tx_count + EXCLUDED.tx_count;
$$;

CREATE FUNCTION bump_daily_total(p_user bigint, p_day date, p_category bigint, p_type text,
                                 p_amount numeric, p_count integer) RETURNS void
LANGUAGE sql AS $$
    -- A decrement updates the row the matching increment made. (It cannot go through the upsert:
    -- CHECK constraints are tested on the proposed row before ON CONFLICT is considered.)
    UPDATE daily_totals
    SET amount = amount + p_amount, tx_count = tx_count + p_count
    WHERE p_count < 0
      AND user_id = p_user AND day = p_day AND category_id = p_category AND type = p_type;

    INSERT INTO daily_totals AS t (user_id, day, category_id, type, amount, tx_count)
    SELECT p_user, p_day, p_category, p_type, p_amount, p_count
    WHERE p_count > 0
    ON CONFLICT (user_id, day, category_id, type) DO UPDATE
    SET amount = t.amount + EXCLUDED.amount, tx_count = t.tx_count + EXCLUDED.tx_count;
$$;

-- Row locks on totals are always taken in one global order, monthly rows before daily rows and
-- each level by key, so two writers (say, an update moving a transaction between days and an
-- insert) can never deadlock on them.
--
-- A bulk load (the demo seeder) may set expense_api.defer_totals = 'on' for its own transaction
-- (SET LOCAL) and rebuild the totals of the users it loaded before committing (sql/totals.sql);
-- nothing else sets it.
CREATE FUNCTION keep_transaction_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('expense_api.defer_totals', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM bump_monthly_total(NEW.user_id, NEW.occurred_on, NEW.category_id, NEW.type, NEW.amount, 1);
        PERFORM bump_daily_total(NEW.user_id, NEW.occurred_on, NEW.category_id, NEW.type, NEW.amount, 1);
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM bump_monthly_total(OLD.user_id, OLD.occurred_on, OLD.category_id, OLD.type, -OLD.amount, -1);
        PERFORM bump_daily_total(OLD.user_id, OLD.occurred_on, OLD.category_id, OLD.type, -OLD.amount, -1);
        RETURN NULL;
    END IF;
    IF (OLD.occurred_on, OLD.category_id, OLD.type, OLD.amount)
       IS NOT DISTINCT FROM (NEW.occurred_on, NEW.category_id, NEW.type, NEW.amount) THEN
        RETURN NULL;  -- only the description changed
    END IF;
    -- Each level in its own key order (a month key and a day key can sort differently).
    IF (date_trunc('month', OLD.occurred_on), OLD.category_id, OLD.type)
       <= (date_trunc('month', NEW.occurred_on), NEW.category_id, NEW.type) THEN
        PERFORM bump_monthly_total(OLD.user_id, OLD.occurred_on, OLD.category_id, OLD.type, -OLD.amount, -1);
        PERFORM bump_monthly_total(NEW.user_id, NEW.occurred_on, NEW.category_id, NEW.type, NEW.amount, 1);
    ELSE
        PERFORM bump_monthly_total(NEW.user_id, NEW.occurred_on, NEW.category_id, NEW.type, NEW.amount, 1);
        PERFORM bump_monthly_total(OLD.user_id, OLD.occurred_on, OLD.category_id, OLD.type, -OLD.amount, -1);
    END IF;
    IF (OLD.occurred_on, OLD.category_id, OLD.type) <= (NEW.occurred_on, NEW.category_id, NEW.type) THEN
        PERFORM bump_daily_total(OLD.user_id, OLD.occurred_on, OLD.category_id, OLD.type, -OLD.amount, -1);
        PERFORM bump_daily_total(NEW.user_id, NEW.occurred_on, NEW.category_id, NEW.type, NEW.amount, 1);
    ELSE
        PERFORM bump_daily_total(NEW.user_id, NEW.occurred_on, NEW.category_id, NEW.type, NEW.amount, 1);
        PERFORM bump_daily_total(OLD.user_id, OLD.occurred_on, OLD.category_id, OLD.type, -OLD.amount, -1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER transactions_keep_totals
AFTER INSERT OR UPDATE OR DELETE ON transactions
FOR EACH ROW EXECUTE FUNCTION keep_transaction_totals();

-- Transactions recorded before this migration are counted once, here.
INSERT INTO monthly_totals (user_id, month, category_id, type, amount, tx_count)
SELECT user_id, date_trunc('month', occurred_on)::date, category_id, type, sum(amount), count(*)
FROM transactions GROUP BY 1, 2, 3, 4;

INSERT INTO daily_totals (user_id, day, category_id, type, amount, tx_count)
SELECT user_id, occurred_on, category_id, type, sum(amount), count(*)
FROM transactions GROUP BY 1, 2, 3, 4;
