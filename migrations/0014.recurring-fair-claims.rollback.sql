-- Back to the claim of the oldest due date across all ledgers.
CREATE INDEX recurring_rules_due_idx ON recurring_rules (next_date)
    WHERE NOT paused AND next_date IS NOT NULL;
DROP INDEX recurring_rules_due_by_ledger_idx;
DROP FUNCTION date_in_zone(timestamptz, text);
