-- Back to the claim of the oldest due date across all ledgers (recurring_rules_due_idx stayed).
DROP INDEX recurring_rules_due_by_ledger_idx;
DROP FUNCTION date_in_zone(timestamptz, text);
