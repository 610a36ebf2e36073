-- Back to 0017: imports, their rows and rules go; transactions forget where they came from.
DROP TABLE rules;
DROP INDEX transactions_hand_entered_idx;
DROP INDEX transactions_import_idx;
DROP INDEX transactions_import_key_key;
DROP INDEX transactions_bank_id_key;
ALTER TABLE transactions DROP CONSTRAINT transactions_ledger_id_import_id_fkey;
ALTER TABLE transactions
    DROP COLUMN import_id,
    DROP COLUMN import_key,
    DROP COLUMN bank_id,
    DROP COLUMN account;
DROP TABLE import_rows;
DROP TABLE imports;
