-- Back to reports without the analytics cache generations.
DROP TRIGGER categories_bump_generation ON categories;
DROP TRIGGER budgets_bump_generation ON budgets;
DROP TRIGGER daily_totals_bump_generation ON daily_totals;
DROP TRIGGER monthly_totals_bump_generation ON monthly_totals;
DROP FUNCTION bump_ledger_generation();
DROP TABLE ledger_generations;
