-- Back to before recurring transactions: the rules, their occurrences and the recurring_skipped
-- alerts go; the transactions the rules created stay (they are ordinary transactions).
DELETE FROM alerts WHERE kind = 'recurring_skipped';
DROP INDEX alerts_budget_idx;
DROP INDEX alerts_ledger_id_budget_id_kind_key;
ALTER TABLE alerts ADD CONSTRAINT alerts_ledger_id_budget_id_kind_key
    UNIQUE (ledger_id, budget_id, kind);
DROP INDEX alerts_recurring_idx;
ALTER TABLE alerts DROP CONSTRAINT alerts_ledger_id_recurring_id_fkey;
ALTER TABLE alerts DROP COLUMN recurring_id;
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('threshold', 'limit'));

DROP TABLE recurring_occurrences;
DROP TABLE recurring_rules;
