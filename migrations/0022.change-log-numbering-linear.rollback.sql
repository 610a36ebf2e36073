-- Back to 0021: 0016's numbering (one UPDATE joined to a window over the entries).
CREATE OR REPLACE FUNCTION ledger_changes_number() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_done  text;
    v_count bigint;
    v_last  bigint;
BEGIN
    v_done := coalesce(current_setting('expense_api.changes_numbered', true), '');
    IF position(',' || NEW.ledger_id || ',' IN v_done) > 0 THEN
        RETURN NULL;
    END IF;
    IF v_done = '' THEN
        PERFORM 1 FROM ledger_generations
        WHERE ledger_id IN (SELECT DISTINCT ledger_id FROM ledger_changes
                            WHERE txid = pg_current_xact_id() AND seq IS NULL)
        ORDER BY ledger_id
        FOR NO KEY UPDATE;
        v_done := ',';
    END IF;
    PERFORM set_config('expense_api.changes_numbered', v_done || NEW.ledger_id || ',', true);
    -- This transaction's entries of the ledger (another's are invisible until committed, and
    -- numbered before they commit).
    SELECT count(*) INTO v_count FROM ledger_changes
    WHERE txid = pg_current_xact_id() AND ledger_id = NEW.ledger_id AND seq IS NULL;
    IF v_count = 0 THEN
        RETURN NULL;  -- the ledger was deleted in this transaction, and its log with it
    END IF;
    INSERT INTO ledger_generations AS g (ledger_id, generation, knowledge)
    SELECT id, gen_random_uuid(), v_count FROM ledgers WHERE id = NEW.ledger_id
    ON CONFLICT (ledger_id) DO UPDATE
        SET generation = EXCLUDED.generation, knowledge = g.knowledge + v_count
    RETURNING knowledge INTO v_last;
    UPDATE ledger_changes c
    SET seq = v_last - v_count + n.position
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS position
          FROM ledger_changes
          WHERE txid = pg_current_xact_id() AND ledger_id = NEW.ledger_id AND seq IS NULL) n
    WHERE c.ledger_id = NEW.ledger_id AND c.id = n.id;
    RETURN NULL;
END;
$$;
