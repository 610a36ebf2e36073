DROP TABLE idempotency_keys;
DROP TABLE transactions;
DROP TABLE categories;
