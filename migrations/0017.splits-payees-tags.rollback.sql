-- Back to 0016: only when no transaction is split (a split one has no category to fall back to).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM transactions WHERE category_id IS NULL) THEN
        RAISE EXCEPTION 'split transactions exist: turn them back into single-category ones first';
    END IF;
END
$$;
DROP VIEW transactions_shown;
DROP TRIGGER transactions_splits_balanced_update ON transactions;
DROP TRIGGER transactions_splits_balanced_insert ON transactions;
DROP TRIGGER transactions_move_splits ON transactions;
DROP TABLE transaction_splits;
DROP FUNCTION transaction_splits_balanced();
DROP FUNCTION keep_split_totals();
DROP FUNCTION bump_split_totals(bigint[], date[], bigint[], text[], numeric[], integer[]);
DROP FUNCTION transactions_move_splits();
DROP FUNCTION transaction_splits_copy_parent();
DROP TABLE transaction_tags;
DROP INDEX transactions_ledger_payee_idx;
ALTER TABLE transactions DROP CONSTRAINT transactions_ledger_id_payee_id_fkey;
ALTER TABLE transactions DROP COLUMN payee_id;
ALTER TABLE transactions ALTER COLUMN category_id SET NOT NULL;
DROP TABLE tags;
DROP TABLE payees;

CREATE OR REPLACE FUNCTION keep_transaction_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('expense_api.defer_totals', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM bump_monthly_total(NEW.ledger_id, NEW.occurred_on, NEW.category_id, NEW.type, NEW.amount, 1);
        PERFORM bump_daily_total(NEW.ledger_id, NEW.occurred_on, NEW.category_id, NEW.type, NEW.amount, 1);
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM bump_monthly_total(OLD.ledger_id, OLD.occurred_on, OLD.category_id, OLD.type, -OLD.amount, -1);
        PERFORM bump_daily_total(OLD.ledger_id, OLD.occurred_on, OLD.category_id, OLD.type, -OLD.amount, -1);
        RETURN NULL;
    END IF;
    IF (OLD.occurred_on, OLD.category_id, OLD.type, OLD.amount)
       IS NOT DISTINCT FROM (NEW.occurred_on, NEW.category_id, NEW.type, NEW.amount) THEN
        RETURN NULL;  -- only the description changed
    END IF;
    -- Each level in its own key order (a month key and a day key can sort differently).
    IF (date_trunc('month', OLD.occurred_on), OLD.category_id, OLD.type)
       <= (date_trunc('month', NEW.occurred_on), NEW.category_id, NEW.type) THEN
        PERFORM bump_monthly_total(OLD.ledger_id, OLD.occurred_on, OLD.category_id, OLD.type, -OLD.amount, -1);
        PERFORM bump_monthly_total(NEW.ledger_id, NEW.occurred_on, NEW.category_id, NEW.type, NEW.amount, 1);
    ELSE
        PERFORM bump_monthly_total(NEW.ledger_id, NEW.occurred_on, NEW.category_id, NEW.type, NEW.amount, 1);
        PERFORM bump_monthly_total(OLD.ledger_id, OLD.occurred_on, OLD.category_id, OLD.type, -OLD.amount, -1);
    END IF;
    IF (OLD.occurred_on, OLD.category_id, OLD.type) <= (NEW.occurred_on, NEW.category_id, NEW.type) THEN
        PERFORM bump_daily_total(OLD.ledger_id, OLD.occurred_on, OLD.category_id, OLD.type, -OLD.amount, -1);
        PERFORM bump_daily_total(NEW.ledger_id, NEW.occurred_on, NEW.category_id, NEW.type, NEW.amount, 1);
    ELSE
        PERFORM bump_daily_total(NEW.ledger_id, NEW.occurred_on, NEW.category_id, NEW.type, NEW.amount, 1);
        PERFORM bump_daily_total(OLD.ledger_id, OLD.occurred_on, OLD.category_id, OLD.type, -OLD.amount, -1);
    END IF;
    RETURN NULL;
END
$$;
