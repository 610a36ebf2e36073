-- Back to 0020: budgets lose their rollover (each month's available is its amount again).
ALTER TABLE budgets DROP COLUMN rollover;
