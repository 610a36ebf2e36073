-- name: database_exists$
-- The server, not a ledger: used when setting up the embedded server and the tests' throwaway databases.
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = %(name)s)
