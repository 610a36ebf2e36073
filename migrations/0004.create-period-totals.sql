-- Analytics read one set of rows for any period: whole months from monthly_totals and the partial
-- months at its edges (head and tail day ranges) from daily_totals. The caller splits the period;
-- a NULL bound leaves that part out. A single-SELECT SQL function: the planner inlines it, so
-- each part is an index range scan on the totals' primary keys.
-- depends: 0003.create-budgets-alerts-totals

CREATE FUNCTION period_totals(
    p_user bigint,
    p_month_from date, p_month_to date,  -- whole months: month_from <= month < month_to
    p_head_from date, p_head_to date,    -- days before the first whole month (inclusive)
    p_tail_from date, p_tail_to date     -- days after the last whole month (inclusive)
) RETURNS TABLE (month date, category_id bigint, type text, amount numeric)
LANGUAGE sql STABLE AS $$
    SELECT m.month, m.category_id, m.type, m.amount
    FROM monthly_totals m
    WHERE m.user_id = p_user AND m.month >= p_month_from AND m.month < p_month_to
    UNION ALL
    SELECT date_trunc('month', d.day)::date, d.category_id, d.type, d.amount
    FROM daily_totals d
    WHERE d.user_id = p_user AND d.day BETWEEN p_head_from AND p_head_to
    UNION ALL
    SELECT date_trunc('month', d.day)::date, d.category_id, d.type, d.amount
    FROM daily_totals d
    WHERE d.user_id = p_user AND d.day BETWEEN p_tail_from AND p_tail_to
$$;
