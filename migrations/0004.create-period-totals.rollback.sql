DROP FUNCTION period_totals(bigint, date, date, date, date, date, date);
