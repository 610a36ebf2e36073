-- Splits, payees and tags (issue 28, ../shared/API.md "Splits, payees and tags").
--
-- A split transaction has no category of its own (category_id NULL) and 2 to 50 lines in
-- transaction_splits, each with a category and a positive amount, summing exactly to the
-- transaction's amount. The totals count each line under its own category and nothing for the
-- transaction itself, so a report over categories counts every line once and the sum over all
-- categories (the overall budget, the summary, trends) counts the whole amount once. A
-- transaction without lines keeps its category and counts as before.
--
-- Lines carry their transaction's date and type, copied by triggers (never written by the
-- service), so the totals trigger of a line needs no join and still works while a cascade is
-- deleting the transaction.
--
-- Payees and tags are ledger rows, unique case-insensitively, referenced by id; a transaction
-- has at most one payee and any number of tags (the API allows 20).
-- depends: 0016.change-log

CREATE TABLE payees (
    ledger_id  bigint      NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    name       text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200 AND name = btrim(name)),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger_id, id)
);
CREATE UNIQUE INDEX payees_ledger_name_key ON payees (ledger_id, lower(name));

CREATE TABLE tags (
    ledger_id  bigint      NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    name       text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 40 AND name = btrim(name)),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger_id, id)
);
CREATE UNIQUE INDEX tags_ledger_name_key ON tags (ledger_id, lower(name));

-- NULL: a split transaction (its lines have the categories).
ALTER TABLE transactions ALTER COLUMN category_id DROP NOT NULL;
ALTER TABLE transactions ADD COLUMN payee_id bigint;
ALTER TABLE transactions ADD CONSTRAINT transactions_ledger_id_payee_id_fkey
    FOREIGN KEY (ledger_id, payee_id) REFERENCES payees (ledger_id, id) ON DELETE RESTRICT;
-- The payee list's counts and the `payee` filter; only rows with a payee are in it.
CREATE INDEX transactions_ledger_payee_idx ON transactions (ledger_id, payee_id, occurred_on)
    WHERE payee_id IS NOT NULL;

CREATE TABLE transaction_tags (
    ledger_id      bigint NOT NULL,
    transaction_id bigint NOT NULL,
    tag_id         bigint NOT NULL,
    PRIMARY KEY (ledger_id, transaction_id, tag_id),
    FOREIGN KEY (ledger_id, transaction_id) REFERENCES transactions (ledger_id, id) ON DELETE CASCADE,
    FOREIGN KEY (ledger_id, tag_id) REFERENCES tags (ledger_id, id) ON DELETE RESTRICT
);
-- The tag list's counts and the `tag` filter.
CREATE INDEX transaction_tags_tag_idx ON transaction_tags (ledger_id, tag_id, transaction_id);

CREATE TABLE transaction_splits (
    ledger_id      bigint        NOT NULL,
    transaction_id bigint        NOT NULL,
    line_no        smallint      NOT NULL CHECK (line_no BETWEEN 1 AND 50),
    category_id    bigint        NOT NULL,
    amount         numeric(18,4) NOT NULL CHECK (amount > 0),
    memo           text          CHECK (char_length(memo) BETWEEN 1 AND 200),
    -- Copies of the transaction's, kept by triggers (below): what the totals need.
    occurred_on    date          NOT NULL,
    type           text          NOT NULL CHECK (type IN ('INCOME', 'EXPENSE')),
    PRIMARY KEY (ledger_id, transaction_id, line_no),
    FOREIGN KEY (ledger_id, transaction_id) REFERENCES transactions (ledger_id, id) ON DELETE CASCADE,
    FOREIGN KEY (ledger_id, category_id) REFERENCES categories (ledger_id, id) ON DELETE RESTRICT
);
-- The `categoryId` filter on lines, and a category's "in use" check on delete.
CREATE INDEX transaction_splits_category_idx ON transaction_splits (ledger_id, category_id, transaction_id);

-- A line takes its transaction's date and type, whatever the writer gave.
CREATE FUNCTION transaction_splits_copy_parent() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT t.occurred_on, t.type INTO NEW.occurred_on, NEW.type
    FROM transactions t
    WHERE t.ledger_id = NEW.ledger_id AND t.id = NEW.transaction_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER transaction_splits_copy_parent
BEFORE INSERT OR UPDATE ON transaction_splits
FOR EACH ROW EXECUTE FUNCTION transaction_splits_copy_parent();

-- A split transaction's new date or type moves its lines (and, through their trigger, their totals).
CREATE FUNCTION transactions_move_splits() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE transaction_splits
    SET occurred_on = NEW.occurred_on, type = NEW.type
    WHERE ledger_id = NEW.ledger_id AND transaction_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER transactions_move_splits
AFTER UPDATE OF occurred_on, type ON transactions
FOR EACH ROW
WHEN ((OLD.occurred_on, OLD.type) IS DISTINCT FROM (NEW.occurred_on, NEW.type))
EXECUTE FUNCTION transactions_move_splits();

-- The totals of a transaction with a category, as before; a split one (category NULL) counts
-- through its lines. Row locks on totals keep their one order: an UPDATE takes the lower key
-- first, monthly rows before daily rows.
CREATE OR REPLACE FUNCTION keep_transaction_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_old boolean := TG_OP <> 'INSERT' AND OLD.category_id IS NOT NULL;
    v_new boolean := TG_OP <> 'DELETE' AND NEW.category_id IS NOT NULL;
BEGIN
    IF current_setting('expense_api.defer_totals', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF v_old AND v_new
       AND (OLD.occurred_on, OLD.category_id, OLD.type, OLD.amount)
           IS NOT DISTINCT FROM (NEW.occurred_on, NEW.category_id, NEW.type, NEW.amount) THEN
        RETURN NULL;  -- only the description, payee or the like changed
    END IF;
    IF v_old AND v_new THEN
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
    ELSIF v_old THEN
        PERFORM bump_monthly_total(OLD.ledger_id, OLD.occurred_on, OLD.category_id, OLD.type, -OLD.amount, -1);
        PERFORM bump_daily_total(OLD.ledger_id, OLD.occurred_on, OLD.category_id, OLD.type, -OLD.amount, -1);
    ELSIF v_new THEN
        PERFORM bump_monthly_total(NEW.ledger_id, NEW.occurred_on, NEW.category_id, NEW.type, NEW.amount, 1);
        PERFORM bump_daily_total(NEW.ledger_id, NEW.occurred_on, NEW.category_id, NEW.type, NEW.amount, 1);
    END IF;
    RETURN NULL;
END
$$;

-- A statement's lines, net per totals key, in key order (monthly rows, then daily rows): one
-- upsert per level whatever the number of lines, and the same lock order as every other writer
-- (lines inserted in any order, or deleted by a cascade in physical order, cannot deadlock).
-- tx_count counts lines: the number of entries under that category, which nothing reports.
CREATE FUNCTION bump_split_totals(p_ledgers bigint[], p_days date[], p_categories bigint[],
                                  p_types text[], p_amounts numeric[], p_counts integer[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    -- An UPDATE first: an upsert checks the row it would insert, and a negative one fails the
    -- totals' CHECK even when the key exists.
    FOR r IN
        SELECT l, date_trunc('month', d)::date AS m, c, k, sum(a) AS a, sum(n) AS n
        FROM unnest(p_ledgers, p_days, p_categories, p_types, p_amounts, p_counts) AS x(l, d, c, k, a, n)
        GROUP BY 1, 2, 3, 4 HAVING sum(a) <> 0 OR sum(n) <> 0 ORDER BY 1, 2, 3, 4
    LOOP
        UPDATE monthly_totals SET amount = amount + r.a, tx_count = tx_count + r.n
        WHERE ledger_id = r.l AND month = r.m AND category_id = r.c AND type = r.k;
        IF NOT FOUND THEN
            INSERT INTO monthly_totals AS t (ledger_id, month, category_id, type, amount, tx_count)
            VALUES (r.l, r.m, r.c, r.k, r.a, r.n)
            ON CONFLICT (ledger_id, month, category_id, type) DO UPDATE
            SET amount = t.amount + EXCLUDED.amount, tx_count = t.tx_count + EXCLUDED.tx_count;
        END IF;
    END LOOP;
    FOR r IN
        SELECT l, d, c, k, sum(a) AS a, sum(n) AS n
        FROM unnest(p_ledgers, p_days, p_categories, p_types, p_amounts, p_counts) AS x(l, d, c, k, a, n)
        GROUP BY 1, 2, 3, 4 HAVING sum(a) <> 0 OR sum(n) <> 0 ORDER BY 1, 2, 3, 4
    LOOP
        UPDATE daily_totals SET amount = amount + r.a, tx_count = tx_count + r.n
        WHERE ledger_id = r.l AND day = r.d AND category_id = r.c AND type = r.k;
        IF NOT FOUND THEN
            INSERT INTO daily_totals AS t (ledger_id, day, category_id, type, amount, tx_count)
            VALUES (r.l, r.d, r.c, r.k, r.a, r.n)
            ON CONFLICT (ledger_id, day, category_id, type) DO UPDATE
            SET amount = t.amount + EXCLUDED.amount, tx_count = t.tx_count + EXCLUDED.tx_count;
        END IF;
    END LOOP;
END
$$;

CREATE FUNCTION keep_split_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('expense_api.defer_totals', true) = 'on' THEN
        RETURN NULL;
    END IF;
    -- Each event sees only its own transition tables.
    IF TG_OP = 'INSERT' THEN
        PERFORM bump_split_totals(array_agg(ledger_id), array_agg(occurred_on), array_agg(category_id),
                                  array_agg(type), array_agg(amount), array_agg(1))
        FROM new_lines;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM bump_split_totals(array_agg(ledger_id), array_agg(occurred_on), array_agg(category_id),
                                  array_agg(type), array_agg(-amount), array_agg(-1))
        FROM old_lines;
    ELSE
        PERFORM bump_split_totals(array_agg(ledger_id), array_agg(occurred_on), array_agg(category_id),
                                  array_agg(type), array_agg(amount), array_agg(n))
        FROM (SELECT ledger_id, occurred_on, category_id, type, -amount AS amount, -1 AS n FROM old_lines
              UNION ALL
              SELECT ledger_id, occurred_on, category_id, type, amount, 1 FROM new_lines) AS lines;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER transaction_splits_totals_insert
AFTER INSERT ON transaction_splits REFERENCING NEW TABLE AS new_lines
FOR EACH STATEMENT EXECUTE FUNCTION keep_split_totals();
CREATE TRIGGER transaction_splits_totals_update
AFTER UPDATE ON transaction_splits REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines
FOR EACH STATEMENT EXECUTE FUNCTION keep_split_totals();
CREATE TRIGGER transaction_splits_totals_delete
AFTER DELETE ON transaction_splits REFERENCING OLD TABLE AS old_lines
FOR EACH STATEMENT EXECUTE FUNCTION keep_split_totals();

-- At COMMIT, for each transaction whose lines or split state changed: a transaction without a
-- category has 2 to 50 lines summing exactly to its amount, one with a category has none. The
-- service checks all of it first (a clear 422); this is the database's own guarantee that no
-- report can ever count a split twice or not at all.
CREATE FUNCTION transaction_splits_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_ledger   bigint;
    v_id       bigint;
    v_category bigint;
    v_amount   numeric;
    v_lines    integer;
    v_sum      numeric;
BEGIN
    IF TG_TABLE_NAME = 'transactions' THEN
        v_ledger := NEW.ledger_id;
        v_id := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        v_ledger := OLD.ledger_id;
        v_id := OLD.transaction_id;
    ELSE
        v_ledger := NEW.ledger_id;
        v_id := NEW.transaction_id;
    END IF;
    SELECT category_id, amount INTO v_category, v_amount
    FROM transactions WHERE ledger_id = v_ledger AND id = v_id;
    IF NOT FOUND THEN
        RETURN NULL;  -- deleted: its lines went with it
    END IF;
    SELECT count(*), coalesce(sum(amount), 0) INTO v_lines, v_sum
    FROM transaction_splits WHERE ledger_id = v_ledger AND transaction_id = v_id;
    IF v_category IS NULL AND (v_lines NOT BETWEEN 2 AND 50 OR v_sum <> v_amount)
       OR v_category IS NOT NULL AND v_lines > 0 THEN
        RAISE EXCEPTION 'transaction % of ledger %: % lines summing to %, amount %, category %',
                        v_id, v_ledger, v_lines, v_sum, v_amount, v_category
            USING ERRCODE = 'check_violation', CONSTRAINT = 'transaction_splits_balanced';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER transaction_splits_balanced
AFTER INSERT OR UPDATE OR DELETE ON transaction_splits
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION transaction_splits_balanced();
-- Only a transaction that is (or becomes) split is checked: plain writes pay nothing.
CREATE CONSTRAINT TRIGGER transactions_splits_balanced_insert
AFTER INSERT ON transactions
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW WHEN (NEW.category_id IS NULL)
EXECUTE FUNCTION transaction_splits_balanced();
CREATE CONSTRAINT TRIGGER transactions_splits_balanced_update
AFTER UPDATE OF category_id, amount ON transactions
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW WHEN (NEW.category_id IS NULL OR OLD.category_id IS NULL)
EXECUTE FUNCTION transaction_splits_balanced();

-- A transaction as its REST shape shows it (GET /api/transactions/{id}): every read of one goes
-- through here, so the shape's joins are written once. Its tags in name order (case-insensitive),
-- its lines in their order; an empty list when it has none.
CREATE VIEW transactions_shown AS
SELECT t.ledger_id, t.id, t.category_id, c.name AS category, t.type, t.amount, t.description,
       t.occurred_on, t.created_at,
       CASE WHEN u.id IS NOT NULL THEN json_build_object('id', u.id, 'name', u.name) END
           AS created_by,
       p.name AS payee,
       ARRAY(SELECT g.name
             FROM transaction_tags tt
             JOIN tags g ON g.ledger_id = tt.ledger_id AND g.id = tt.tag_id
             WHERE tt.ledger_id = t.ledger_id AND tt.transaction_id = t.id
             ORDER BY lower(g.name), g.id) AS tags,
       coalesce((SELECT json_agg(json_build_object('category_id', s.category_id,
                                                   'category', sc.name,
                                                   'amount', s.amount::text,
                                                   'memo', s.memo) ORDER BY s.line_no)
                 FROM transaction_splits s
                 JOIN categories sc ON sc.ledger_id = s.ledger_id AND sc.id = s.category_id
                 WHERE s.ledger_id = t.ledger_id AND s.transaction_id = t.id),
                '[]'::json) AS splits,
       t.payee_id
FROM transactions t
LEFT JOIN categories c ON c.ledger_id = t.ledger_id AND c.id = t.category_id
LEFT JOIN payees p ON p.ledger_id = t.ledger_id AND p.id = t.payee_id
LEFT JOIN users u ON u.id = t.created_by;
