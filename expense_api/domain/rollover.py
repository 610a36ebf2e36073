"""Budget rollover (../shared/API.md "Budgets: rollover and copying"): a month's `available` is
its budget's amount plus what it `carried` from the month before, when that month has a budget
of the same scope. The carry follows the later month's own policy: `surplus` takes the positive
part of what was left (available minus spent), `deficit` the negative part, `both` either,
`none` nothing; a month without a budget ends the chain.

The arithmetic is PostgreSQL's, written once (migration 0024, the budget_rollover aggregate),
so that enforcement decides in the round trip that holds the budgets' locks and every reader
(usage, alerts, imports: sql/budgets.sql, chains) gets the same figures.
"""

ROLLOVERS = ("none", "surplus", "deficit", "both")
