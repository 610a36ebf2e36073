-- Recurring rules that keep failing: when handling a rule raises an unexpected error (a bug its
-- values trigger, a constraint its write violates, a statement timeout), the worker records the
-- failure on the rule and passes it over until retry_at, so the rules due after it go on; the
-- tenth failure in a row pauses it (paused_reason 'failing') for a human to look at. A handled
-- date, or resuming the rule, resets all three columns. See docs/RECURRING.md, "Failures".
--
-- recurring_rules_due_idx (next_date) WHERE NOT paused AND next_date IS NOT NULL still serves
-- the claim: retry_at is a filter on the few rules that failed (their rows are read and passed
-- over), and it cannot join the index's predicate (it is compared with the worker's clock), so
-- the index stays as it is.
-- depends: 0012.analytics-cache-generations

ALTER TABLE recurring_rules
    -- Failures in a row (0 once a date is handled or the rule is resumed).
    ADD COLUMN failures   integer     NOT NULL DEFAULT 0 CHECK (failures >= 0),
    -- The claim passes the rule over until then (NULL: claimed as soon as a date is due).
    ADD COLUMN retry_at   timestamptz,
    -- The last failure: the exception's class and the first line of its message, no traceback.
    ADD COLUMN last_error text        CHECK (char_length(last_error) <= 500);

ALTER TABLE recurring_rules DROP CONSTRAINT recurring_rules_paused_reason_check;
ALTER TABLE recurring_rules ADD CONSTRAINT recurring_rules_paused_reason_check
    CHECK (paused_reason IN ('member_left', 'member_cannot_write', 'failing'));
