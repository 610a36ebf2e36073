DROP TRIGGER transactions_keep_totals ON transactions;
DROP FUNCTION keep_transaction_totals();
DROP FUNCTION bump_daily_total(bigint, date, bigint, text, numeric, integer);
DROP FUNCTION bump_monthly_total(bigint, date, bigint, text, numeric, integer);
DROP TABLE daily_totals;
DROP TABLE monthly_totals;
DROP TABLE alerts;
DROP TABLE budgets;
