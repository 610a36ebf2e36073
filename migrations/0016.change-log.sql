-- The ledger change log (issue 27, docs/ARCHITECTURE.md "The write path"): one append-only entry
-- per change to a ledger's data, written in the change's own transaction by the one write hook
-- (expense_api/services/changes/hook.py), whichever door made the change.
--
-- Commit order, not insert order: an entry is inserted with seq NULL, and at COMMIT a deferred
-- trigger takes the ledger's clock row (ledger_generations, which also carries the analytics
-- cache's generation), adds the transaction's entries to its `knowledge` and numbers them. The
-- clock row stays locked until the commit is done, so a transaction numbering after another
-- waits for it to commit: a reader who sees seq N sees every seq below N (gapless delta sync).
-- depends: 0015.webhook-deliveries-per-endpoint

ALTER TABLE ledger_generations ADD COLUMN knowledge bigint NOT NULL DEFAULT 0;

CREATE TABLE ledger_changes (
    ledger_id  bigint      NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
    id         bigint      GENERATED ALWAYS AS IDENTITY,  -- insert order (within a transaction)
    seq        bigint,                                    -- commit order in the ledger; NULL until COMMIT
    at         timestamptz NOT NULL DEFAULT now(),
    actor_id   bigint,                                    -- NULL: the service itself
    actor_name text,
    via        text        NOT NULL CHECK (via IN ('rest', 'graphql', 'worker', 'import', 'cli')),
    request_id text,
    entity     text        NOT NULL CHECK (entity IN ('transaction', 'category', 'budget',
                           'recurring', 'member', 'invitation', 'webhook', 'rule', 'import',
                           'ledger')),
    entity_id  bigint      NOT NULL,
    op         text        NOT NULL CHECK (op IN ('created', 'updated', 'deleted')),
    before     jsonb,
    after      jsonb,
    txid       xid8        NOT NULL DEFAULT pg_current_xact_id(),  -- the writing transaction
    PRIMARY KEY (ledger_id, id)
);
-- The audit trail (newest first) and delta sync (after a knowledge value) read by seq.
CREATE UNIQUE INDEX ledger_changes_seq_idx ON ledger_changes (ledger_id, seq);
-- One entity's history, and sync's "is this the entity's latest entry" probe.
CREATE INDEX ledger_changes_entity_idx ON ledger_changes (ledger_id, entity, entity_id, seq);
-- The entries a COMMIT numbers: its own, by transaction id and ledger. Not by `seq IS NULL` on
-- the index above: every numbered entry leaves a dead seq-NULL version there until vacuum, and a
-- busy ledger's commits would walk thousands of them (measured: 10x the database's CPU per
-- write). Here a transaction reads only its own entries, and a numbered version leaves this index.
CREATE INDEX ledger_changes_unnumbered_idx ON ledger_changes (txid, ledger_id) WHERE seq IS NULL;

-- At COMMIT, once per transaction: lock the clock rows of every ledger the transaction logged
-- in, in ledger id order (two transactions writing to the same two ledgers never deadlock),
-- then, once per ledger, number its entries after the ledger's knowledge and replace the
-- analytics cache's generation (the cache keys reports by it: docs/ARCHITECTURE.md). Deferred,
-- so the clock rows are locked after every other lock the transaction takes, and writers of one
-- ledger queue only for the moment of their commit.
CREATE FUNCTION ledger_changes_number() RETURNS trigger
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

-- Append-only, for every connection, superusers included (the embedded server connects as one,
-- so privileges alone would not hold). Entries are inserted unnumbered; the only UPDATE is the
-- numbering above (seq from NULL to a value, no other column in its SET list: the trigger on the
-- other columns never fires for it, and the one on seq only asks that it was NULL, so numbering
-- a million entries never compares whole rows); the
-- only DELETE is a ledger's, which takes its log with it (the ledger row is already gone).
-- Account erasure (replacing a person's name) will be the third exception, with its feature.
CREATE FUNCTION ledger_changes_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.seq IS NULL THEN
        RETURN NEW;
    ELSIF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM ledgers WHERE id = OLD.ledger_id) THEN
        RETURN OLD;
    ELSIF TG_OP = 'UPDATE' AND TG_ARGV[0] = 'seq' AND OLD.seq IS NULL THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the ledger change log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'entries are inserted with seq NULL and numbered at COMMIT';
END;
$$;

CREATE TRIGGER ledger_changes_insert_unnumbered
    BEFORE INSERT ON ledger_changes
    FOR EACH ROW EXECUTE FUNCTION ledger_changes_append_only();
CREATE TRIGGER ledger_changes_numbered_once
    BEFORE UPDATE OF seq ON ledger_changes
    FOR EACH ROW EXECUTE FUNCTION ledger_changes_append_only('seq');
CREATE TRIGGER ledger_changes_append_only
    BEFORE UPDATE OF ledger_id, id, at, actor_id, actor_name, via, request_id, entity, entity_id,
                     op, before, after, txid
    ON ledger_changes
    FOR EACH ROW EXECUTE FUNCTION ledger_changes_append_only('other');
CREATE TRIGGER ledger_changes_append_only_delete
    BEFORE DELETE ON ledger_changes
    FOR EACH ROW EXECUTE FUNCTION ledger_changes_append_only();

CREATE FUNCTION ledger_changes_no_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger change log is append-only: TRUNCATE refused'
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER ledger_changes_no_truncate
    BEFORE TRUNCATE ON ledger_changes
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_changes_no_truncate();

-- The generation is now replaced with the numbering, once per committed change; these triggers
-- (0012) did it per written row of what the reports read, which every such write now logs.
DROP TRIGGER monthly_totals_bump_generation ON monthly_totals;
DROP TRIGGER daily_totals_bump_generation ON daily_totals;
DROP TRIGGER budgets_bump_generation ON budgets;
DROP TRIGGER categories_bump_generation ON categories;
DROP FUNCTION bump_ledger_generation();

-- The log begins with what exists: one `created` entry per entity sync lists (the ledger, its
-- members, categories, transactions, budgets and recurring rules), by the service itself, with
-- no images (the data's history before the log is unknown). Sync needs them to list the full
-- state by knowledge; invitations and webhooks' history simply starts with the log. Numbered
-- here, per ledger, before the commit trigger exists (numbering them at this migration's
-- COMMIT would walk every ledger's rows once per ledger).
ALTER TABLE ledger_changes DISABLE TRIGGER ledger_changes_insert_unnumbered;
INSERT INTO ledger_changes (ledger_id, seq, via, entity, entity_id, op)
SELECT ledger_id,
       row_number() OVER (PARTITION BY ledger_id ORDER BY rank, created_at, entity_id),
       'cli', entity, entity_id, 'created'
FROM (
    SELECT id AS ledger_id, 'ledger' AS entity, id AS entity_id, 0 AS rank, created_at FROM ledgers
    UNION ALL SELECT ledger_id, 'member', user_id, 1, joined_at FROM ledger_members
    UNION ALL SELECT ledger_id, 'category', id, 2, created_at FROM categories
    UNION ALL SELECT ledger_id, 'budget', id, 3, created_at FROM budgets
    UNION ALL SELECT ledger_id, 'recurring', id, 4, created_at FROM recurring_rules
    UNION ALL SELECT ledger_id, 'transaction', id, 5, created_at FROM transactions
) existing;
ALTER TABLE ledger_changes ENABLE TRIGGER ledger_changes_insert_unnumbered;
INSERT INTO ledger_generations AS g (ledger_id, generation, knowledge)
SELECT ledger_id, gen_random_uuid(), count(*) FROM ledger_changes GROUP BY ledger_id
ON CONFLICT (ledger_id) DO UPDATE
    SET generation = EXCLUDED.generation, knowledge = EXCLUDED.knowledge;

CREATE CONSTRAINT TRIGGER ledger_changes_number_at_commit
    AFTER INSERT ON ledger_changes
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_changes_number();
