-- Back to 0023: the rule decided in Python (the service's code of that time).
DROP FUNCTION transaction_image(transactions_shown, integer, jsonb, text);
DROP FUNCTION enforce_budgets(bigint, smallint[], smallint[], bigint[], numeric[], numeric[]);
DROP FUNCTION fire_budget_alerts(bigint, bigint[], numeric[], numeric[], smallint[]);
DROP FUNCTION lock_budget_chains(bigint, smallint[], smallint[], bigint[]);
DROP FUNCTION budget_chains(bigint[], smallint[], smallint[], bigint[], boolean);
DROP AGGREGATE budget_rollover(numeric, text, numeric, integer);
DROP FUNCTION budget_rollover_step(numeric[], numeric, text, numeric, integer);
