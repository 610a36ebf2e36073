-- Back to 0018: zero-amount rows cannot be kept; they are dropped from their imports' lists.
DELETE FROM import_rows WHERE amount = 0;
ALTER TABLE import_rows DROP CONSTRAINT import_rows_amount_check;
ALTER TABLE import_rows ADD CONSTRAINT import_rows_amount_check CHECK (amount > 0);
