-- Run once by the postgres image when it creates the cluster (docker-entrypoint-initdb.d).
-- PgBouncer's transaction pooling drops per-connection start-up options, so the settings the
-- service sends at connect in DB_POOL_MODE=session are the role's own here; the API checks at
-- start that they are in force (expense_api.db.pool.check_pooled_session_settings) and
-- refuses to start otherwise. Keep statement_timeout equal to DB_STATEMENT_TIMEOUT_MS.
ALTER ROLE CURRENT_USER SET TimeZone = 'UTC';
ALTER ROLE CURRENT_USER SET statement_timeout = 5000;
