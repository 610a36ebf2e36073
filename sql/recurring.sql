-- name: insert^
-- A new rule, acting as the member who creates it. The (ledger_id, category_id) foreign key
-- refuses another ledger's category. `currency` NULL: the ledger's (each occurrence of another
-- takes the ledger's rate of its date).
INSERT INTO recurring_rules
    (ledger_id, acts_as, category_id, type, amount, currency, description, frequency,
     repeat_interval, by_weekday, by_month_day, start_date, end_date, max_occurrences, paused,
     next_date)
VALUES (%(ledger_id)s, %(acts_as)s, %(category_id)s, %(type)s, %(amount)s, %(currency)s,
        %(description)s, %(frequency)s, %(repeat_interval)s, %(by_weekday)s, %(by_month_day)s,
        %(start_date)s, %(end_date)s, %(max_occurrences)s, %(paused)s, %(next_date)s)
RETURNING id

-- name: get_by_id^
SELECT r.id, r.ledger_id, r.acts_as, r.category_id, c.name AS category, r.type, r.amount,
       r.currency, r.description, r.frequency, r.repeat_interval, r.by_weekday, r.by_month_day,
       r.start_date, r.end_date, r.max_occurrences, r.paused, r.paused_reason, r.last_date,
       r.next_date, r.occurrence_count, r.failures, r.retry_at, r.last_error, r.created_at
FROM recurring_rules r
JOIN categories c ON c.ledger_id = r.ledger_id AND c.id = r.category_id
WHERE r.ledger_id = %(ledger_id)s AND r.id = %(id)s

-- name: get_for_update^
-- The rule as it is now (as get_by_id shows it: the change log's `before`), locked until the
-- end of the transaction (a worker handling one of its dates holds this lock too, so a change
-- waits for that date and applies from the next one). Locked alone, then joined, as
-- transactions.sql's get_for_update.
WITH locked AS (
    SELECT * FROM recurring_rules
    WHERE ledger_id = %(ledger_id)s AND id = %(id)s
    FOR UPDATE
)
SELECT r.id, r.ledger_id, r.acts_as, r.category_id, c.name AS category, r.type, r.amount,
       r.currency, r.description, r.frequency, r.repeat_interval, r.by_weekday, r.by_month_day,
       r.start_date, r.end_date, r.max_occurrences, r.paused, r.paused_reason, r.last_date,
       r.next_date, r.occurrence_count, r.failures, r.retry_at, r.last_error, r.created_at
FROM locked r
JOIN categories c ON c.ledger_id = r.ledger_id AND c.id = r.category_id

-- name: list_for_ledger
SELECT r.id, r.ledger_id, r.acts_as, r.category_id, c.name AS category, r.type, r.amount,
       r.currency, r.description, r.frequency, r.repeat_interval, r.by_weekday, r.by_month_day,
       r.start_date, r.end_date, r.max_occurrences, r.paused, r.paused_reason, r.last_date,
       r.next_date, r.occurrence_count, r.failures, r.retry_at, r.last_error, r.created_at
FROM recurring_rules r
JOIN categories c ON c.ledger_id = r.ledger_id AND c.id = r.category_id
WHERE r.ledger_id = %(ledger_id)s
ORDER BY r.id

-- name: update!
-- Writes a changed rule: its schedule, what it records, its pause and its next date (worked out
-- again from the last date handled, so only dates not yet handled change) and its failure record
-- (reset when a member resumes it).
UPDATE recurring_rules
SET acts_as = %(acts_as)s, category_id = %(category_id)s, type = %(type)s, amount = %(amount)s,
    currency = %(currency)s, description = %(description)s, frequency = %(frequency)s,
    repeat_interval = %(repeat_interval)s, by_weekday = %(by_weekday)s,
    by_month_day = %(by_month_day)s, start_date = %(start_date)s, end_date = %(end_date)s,
    max_occurrences = %(max_occurrences)s, paused = %(paused)s,
    paused_reason = %(paused_reason)s, next_date = %(next_date)s, failures = %(failures)s,
    retry_at = %(retry_at)s, last_error = %(last_error)s, updated_at = now()
WHERE ledger_id = %(ledger_id)s AND id = %(id)s

-- name: delete^
-- Its occurrences go with it (cascade); the transactions it created stay. Returns what was
-- deleted, as get_by_id showed it.
WITH deleted AS (
    DELETE FROM recurring_rules WHERE ledger_id = %(ledger_id)s AND id = %(id)s
    RETURNING *
)
SELECT r.id, r.ledger_id, r.acts_as, r.category_id, c.name AS category, r.type, r.amount,
       r.currency, r.description, r.frequency, r.repeat_interval, r.by_weekday, r.by_month_day,
       r.start_date, r.end_date, r.max_occurrences, r.paused, r.paused_reason, r.last_date,
       r.next_date, r.occurrence_count, r.failures, r.retry_at, r.last_error, r.created_at
FROM deleted r
JOIN categories c ON c.ledger_id = r.ledger_id AND c.id = r.category_id

-- name: claim_due^
-- The worker's claim: in the first ledger after `after_ledger` (by id) that has a date due by
-- `now` in its own time zone, the rule with the oldest such date, locked until the end of the
-- transaction. The worker passes the ledger it served last, and 0 once no ledger after it has a
-- date due, so the ledgers take turns, one date each: a ledger with years to catch up delays
-- another's date by one date per turn, not by its whole backlog. Within a ledger, dates go
-- oldest first (budgets see them in order). SKIP LOCKED: a rule another worker holds is passed
-- over, so any number of workers share the work and never handle one date twice (the lock is
-- held until the date's occurrence and the rule's progress commit together). The next_date
-- bound in UTC (no zone is more than 14 hours ahead of UTC) is an index condition of
-- recurring_rules_due_by_ledger_idx, which gives the rows in this order. A rule whose handling
-- failed waits until its retry_at (services/recurring/failures.py), so it holds up no other.
-- A ledger whose time zone this database does not know (date_in_zone is NULL: `AT TIME ZONE`
-- would raise, for every rule in the claim) has its rules claimed by the UTC bound with
-- zone_unknown set: the step records that as the rule's failure, and nothing fails for the
-- other ledgers. The rule comes with all get_by_id shows (the change log's `before` of the
-- date's change; its category's name read for the one row claimed) and the ledger's currency
-- (`ledger_currency`; `currency` is the rule's own, NULL for the ledger's).
SELECT r.id, r.ledger_id, r.acts_as, r.category_id,
       (SELECT c.name FROM categories c
        WHERE c.ledger_id = r.ledger_id AND c.id = r.category_id) AS category,
       r.type, r.amount, r.currency, r.description,
       r.frequency, r.repeat_interval, r.by_weekday, r.by_month_day, r.start_date, r.end_date,
       r.max_occurrences, r.paused, r.paused_reason, r.last_date, r.next_date,
       r.occurrence_count, r.failures, r.retry_at, r.last_error, r.created_at,
       l.timezone, l.currency AS ledger_currency,
       date_in_zone(%(now)s::timestamptz, l.timezone) IS NULL AS zone_unknown
FROM recurring_rules r
JOIN ledgers l ON l.id = r.ledger_id
WHERE NOT r.paused AND r.next_date IS NOT NULL
  AND r.ledger_id > %(after_ledger)s
  AND r.next_date <= (%(now)s::timestamptz AT TIME ZONE 'UTC')::date + 1
  AND r.next_date <= coalesce(date_in_zone(%(now)s::timestamptz, l.timezone),
                              (%(now)s::timestamptz AT TIME ZONE 'UTC')::date + 1)
  AND (r.retry_at IS NULL OR r.retry_at <= %(now)s::timestamptz)
  -- Anything due at all, anywhere (recurring_rules_due_idx, once per claim): an idle tick stops
  -- here instead of walking the whole per-ledger index.
  AND EXISTS (SELECT 1 FROM recurring_rules d
              WHERE NOT d.paused AND d.next_date IS NOT NULL
                AND d.next_date <= (%(now)s::timestamptz AT TIME ZONE 'UTC')::date + 1
                AND (d.retry_at IS NULL OR d.retry_at <= %(now)s::timestamptz))
ORDER BY r.ledger_id, r.next_date, r.id
LIMIT 1
FOR UPDATE OF r SKIP LOCKED

-- name: advance^
-- The rule's progress after handling `last_date`, in the same transaction as its occurrence.
-- A handled date ends a run of failures. Returns the rule as get_by_id shows it now.
UPDATE recurring_rules r
SET last_date = %(last_date)s, next_date = %(next_date)s,
    occurrence_count = occurrence_count + 1, failures = 0, retry_at = NULL, last_error = NULL
WHERE ledger_id = %(ledger_id)s AND id = %(id)s
RETURNING r.id, r.ledger_id, r.acts_as, r.category_id,
          (SELECT c.name FROM categories c
           WHERE c.ledger_id = r.ledger_id AND c.id = r.category_id) AS category,
          r.type, r.amount, r.currency, r.description, r.frequency, r.repeat_interval, r.by_weekday,
          r.by_month_day, r.start_date, r.end_date, r.max_occurrences, r.paused,
          r.paused_reason, r.last_date, r.next_date, r.occurrence_count, r.failures, r.retry_at,
          r.last_error, r.created_at

-- name: pause^
-- The worker pauses a rule whose member can no longer write in the ledger (`reason` says why).
-- Returns the rule as get_by_id shows it now.
UPDATE recurring_rules r
SET paused = true, paused_reason = %(reason)s, updated_at = now()
WHERE ledger_id = %(ledger_id)s AND id = %(id)s
RETURNING r.id, r.ledger_id, r.acts_as, r.category_id,
          (SELECT c.name FROM categories c
           WHERE c.ledger_id = r.ledger_id AND c.id = r.category_id) AS category,
          r.type, r.amount, r.currency, r.description, r.frequency, r.repeat_interval, r.by_weekday,
          r.by_month_day, r.start_date, r.end_date, r.max_occurrences, r.paused,
          r.paused_reason, r.last_date, r.next_date, r.occurrence_count, r.failures, r.retry_at,
          r.last_error, r.created_at

-- name: lock_for_failure^
-- A rule whose handling failed, locked for recording the failure (in a transaction of its own,
-- after the step's rolled back); None when it was deleted since. As get_by_id shows it (the
-- change log's `before`), with its ledger's currency (`ledger_currency`).
SELECT r.id, r.ledger_id, r.acts_as, r.category_id,
       (SELECT c.name FROM categories c
        WHERE c.ledger_id = r.ledger_id AND c.id = r.category_id) AS category,
       r.type, r.amount, r.currency, r.description, r.frequency, r.repeat_interval, r.by_weekday,
       r.by_month_day, r.start_date, r.end_date, r.max_occurrences, r.paused,
       r.paused_reason, r.last_date, r.next_date, r.occurrence_count, r.failures, r.retry_at,
       r.last_error, r.created_at,
       (SELECT l.currency FROM ledgers l WHERE l.id = r.ledger_id) AS ledger_currency
FROM recurring_rules r
WHERE r.ledger_id = %(ledger_id)s AND r.id = %(id)s
FOR UPDATE OF r

-- name: record_failure^
-- The failure record: how many in a row, when to try again and what went wrong. `pause` pauses
-- the rule as failing (a rule a member paused meanwhile keeps its own reason). Returns the rule
-- as get_by_id shows it now.
UPDATE recurring_rules r
SET failures = %(failures)s, retry_at = %(retry_at)s, last_error = %(last_error)s,
    paused = paused OR %(pause)s,
    paused_reason = CASE WHEN %(pause)s AND NOT paused THEN 'failing' ELSE paused_reason END,
    updated_at = now()
WHERE ledger_id = %(ledger_id)s AND id = %(id)s
RETURNING r.id, r.ledger_id, r.acts_as, r.category_id,
          (SELECT c.name FROM categories c
           WHERE c.ledger_id = r.ledger_id AND c.id = r.category_id) AS category,
          r.type, r.amount, r.currency, r.description, r.frequency, r.repeat_interval, r.by_weekday,
          r.by_month_day, r.start_date, r.end_date, r.max_occurrences, r.paused,
          r.paused_reason, r.last_date, r.next_date, r.occurrence_count, r.failures, r.retry_at,
          r.last_error, r.created_at

-- name: insert_occurrence!
-- One date handled. The primary key (ledger_id, rule_id, occurrence_date) refuses a second
-- row for a date, whatever happened before.
INSERT INTO recurring_occurrences
    (ledger_id, rule_id, occurrence_date, status, reason, transaction_id, budget_id)
VALUES (%(ledger_id)s, %(rule_id)s, %(occurrence_date)s, %(status)s, %(reason)s,
        %(transaction_id)s, %(budget_id)s)

-- name: occurrences_page
-- A rule's occurrences, newest date first, after the keyset cursor (a date) when given.
SELECT occurrence_date, status, reason, transaction_id, budget_id
FROM recurring_occurrences
WHERE ledger_id = %(ledger_id)s AND rule_id = %(rule_id)s
  AND (%(before)s::date IS NULL OR occurrence_date < %(before)s::date)
ORDER BY occurrence_date DESC
LIMIT %(limit)s
