-- An import lists a row of amount zero as invalid (reason: zero amount), with its amount: the
-- row's check allows zero (0018 refused it). A transaction's amount stays above zero.
-- depends: 0018.imports-and-rules
ALTER TABLE import_rows DROP CONSTRAINT import_rows_amount_check;
ALTER TABLE import_rows ADD CONSTRAINT import_rows_amount_check CHECK (amount >= 0);
