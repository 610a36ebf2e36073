-- Back to 0019: only when every transaction and rule is in its ledger's currency (a foreign one
-- would lose what it was recorded in), and no rate is in the change log.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM transactions WHERE currency IS NOT NULL)
       OR EXISTS (SELECT 1 FROM recurring_rules WHERE currency IS NOT NULL) THEN
        RAISE EXCEPTION 'transactions or recurring rules in another currency exist: delete them first';
    END IF;
END
$$;
DELETE FROM ledger_changes WHERE entity = 'rate';
ALTER TABLE ledger_changes DROP CONSTRAINT ledger_changes_entity_check;
ALTER TABLE ledger_changes ADD CONSTRAINT ledger_changes_entity_check
    CHECK (entity IN ('transaction', 'category', 'budget', 'recurring', 'member', 'invitation',
                      'webhook', 'rule', 'import', 'ledger'));
DELETE FROM recurring_occurrences WHERE reason = 'rate_unknown';
ALTER TABLE recurring_occurrences DROP CONSTRAINT recurring_occurrences_reason_check;
ALTER TABLE recurring_occurrences ADD CONSTRAINT recurring_occurrences_reason_check
    CHECK (reason IN ('budget_exceeded'));
ALTER TABLE recurring_rules DROP COLUMN currency;
ALTER TABLE import_rows DROP COLUMN rate;

DROP VIEW transactions_shown;
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

DROP TRIGGER transactions_splits_balanced_update ON transactions;
CREATE CONSTRAINT TRIGGER transactions_splits_balanced_update
AFTER UPDATE OF category_id, amount ON transactions
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW WHEN (NEW.category_id IS NULL OR OLD.category_id IS NULL)
EXECUTE FUNCTION transaction_splits_balanced();
-- 0017's check, before the columns it reads go.
CREATE OR REPLACE FUNCTION transaction_splits_balanced() RETURNS trigger
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
DROP INDEX transactions_hand_entered_foreign_idx;
ALTER TABLE transaction_splits DROP COLUMN foreign_amount;
ALTER TABLE transactions DROP CONSTRAINT transactions_currency_complete;
ALTER TABLE transactions DROP COLUMN foreign_amount, DROP COLUMN rate, DROP COLUMN currency;
DROP TABLE ledger_rates;
