-- Enforced writes decided in the lock's own round trip (issue 33). The budget rule moves into
-- the database, where the locks are: a write's check (lock, read, decide, fire alerts, or refuse)
-- is one function call queued in the same pipeline as the write's insert, its change-log entry
-- and its COMMIT, so the budget rows' locks are held only while PostgreSQL works, never while
-- a Python thread waits for a core between two round trips.
--
-- Why functions here and not a CTE in sql/: the check must RAISE to stop the statements queued
-- after it (a CTE cannot refuse), it runs its statements one after the other with a fresh
-- snapshot each (the chains are read after the locks, seeing every writer that held them), and
-- the rollover arithmetic it needs is also what usage, alerts and imports read: written once,
-- as the aggregate below, it is the same for all. docs/ARCHITECTURE.md, "Budget enforcement".
-- depends: 0023.account-security

-- The rollover arithmetic (../shared/API.md "Budgets: rollover and copying"), once: run over a
-- scope's months in order (`OVER (PARTITION BY scope ORDER BY year, month)`) it gives each
-- month's {available, left, period, carried}: `available` is the budget's amount plus what it
-- carried from the month before, when that month has a budget of the scope (the calendar
-- month right before: a gap starts afresh). The carry follows the later month's own policy:
-- `surplus` takes the positive part of what was left (available minus spent), `deficit` the
-- negative part, `both` either, `none` nothing.
-- (PL/pgSQL, like every function here that a write calls: its plans are kept per connection,
-- where a SQL function that is not inlined is planned again at every call.)
CREATE FUNCTION budget_rollover_step(state numeric[], amount numeric, rollover text,
                                     spent numeric, period integer)
RETURNS numeric[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    carried numeric := 0;
BEGIN
    IF state IS NOT NULL AND period - state[3] = 1 THEN
        carried := CASE rollover WHEN 'surplus' THEN greatest(state[2], 0)
                                 WHEN 'deficit' THEN least(state[2], 0)
                                 WHEN 'both' THEN state[2]
                                 ELSE 0 END;
    END IF;
    RETURN ARRAY[amount + carried, amount + carried - spent, period, carried];
END
$$;

CREATE AGGREGATE budget_rollover(numeric, text, numeric, integer) (
    SFUNC = budget_rollover_step,
    STYPE = numeric[]
);

-- For each scope given (ledger, year, month, category; NULL category = overall), the months of
-- its rollover chain with what each spent (the exact totals): back from the scope's month while
-- a month carries from the one before (rollover not `none`, and that month has a budget of the
-- scope), and with `p_forward` on to the later months that carry from it. `scope_no` numbers
-- the scopes from 1 in the order given; each scope's months oldest first. A scope whose month
-- has no budget has no rows. Every step is a probe of budgets_scope_key, every month's spent a
-- range of the monthly totals.
CREATE FUNCTION budget_chains(p_ledger_ids bigint[], p_years smallint[], p_months smallint[],
                              p_category_ids bigint[], p_forward boolean)
RETURNS TABLE (scope_no bigint, ledger_id bigint, id bigint, category_id bigint, year smallint,
               month smallint, amount numeric, mode text, alert_threshold smallint,
               rollover text, spent numeric)
LANGUAGE sql STABLE AS $$
WITH RECURSIVE k AS (
    SELECT *
    FROM unnest(p_ledger_ids, p_years, p_months, p_category_ids)
         WITH ORDINALITY AS k(ledger_id, year, month, category_id, scope_no)
), back AS (
    SELECT k.scope_no, b.ledger_id, b.id, b.year, b.month, b.category_id, b.rollover
    FROM k
    JOIN budgets b
      ON b.ledger_id = k.ledger_id AND b.year = k.year AND b.month = k.month
     AND b.category_id IS NOT DISTINCT FROM k.category_id
    UNION ALL
    SELECT c.scope_no, p.ledger_id, p.id, p.year, p.month, p.category_id, p.rollover
    FROM back c
    JOIN budgets p
      ON p.ledger_id = c.ledger_id
     AND p.year = CASE WHEN c.month = 1 THEN c.year - 1 ELSE c.year END
     AND p.month = CASE WHEN c.month = 1 THEN 12 ELSE c.month - 1 END
     AND p.category_id IS NOT DISTINCT FROM c.category_id
    WHERE c.rollover <> 'none'
), forth AS (
    SELECT k.scope_no, b.ledger_id, b.id, b.year, b.month, b.category_id
    FROM k
    JOIN budgets b
      ON b.ledger_id = k.ledger_id AND b.year = k.year AND b.month = k.month
     AND b.category_id IS NOT DISTINCT FROM k.category_id
    WHERE p_forward
    UNION ALL
    SELECT c.scope_no, n.ledger_id, n.id, n.year, n.month, n.category_id
    FROM forth c
    JOIN budgets n
      ON n.ledger_id = c.ledger_id
     AND n.year = CASE WHEN c.month = 12 THEN c.year + 1 ELSE c.year END
     AND n.month = CASE WHEN c.month = 12 THEN 1 ELSE c.month + 1 END
     AND n.category_id IS NOT DISTINCT FROM c.category_id
     AND n.rollover <> 'none'
), months AS (
    SELECT scope_no, ledger_id, id FROM back
    UNION
    SELECT scope_no, ledger_id, id FROM forth
)
SELECT m.scope_no, b.ledger_id, b.id, b.category_id, b.year, b.month, b.amount, b.mode,
       b.alert_threshold, b.rollover,
       coalesce((SELECT sum(t.amount)
                 FROM monthly_totals t
                 WHERE t.ledger_id = b.ledger_id AND t.month = make_date(b.year, b.month, 1)
                   AND t.type = 'EXPENSE'
                   AND (b.category_id IS NULL OR t.category_id = b.category_id)), 0) AS spent
FROM months m
JOIN budgets b ON b.ledger_id = m.ledger_id AND b.id = m.id
ORDER BY m.scope_no, b.year, b.month
$$;

-- Locks the budgets a write can make spend more or have less available, until the transaction
-- ends: for each scope given (year, month, category; NULL category = overall) its own month's
-- budget and, while the next month has a budget of the scope that carries something over
-- (rollover not `none`), that one, and so on. Always in the same order (period, overall first,
-- then category id), so two writers never deadlock: a writer into an earlier month takes the
-- later months' locks after its own, as a writer into a later month does. Run after the shared
-- scope lock: no budget can appear, go or change its rollover meanwhile.
CREATE FUNCTION lock_budget_chains(p_ledger_id bigint, p_years smallint[], p_months smallint[],
                                   p_category_ids bigint[])
RETURNS TABLE (id bigint, category_id bigint, year smallint, month smallint, amount numeric,
               mode text, alert_threshold smallint, rollover text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH RECURSIVE k AS (
        SELECT * FROM unnest(p_years, p_months, p_category_ids) AS k(year, month, category_id)
    ), chain AS (
        SELECT b.id, b.year, b.month, b.category_id
        FROM k
        JOIN budgets b
          ON b.ledger_id = p_ledger_id AND b.year = k.year AND b.month = k.month
         AND b.category_id IS NOT DISTINCT FROM k.category_id
        UNION
        SELECT n.id, n.year, n.month, n.category_id
        FROM chain c
        JOIN budgets n
          ON n.ledger_id = p_ledger_id
         AND n.year = CASE WHEN c.month = 12 THEN c.year + 1 ELSE c.year END
         AND n.month = CASE WHEN c.month = 12 THEN 1 ELSE c.month + 1 END
         AND n.category_id IS NOT DISTINCT FROM c.category_id
         AND n.rollover <> 'none'
    )
    SELECT b.id, b.category_id, b.year, b.month, b.amount, b.mode, b.alert_threshold, b.rollover
    FROM budgets b
    WHERE b.ledger_id = p_ledger_id AND b.id IN (SELECT id FROM chain)
    ORDER BY b.year, b.month, b.category_id NULLS FIRST
    FOR UPDATE OF b;
END
$$;

-- Fires the alerts that spending reaches for budgets (arrays of one length: the budget, what
-- its month spends, what it has available: its amount plus what it carried, its threshold):
-- the threshold alert and the limit alert, each once per budget, when spent reaches that share
-- of available (compared exactly: 99.996% shows as "100.00" but has not reached the limit);
-- nothing available (a deficit carried in took it all) is the limit reached, 100.00%. Answers
-- the alerts it recorded, in the order given (threshold before limit); one that had fired
-- before is not recorded again.
CREATE FUNCTION fire_budget_alerts(p_ledger_id bigint, p_budget_ids bigint[], p_spent numeric[],
                                   p_available numeric[], p_thresholds smallint[])
RETURNS TABLE (id bigint, ledger_id bigint, budget_id bigint, kind text, percent_used numeric,
               recurring_id bigint, created_at timestamptz, read_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    -- Most writes reach neither alert: then no INSERT is started.
    IF NOT EXISTS (SELECT 1
                   FROM unnest(p_spent, p_available, p_thresholds) AS x(spent, available, threshold)
                   WHERE x.spent * 100 >= x.available * x.threshold
                      OR x.spent >= x.available) THEN
        RETURN;
    END IF;
    RETURN QUERY
    INSERT INTO alerts AS a (ledger_id, budget_id, kind, percent_used)
    SELECT p_ledger_id, x.budget_id, k.kind,
           -- Half up to 2 decimals, exactly: floor(spent / available * 10,000 + 1/2) / 100.
           CASE WHEN x.available > 0
                THEN div(x.spent * 20000 + x.available, 2 * x.available) * 0.01
                ELSE 100.00 END
    FROM unnest(p_budget_ids, p_spent, p_available, p_thresholds) WITH ORDINALITY
         AS x(budget_id, spent, available, threshold, position)
    CROSS JOIN (VALUES ('threshold', 1), ('limit', 2)) AS k(kind, k_position)
    WHERE x.spent * 100 >= x.available
                           * CASE k.kind WHEN 'threshold' THEN x.threshold ELSE 100 END
    ORDER BY x.position, k.k_position
    ON CONFLICT (ledger_id, budget_id, kind) WHERE kind IN ('threshold', 'limit') DO NOTHING
    RETURNING a.id, a.ledger_id, a.budget_id, a.kind, a.percent_used, a.recurring_id,
              a.created_at, NULL::timestamptz;
END
$$;

-- The budget rule of a write that turns a transaction's old state into its new one, given as
-- the scopes either spends in (year, month, category; NULL category = overall) with what the
-- old state (`p_before`) and the new one (`p_after`) spend there, in the ledger's currency
-- (services/budget_guard.py, spending_of, maps a transaction to them). In order:
-- 1. nothing rises: nothing locked, nothing fired;
-- 2. the ledger's budget scope lock, shared (budget writes take it exclusively);
-- 3. the row locks of the budgets the write touches (lock_budget_chains), in the fixed order;
-- 4. their chains with what each month spent (a statement of its own after the locks: it sees
--    every write committed by those who held them before), and each month's available amount
--    before and after the write (budget_rollover);
-- 5. the first hard budget, by period (in a month, category budgets by id, then the overall
--    one), that would end above its available amount, in a month the write raises or in a later
--    month whose available amount it lowers (equal is fine), refuses: SQLSTATE EB409, message
--    budget_exceeded, DETAIL the figures as JSON (exact decimal strings) for the 409's wording;
--    the statements queued after this one do not run;
-- 6. otherwise the alerts the write makes fire (each raised budget's threshold and limit, once
--    each, against what it has available; nothing available is 100.00%), returned as inserted.
CREATE FUNCTION enforce_budgets(p_ledger_id bigint, p_years smallint[], p_months smallint[],
                                p_category_ids bigint[], p_before numeric[], p_after numeric[])
RETURNS TABLE (id bigint, ledger_id bigint, budget_id bigint, kind text, percent_used numeric,
               recurring_id bigint, created_at timestamptz, read_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_years     smallint[];
    v_months    smallint[];
    v_cats      bigint[];
    v_locked    bigint[];
    v_state     record;
    v_ids       bigint[] := '{}';
    v_spent     numeric[] := '{}';
    v_available numeric[] := '{}';
    v_threshold smallint[] := '{}';
BEGIN
    SELECT array_agg(s.year ORDER BY s.year, s.month, s.category_id NULLS FIRST),
           array_agg(s.month ORDER BY s.year, s.month, s.category_id NULLS FIRST),
           array_agg(s.category_id ORDER BY s.year, s.month, s.category_id NULLS FIRST)
      INTO v_years, v_months, v_cats
    FROM unnest(p_years, p_months, p_category_ids, p_before, p_after)
         AS s(year, month, category_id, before, after)
    WHERE s.after > s.before;
    IF v_years IS NULL THEN
        RETURN;
    END IF;

    PERFORM pg_advisory_xact_lock_shared(1001, mod(p_ledger_id, 2147483647)::int);
    SELECT array_agg(l.id) INTO v_locked
    FROM lock_budget_chains(p_ledger_id, v_years, v_months, v_cats) AS l;
    IF v_locked IS NULL THEN
        RETURN;  -- no budget in any scope it raises
    END IF;

    FOR v_state IN
        WITH s AS (
            SELECT *
            FROM unnest(p_years, p_months, p_category_ids, p_before, p_after)
                 AS s(year, month, category_id, before, after)
        ), chain AS (
            SELECT c.*, c.spent - coalesce(s.before, 0) + coalesce(s.after, 0) AS spent_after,
                   coalesce(s.before, 0) AS own_before,
                   coalesce(s.after, 0) > coalesce(s.before, 0) AS rises
            FROM budget_chains(array_fill(p_ledger_id, ARRAY[cardinality(v_years)]), v_years,
                               v_months, v_cats, true) AS c
            LEFT JOIN s
              ON s.year = c.year AND s.month = c.month
             AND s.category_id IS NOT DISTINCT FROM c.category_id
        ), states AS (
            SELECT c.*,
                   budget_rollover(c.amount, c.rollover, c.spent, c.year * 12 + c.month) OVER w
                       AS was,
                   budget_rollover(c.amount, c.rollover, c.spent_after, c.year * 12 + c.month)
                       OVER w AS will
            FROM chain c
            WINDOW w AS (PARTITION BY c.scope_no ORDER BY c.year, c.month)
        ), locked AS (
            -- A month of several chains (two scopes of one write in one chain) is the same
            -- month in each.
            SELECT DISTINCT ON (st.id) st.*
            FROM states st
            WHERE st.id = ANY(v_locked)
            ORDER BY st.id
        )
        SELECT l.id, l.category_id, l.year, l.month, l.amount, l.mode, l.alert_threshold,
               l.spent AS spent_before, l.spent_after, l.own_before, l.rises,
               l.was[1] AS available_before, l.will[1] AS available_after,
               l.will[4] AS carried_after
        FROM locked l
        ORDER BY l.year, l.month, l.category_id IS NULL, l.category_id
    LOOP
        IF NOT v_state.rises AND v_state.available_after >= v_state.available_before THEN
            CONTINUE;  -- locked as a later month of a chain this write leaves untouched
        END IF;
        IF v_state.mode = 'hard' AND v_state.spent_after > v_state.available_after THEN
            RAISE EXCEPTION USING
                ERRCODE = 'EB409',
                MESSAGE = 'budget_exceeded',
                DETAIL = json_build_object(
                    'id', v_state.id,
                    'category_id', v_state.category_id,
                    'year', v_state.year,
                    'month', v_state.month,
                    'amount', v_state.amount::text,
                    'carried', v_state.carried_after::text,
                    'available_before', v_state.available_before::text,
                    'available', v_state.available_after::text,
                    'spent_before', v_state.spent_before::text,
                    'spent_after', v_state.spent_after::text,
                    'own_before', v_state.own_before::text)::text;
        END IF;
        v_ids := v_ids || v_state.id;
        v_spent := v_spent || v_state.spent_after;
        v_available := v_available || v_state.available_after;
        v_threshold := v_threshold || v_state.alert_threshold;
    END LOOP;

    RETURN QUERY
    SELECT * FROM fire_budget_alerts(p_ledger_id, v_ids, v_spent, v_available, v_threshold);
END
$$;

-- A transaction's change-log image (its REST shape as services/changes/shapes.py renders it),
-- from its row of transactions_shown: money with the ledger currency's `p_digits` (half up; its
-- own amount with its currency's, from `p_digits_of`, {code: digits}, when it is not the
-- ledger's `p_currency`), dates as ISO dates, timestamps in UTC to the millisecond with a `Z`.
-- tests/ledgers/test_change_log_shapes.py holds it equal to the API's answer.
CREATE FUNCTION transaction_image(t transactions_shown, p_digits integer, p_digits_of jsonb,
                                  p_currency text)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN jsonb_build_object(
        'id', t.id,
        'amount', round(t.amount, coalesce((p_digits_of ->> t.currency)::int, p_digits))::text,
        'type', t.type,
        'categoryId', t.category_id,
        'category', t.category,
        'description', t.description,
        'date', to_char(t.occurred_on, 'YYYY-MM-DD'),
        'createdAt', to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'createdBy', t.created_by::jsonb,
        'payee', t.payee,
        'tags', to_jsonb(t.tags),
        'splits', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                              'categoryId', (l ->> 'category_id')::bigint,
                              'category', l ->> 'category',
                              'amount', round((l ->> 'amount')::numeric,
                                              coalesce((p_digits_of ->> t.currency)::int,
                                                       p_digits))::text,
                              'memo', l ->> 'memo',
                              'ledgerAmount', round((l ->> 'ledger_amount')::numeric,
                                                    p_digits)::text) ORDER BY n), '[]'::jsonb)
                   FROM json_array_elements(t.splits) WITH ORDINALITY AS x(l, n)),
        'currency', coalesce(t.currency, p_currency),
        'rate', trim_scale(t.rate)::text,
        'ledgerAmount', round(t.ledger_amount, p_digits)::text
    );
END
$$;
