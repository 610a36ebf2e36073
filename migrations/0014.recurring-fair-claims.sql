-- The worker's claim becomes fair across ledgers and stops failing for everyone over one
-- ledger's time zone (issue 25). See docs/RECURRING.md, "Fairness" and "Time zones".
--
-- date_in_zone: the date at a moment in a time zone, or NULL when this database does not know
-- the zone (where `AT TIME ZONE` raises "time zone ... not recognized"). The claim uses it, so a
-- ledger whose stored zone the database does not know (written before the API asked the
-- database, or dropped by a PostgreSQL upgrade) fails for its own rules only; the API uses it to
-- accept only zones the database knows. The exception block costs about a microsecond per call.
--
-- recurring_rules_due_by_ledger_idx: the claim now walks the ledgers in turn (the first ledger
-- after the worker's last one that has a date due, its oldest due date first), which is this
-- index's order. recurring_rules_due_idx (next_date) stays: the claim asks it first whether
-- anything at all is due, so an idle tick reads a page or two instead of the whole new index.
--
-- PARALLEL RESTRICTED: an EXCEPTION block starts a subtransaction, which a parallel worker
-- cannot (a parallel plan over ledgers calling it would fail).
-- depends: 0013.recurring-rule-failures

CREATE FUNCTION date_in_zone(moment timestamptz, zone text) RETURNS date
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED AS $$
BEGIN
    RETURN (moment AT TIME ZONE zone)::date;
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN NULL;
END
$$;

CREATE INDEX recurring_rules_due_by_ledger_idx ON recurring_rules (ledger_id, next_date, id)
    WHERE NOT paused AND next_date IS NOT NULL;
