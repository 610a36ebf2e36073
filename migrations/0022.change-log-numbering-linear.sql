-- Numbering a transaction's change-log entries at COMMIT without a join (0016 numbered them
-- with one UPDATE joined to a window over them). Once ledger_changes had statistics, a ledger
-- they saw as tiny (a new one) got a nested loop that ran the window again for every entry:
-- a 194,000-rate import sat 17 minutes in COMMIT, holding the ledger's clock row that every
-- other write of the ledger needs (bench/rates.py --analyzed). Now: the transaction's entries
-- of the ledger are read once, in id order, through ledger_changes_unnumbered_idx; a few are
-- numbered one by one by primary key, many by one hash join with their positions.
-- depends: 0021.budget-rollover

CREATE OR REPLACE FUNCTION ledger_changes_number() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_done  text;
    v_ids   bigint[];
    v_id    bigint;
    v_count bigint;
    v_last  bigint;
    v_seq   bigint;
    v_plan  text;
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
    SELECT array_agg(id ORDER BY id) INTO v_ids FROM ledger_changes
    WHERE txid = pg_current_xact_id() AND ledger_id = NEW.ledger_id AND seq IS NULL;
    v_count := coalesce(cardinality(v_ids), 0);
    IF v_count = 0 THEN
        RETURN NULL;  -- the ledger was deleted in this transaction, and its log with it
    END IF;
    INSERT INTO ledger_generations AS g (ledger_id, generation, knowledge)
    SELECT id, gen_random_uuid(), v_count FROM ledgers WHERE id = NEW.ledger_id
    ON CONFLICT (ledger_id) DO UPDATE
        SET generation = EXCLUDED.generation, knowledge = g.knowledge + v_count
    RETURNING knowledge INTO v_last;
    IF v_count <= 64 THEN
        -- A write's few entries (the hot path): one update by primary key each, in id order.
        v_seq := v_last - v_count;
        FOREACH v_id IN ARRAY v_ids LOOP
            v_seq := v_seq + 1;
            UPDATE ledger_changes SET seq = v_seq WHERE ledger_id = NEW.ledger_id AND id = v_id;
        END LOOP;
    ELSE
        -- A bulk write's many (an import's): one statement, its entries reached through
        -- ledger_changes_unnumbered_idx and paired with their positions by a hash join. No
        -- nested loop: with the statistics' guess of a few rows on each side, the planner
        -- would rescan one side per row of the other. Planned here each time (EXECUTE), with
        -- nested loops off for this statement only.
        v_plan := current_setting('enable_nestloop');
        PERFORM set_config('enable_nestloop', 'off', true);
        EXECUTE 'UPDATE ledger_changes c SET seq = $1 + k.position
                 FROM unnest($2::bigint[]) WITH ORDINALITY AS k(id, position)
                 WHERE c.txid = pg_current_xact_id() AND c.ledger_id = $3 AND c.seq IS NULL
                   AND c.id = k.id'
            USING v_last - v_count, v_ids, NEW.ledger_id;
        PERFORM set_config('enable_nestloop', v_plan, true);
    END IF;
    RETURN NULL;
END;
$$;
