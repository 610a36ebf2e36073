-- Back to the user as the tenant. Possible only while every ledger is one user's alone and each
-- user has one ledger: then each ledger's rows go back to its only member. Once ledgers are
-- shared there is no owner to give them back to, and the rollback refuses, changing nothing.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM ledger_members GROUP BY ledger_id HAVING count(*) > 1) THEN
        RAISE EXCEPTION 'cannot roll back 0007: % ledger(s) are shared by more than one member; '
            'remove the other members first', (SELECT count(*) FROM (SELECT 1 FROM ledger_members
            GROUP BY ledger_id HAVING count(*) > 1) AS shared);
    END IF;
    IF EXISTS (SELECT 1 FROM ledger_members GROUP BY user_id HAVING count(*) > 1) THEN
        RAISE EXCEPTION 'cannot roll back 0007: some users belong to more than one ledger; '
            'delete their other ledgers first';
    END IF;
    IF EXISTS (SELECT 1 FROM ledgers l
               WHERE NOT EXISTS (SELECT 1 FROM ledger_members m WHERE m.ledger_id = l.id)) THEN
        RAISE EXCEPTION 'cannot roll back 0007: some ledgers have no member to own their rows';
    END IF;
END
$$;

-- Keys that a row-by-row renumbering could trip over midway go first, and come back at the end.
ALTER TABLE transactions DROP CONSTRAINT transactions_ledger_id_category_id_fkey;
ALTER TABLE budgets DROP CONSTRAINT budgets_ledger_id_category_id_fkey;
ALTER TABLE alerts DROP CONSTRAINT alerts_ledger_id_budget_id_fkey;
ALTER TABLE monthly_totals DROP CONSTRAINT monthly_totals_ledger_id_category_id_fkey;
ALTER TABLE daily_totals DROP CONSTRAINT daily_totals_ledger_id_category_id_fkey;
ALTER TABLE categories DROP CONSTRAINT categories_ledger_id_fkey;
ALTER TABLE transactions DROP CONSTRAINT transactions_ledger_id_fkey;
ALTER TABLE budgets DROP CONSTRAINT budgets_ledger_id_fkey;
ALTER TABLE alerts DROP CONSTRAINT alerts_ledger_id_fkey;
DROP INDEX categories_ledger_name_key;
ALTER TABLE budgets DROP CONSTRAINT budgets_scope_key;

-- Read states: the only member's becomes the alert's.
ALTER TABLE alerts ADD COLUMN read_at timestamptz;
UPDATE alerts a SET read_at = r.read_at
FROM alert_reads r WHERE r.ledger_id = a.ledger_id AND r.alert_id = a.id;
DROP TABLE alert_reads;
DROP INDEX alerts_ledger_id_idx;

-- Each ledger's rows to its only member (most ledgers came from 0007 and have the owner's id).
CREATE TEMPORARY TABLE ledger_owner ON COMMIT DROP AS
SELECT ledger_id, user_id FROM ledger_members WHERE ledger_id <> user_id;
UPDATE categories t SET ledger_id = o.user_id FROM ledger_owner o WHERE t.ledger_id = o.ledger_id;
UPDATE transactions t SET ledger_id = o.user_id FROM ledger_owner o WHERE t.ledger_id = o.ledger_id;
UPDATE budgets t SET ledger_id = o.user_id FROM ledger_owner o WHERE t.ledger_id = o.ledger_id;
UPDATE alerts t SET ledger_id = o.user_id FROM ledger_owner o WHERE t.ledger_id = o.ledger_id;
UPDATE monthly_totals t SET ledger_id = o.user_id FROM ledger_owner o WHERE t.ledger_id = o.ledger_id;
UPDATE daily_totals t SET ledger_id = o.user_id FROM ledger_owner o WHERE t.ledger_id = o.ledger_id;

ALTER TABLE categories RENAME COLUMN ledger_id TO user_id;
ALTER TABLE transactions RENAME COLUMN ledger_id TO user_id;
ALTER TABLE budgets RENAME COLUMN ledger_id TO user_id;
ALTER TABLE alerts RENAME COLUMN ledger_id TO user_id;
ALTER TABLE monthly_totals RENAME COLUMN ledger_id TO user_id;
ALTER TABLE daily_totals RENAME COLUMN ledger_id TO user_id;

DROP INDEX transactions_created_by_idx;
ALTER TABLE transactions DROP COLUMN created_by;

-- The keys of 0002 and 0003, under their names there.
ALTER TABLE categories ADD CONSTRAINT categories_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
CREATE UNIQUE INDEX categories_user_name_key ON categories (user_id, lower(name));
ALTER TABLE transactions ADD CONSTRAINT transactions_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE transactions ADD CONSTRAINT transactions_user_id_category_id_fkey
    FOREIGN KEY (user_id, category_id) REFERENCES categories (user_id, id) ON DELETE RESTRICT;
ALTER INDEX transactions_ledger_date_idx RENAME TO transactions_user_date_idx;
ALTER INDEX transactions_ledger_category_date_idx RENAME TO transactions_user_category_date_idx;
ALTER TABLE budgets ADD CONSTRAINT budgets_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE budgets ADD CONSTRAINT budgets_user_id_category_id_fkey
    FOREIGN KEY (user_id, category_id) REFERENCES categories (user_id, id) ON DELETE RESTRICT;
ALTER TABLE budgets ADD CONSTRAINT budgets_scope_key
    UNIQUE NULLS NOT DISTINCT (user_id, year, month, category_id);
ALTER INDEX budgets_ledger_category_idx RENAME TO budgets_user_category_idx;
ALTER TABLE alerts ADD CONSTRAINT alerts_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE alerts ADD CONSTRAINT alerts_user_id_budget_id_fkey
    FOREIGN KEY (user_id, budget_id) REFERENCES budgets (user_id, id) ON DELETE CASCADE;
ALTER TABLE alerts RENAME CONSTRAINT alerts_ledger_id_budget_id_kind_key TO alerts_user_id_budget_id_kind_key;
CREATE INDEX alerts_user_unread_idx ON alerts (user_id, id DESC) WHERE read_at IS NULL;
ALTER TABLE monthly_totals ADD CONSTRAINT monthly_totals_user_id_category_id_fkey
    FOREIGN KEY (user_id, category_id) REFERENCES categories (user_id, id) ON DELETE CASCADE;
ALTER INDEX monthly_totals_ledger_category_idx RENAME TO monthly_totals_user_category_idx;
ALTER TABLE daily_totals ADD CONSTRAINT daily_totals_user_id_category_id_fkey
    FOREIGN KEY (user_id, category_id) REFERENCES categories (user_id, id) ON DELETE CASCADE;
ALTER INDEX daily_totals_ledger_category_idx RENAME TO daily_totals_user_category_idx;

-- The functions of 0003 and 0004.
DROP FUNCTION bump_monthly_total(bigint, date, bigint, text, numeric, integer);
DROP FUNCTION bump_daily_total(bigint, date, bigint, text, numeric, integer);
DROP FUNCTION period_totals(bigint, date, date, date, date, date, date);

CREATE FUNCTION bump_monthly_total(p_user bigint, p_day date, p_category bigint, p_type text,
                                   p_amount numeric, p_count integer) RETURNS void
LANGUAGE sql AS $$
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

CREATE OR REPLACE FUNCTION keep_transaction_totals() RETURNS trigger
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

CREATE FUNCTION period_totals(
    p_user bigint,
    p_month_from date, p_month_to date,
    p_head_from date, p_head_to date,
    p_tail_from date, p_tail_to date
) RETURNS TABLE (month date, category_id bigint, type text, amount numeric)
LANGUAGE sql STABLE AS $$
    SELECT m.month, m.category_id, m.type, m.amount
    FROM monthly_totals m
    WHERE m.user_id = p_user AND m.month >= p_month_from AND m.month < p_month_to
    UNION ALL
    SELECT date_trunc('month', d.day)::date, d.category_id, d.type, d.amount
    FROM daily_totals d
    WHERE d.user_id = p_user AND d.day BETWEEN p_head_from AND p_head_to
    UNION ALL
    SELECT date_trunc('month', d.day)::date, d.category_id, d.type, d.amount
    FROM daily_totals d
    WHERE d.user_id = p_user AND d.day BETWEEN p_tail_from AND p_tail_to
$$;

DROP TABLE ledger_members;
DROP TABLE ledgers;
