"""The ledger change log: the one write hook every change to a ledger's data goes through
(hook), the entities' REST shapes it records (shapes), which door a change came through (door),
and reading the log back: the audit trail and delta sync."""
