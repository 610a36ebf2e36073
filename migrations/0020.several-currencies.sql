-- Several currencies (issue 30, ../shared/API.md "Several currencies").
--
-- A transaction in a currency other than its ledger's keeps that fact: `currency`, the `rate`
-- used (ledger-currency units per unit, recorded with it and never recomputed) and
-- `foreign_amount` (what the client gave, in `currency`). `amount` stays in the ledger's
-- currency (foreign_amount x rate, rounded half up once, by the service, to the ledger currency's
-- digits): every total, budget check and report keeps summing `amount` and needs no change. A
-- transaction in the ledger's own currency has all three NULL.
--
-- A split line of a foreign transaction likewise: `foreign_amount` its share in the
-- transaction's currency, `amount` its share of the transaction's ledger amount (largest
-- remainder, so the lines sum exactly to it: the totals count the lines).
--
-- Ledger rates are the ledger's own table of rates per currency and day; a transaction without
-- a rate of its own takes the latest one on or before its date.
-- depends: 0019.import-rows-of-zero

CREATE TABLE ledger_rates (
    ledger_id  bigint      NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
    id         bigint      GENERATED ALWAYS AS IDENTITY,  -- the change log's and sync's key
    currency   text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    day        date        NOT NULL,
    rate       numeric     NOT NULL CHECK (rate > 0),     -- ledger-currency units per unit
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger_id, id)
);
-- The rate of a day: the latest on or before it, one step backwards down this index.
CREATE UNIQUE INDEX ledger_rates_day_key ON ledger_rates (ledger_id, currency, day);

ALTER TABLE transactions
    ADD COLUMN currency       text          CHECK (currency ~ '^[A-Z]{3}$'),
    ADD COLUMN rate           numeric       CHECK (rate > 0),
    ADD COLUMN foreign_amount numeric(18,4) CHECK (foreign_amount > 0),
    ADD CONSTRAINT transactions_currency_complete
        CHECK ((currency IS NULL) = (rate IS NULL) AND (currency IS NULL) = (foreign_amount IS NULL));

ALTER TABLE transaction_splits
    ADD COLUMN foreign_amount numeric(18,4) CHECK (foreign_amount > 0);

-- Matching a bank line in another currency to a transaction entered by hand in it: the same
-- currency and amount, a few days apart.
CREATE INDEX transactions_hand_entered_foreign_idx
    ON transactions (ledger_id, currency, foreign_amount, occurred_on)
    WHERE currency IS NOT NULL AND bank_id IS NULL AND import_key IS NULL;

-- A recurring rule in another currency: each occurrence takes the ledger's rate of its date.
ALTER TABLE recurring_rules ADD COLUMN currency text CHECK (currency ~ '^[A-Z]{3}$');
ALTER TABLE recurring_occurrences DROP CONSTRAINT recurring_occurrences_reason_check;
ALTER TABLE recurring_occurrences ADD CONSTRAINT recurring_occurrences_reason_check
    CHECK (reason IN ('budget_exceeded', 'rate_unknown'));

-- The rate a preview found for a row in another currency (the commit records that one).
ALTER TABLE import_rows ADD COLUMN rate numeric CHECK (rate > 0);

ALTER TABLE ledger_changes DROP CONSTRAINT ledger_changes_entity_check;
ALTER TABLE ledger_changes ADD CONSTRAINT ledger_changes_entity_check
    CHECK (entity IN ('transaction', 'category', 'budget', 'recurring', 'member', 'invitation',
                      'webhook', 'rule', 'import', 'ledger', 'rate'));

-- At COMMIT, as 0017's check, and for a foreign transaction also: every line has its share in
-- the transaction's currency, and those shares sum exactly to its foreign amount.
CREATE OR REPLACE FUNCTION transaction_splits_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_ledger   bigint;
    v_id       bigint;
    v_category bigint;
    v_amount   numeric;
    v_foreign  numeric;
    v_lines    integer;
    v_sum      numeric;
    v_fsum     numeric;
    v_fcount   integer;
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
    SELECT category_id, amount, foreign_amount INTO v_category, v_amount, v_foreign
    FROM transactions WHERE ledger_id = v_ledger AND id = v_id;
    IF NOT FOUND THEN
        RETURN NULL;  -- deleted: its lines went with it
    END IF;
    SELECT count(*), coalesce(sum(amount), 0), coalesce(sum(foreign_amount), 0),
           count(foreign_amount)
    INTO v_lines, v_sum, v_fsum, v_fcount
    FROM transaction_splits WHERE ledger_id = v_ledger AND transaction_id = v_id;
    IF v_category IS NULL AND (v_lines NOT BETWEEN 2 AND 50 OR v_sum <> v_amount)
       OR v_category IS NOT NULL AND v_lines > 0
       OR v_category IS NULL AND v_foreign IS NULL AND v_fcount > 0
       OR v_category IS NULL AND v_foreign IS NOT NULL AND (v_fcount <> v_lines OR v_fsum <> v_foreign) THEN
        RAISE EXCEPTION 'transaction % of ledger %: % lines summing to % (% in its currency), amount % (%), category %',
                        v_id, v_ledger, v_lines, v_sum, v_fsum, v_amount, v_foreign, v_category
            USING ERRCODE = 'check_violation', CONSTRAINT = 'transaction_splits_balanced';
    END IF;
    RETURN NULL;
END
$$;
DROP TRIGGER transactions_splits_balanced_update ON transactions;
CREATE CONSTRAINT TRIGGER transactions_splits_balanced_update
AFTER UPDATE OF category_id, amount, foreign_amount ON transactions
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW WHEN (NEW.category_id IS NULL OR OLD.category_id IS NULL)
EXECUTE FUNCTION transaction_splits_balanced();

-- The REST shape (0017) in several currencies: `amount` is the transaction's own (in its
-- currency), and three columns are appended: `currency` (NULL: the ledger's), `rate` (NULL: the
-- ledger's currency) and `ledger_amount`. Each line's `amount` is in the transaction's currency
-- and its `ledger_amount` is its share in the ledger's.
CREATE OR REPLACE VIEW transactions_shown AS
SELECT t.ledger_id, t.id, t.category_id, c.name AS category, t.type,
       coalesce(t.foreign_amount, t.amount)::numeric(18,4) AS amount, t.description,
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
                                                   'amount', coalesce(s.foreign_amount, s.amount)::text,
                                                   'memo', s.memo,
                                                   'ledger_amount', s.amount::text) ORDER BY s.line_no)
                 FROM transaction_splits s
                 JOIN categories sc ON sc.ledger_id = s.ledger_id AND sc.id = s.category_id
                 WHERE s.ledger_id = t.ledger_id AND s.transaction_id = t.id),
                '[]'::json) AS splits,
       t.payee_id,
       t.currency,
       t.rate,
       t.amount AS ledger_amount
FROM transactions t
LEFT JOIN categories c ON c.ledger_id = t.ledger_id AND c.id = t.category_id
LEFT JOIN payees p ON p.ledger_id = t.ledger_id AND p.id = t.payee_id
LEFT JOIN users u ON u.id = t.created_by;
