-- Back to rules without failure records: a rule the worker paused as failing stays paused, as
-- if a member had paused it (the older reasons cannot say why).
UPDATE recurring_rules SET paused_reason = NULL WHERE paused_reason = 'failing';
ALTER TABLE recurring_rules DROP CONSTRAINT recurring_rules_paused_reason_check;
ALTER TABLE recurring_rules ADD CONSTRAINT recurring_rules_paused_reason_check
    CHECK (paused_reason IN ('member_left', 'member_cannot_write'));
ALTER TABLE recurring_rules DROP COLUMN last_error, DROP COLUMN retry_at, DROP COLUMN failures;
