-- The analytics cache's generations: one random UUID per ledger, replaced in the same
-- transaction as every write to what the reports read (monthly_totals, daily_totals, budgets,
-- categories), whichever door wrote it. The cache (expense_api/db/analytics_cache.py) keys each
-- report by the generation it read first, so a committed write makes older entries unreachable.
-- The argument that no read after an answered write returns older data: docs/ARCHITECTURE.md.
-- depends: 0011.webhooks

CREATE TABLE ledger_generations (
    ledger_id  bigint PRIMARY KEY REFERENCES ledgers (id) ON DELETE CASCADE,
    -- Random, not a counter: values never repeat, after a restore from backup or in another
    -- database sharing the same Redis, so an old entry can never be taken for a new one.
    generation uuid NOT NULL
);

INSERT INTO ledger_generations (ledger_id, generation)
SELECT id, gen_random_uuid() FROM ledgers;

-- Deferred to commit: the generation row is locked only while the transaction commits (not from
-- its first write), and after every other lock the transaction takes, so writers of one ledger
-- queue briefly at commit and never deadlock on it. A transaction bumps each ledger once, however
-- many rows it wrote (a transaction-local setting remembers which).
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
    -- From ledgers: nothing to bump when the ledger itself is being deleted.
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
