-- The delivery job sends each endpoint's due deliveries in a lane of its own (issue 25: one slow
-- receiver must not delay the other endpoints). Its two claims read pending deliveries by
-- endpoint: claim_due the most overdue one of each endpoint (DISTINCT ON ledger_id, endpoint_id),
-- claim_next the most overdue one of one endpoint. This index answers both in the index's order,
-- without reading an endpoint's delivered history (webhook_deliveries_endpoint_idx) or every
-- due row of the other endpoints (webhook_deliveries_due_idx).
--
-- Built inside the migration's transaction (yoyo's default), which blocks writes to
-- webhook_deliveries while it builds: API writes into ledgers with webhooks wait that long. The
-- index is partial (pending rows only), so its build reads the table once and sorts little; on a
-- large history, apply it in a quiet moment.
-- depends: 0014.recurring-fair-claims

CREATE INDEX webhook_deliveries_pending_per_endpoint_idx
    ON webhook_deliveries (ledger_id, endpoint_id, next_attempt_at, id)
    WHERE status = 'pending';
