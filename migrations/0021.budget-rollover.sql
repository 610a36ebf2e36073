-- Budget rollover (issue 31, ../shared/API.md "Budgets: rollover and copying").
--
-- A budget's `rollover` says what its month takes from the month before when that month has a
-- budget of the same scope: `surplus` the positive part of what was left there (available minus
-- spent), `deficit` the negative part, `both` either, `none` nothing. A month's available amount
-- is its amount plus what it carried; chains run through consecutive months of one scope and
-- end at a month without a budget or with `none`. Nothing is stored but the policy: carried
-- amounts are computed from the budgets and the exact monthly totals (services/budget_guard.py,
-- docs/ARCHITECTURE.md "Budget rollover").
-- depends: 0020.several-currencies

ALTER TABLE budgets ADD COLUMN rollover text NOT NULL DEFAULT 'none'
    CHECK (rollover IN ('none', 'surplus', 'deficit', 'both'));
