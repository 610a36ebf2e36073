-- Back to 0015: the log goes, the generations are bumped by triggers on what the reports read.
DROP TABLE ledger_changes;
DROP FUNCTION ledger_changes_number();
DROP FUNCTION ledger_changes_append_only();
DROP FUNCTION ledger_changes_no_truncate();
ALTER TABLE ledger_generations DROP COLUMN knowledge;

CREATE FUNCTION bump_ledger_generation() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_ledger bigint;
    v_done   text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        v_ledger := OLD.ledger_id;
    ELSE
        v_ledger := NEW.ledger_id;
    END IF;
    v_done := coalesce(current_setting('expense_api.generations_bumped', true), '');
    IF position(',' || v_ledger || ',' IN v_done) > 0 THEN
        RETURN NULL;
    END IF;
    INSERT INTO ledger_generations (ledger_id, generation)
    SELECT id, gen_random_uuid() FROM ledgers WHERE id = v_ledger
    ON CONFLICT (ledger_id) DO UPDATE SET generation = EXCLUDED.generation;
    PERFORM set_config('expense_api.generations_bumped',
                       CASE WHEN v_done = '' THEN ',' ELSE v_done END || v_ledger || ',', true);
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER monthly_totals_bump_generation
    AFTER INSERT OR UPDATE OR DELETE ON monthly_totals
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_ledger_generation();
CREATE CONSTRAINT TRIGGER daily_totals_bump_generation
    AFTER INSERT OR UPDATE OR DELETE ON daily_totals
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_ledger_generation();
CREATE CONSTRAINT TRIGGER budgets_bump_generation
    AFTER INSERT OR UPDATE OR DELETE ON budgets
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_ledger_generation();
CREATE CONSTRAINT TRIGGER categories_bump_generation
    AFTER INSERT OR UPDATE OR DELETE ON categories
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_ledger_generation();
