-- name: lock_account^
-- Erasing an account (DELETE /api/me; services/account_data.py, repositories/erasure.py): every
-- query here runs in the one erasing transaction, in the order the service gives.
-- The account, its row locked until the erasure commits (FOR NO KEY UPDATE, as joining a ledger
-- and inviting lock it: a join or an invitation by them waits, then finds no account), with the
-- password hash to check and whether two-factor sign-in is on.
SELECT id, name, email, password_hash, totp_enabled_at
FROM users
WHERE id = %(user_id)s
FOR NO KEY UPDATE

-- name: lock_ledgers!
-- Locks every ledger the account belongs to, in id order (every membership change locks its
-- ledger's row first: services/ledgers.py), so the counts `memberships` reads next cannot change
-- before the erasure commits. FOR NO KEY UPDATE: writes into the ledgers go on meanwhile.
SELECT l.id
FROM ledger_members m
JOIN ledgers l ON l.id = m.ledger_id
WHERE m.user_id = %(user_id)s
ORDER BY l.id
FOR NO KEY UPDATE OF l

-- name: memberships
-- The account's ledgers (read after lock_ledgers, in a statement of its own so its snapshot
-- follows the locks), with their role there and how many members and owners each has.
SELECT m.ledger_id, l.name, m.role, m.is_default, l.currency, l.timezone,
       (SELECT count(*) FROM ledger_members o WHERE o.ledger_id = m.ledger_id) AS members,
       (SELECT count(*) FROM ledger_members o
        WHERE o.ledger_id = m.ledger_id AND o.role = 'owner') AS owners,
       EXISTS (SELECT 1 FROM webhook_endpoints w
               WHERE w.ledger_id = m.ledger_id AND w.disabled_at IS NULL) AS has_webhooks
FROM ledger_members m
JOIN ledgers l ON l.id = m.ledger_id
WHERE m.user_id = %(user_id)s
ORDER BY m.ledger_id

-- name: begin!
-- Opens the change log's erasure exception (migration 0023) for this transaction only
-- (set_config's is_local): entries by this account may now have their actor's name replaced
-- by 'deleted user', and entries' images rewritten. Nothing else sets it.
SELECT set_config('expense_api.erasing_user', %(user_id)s::text, true)

-- name: created_transactions
-- The transactions the account created that are still there (their ledgers outlive it), by
-- ledger: {ledger_id, currency, ids}.
SELECT t.ledger_id, l.currency, array_agg(t.id ORDER BY t.id) AS ids
FROM transactions t
JOIN ledgers l ON l.id = t.ledger_id
WHERE t.created_by = %(user_id)s
GROUP BY t.ledger_id, l.currency
ORDER BY t.ledger_id

-- name: forget_creator!
-- Their transactions in one ledger show no creator any more (createdBy null), before the
-- entries saying so are written (hook.record_creator_erased).
UPDATE transactions
SET created_by = NULL
WHERE ledger_id = %(ledger_id)s AND created_by = %(user_id)s

-- name: rules_acting_as
-- The recurring rules that act as the account and are running: {ledger_id, id, currency}
-- (the ledger's), locked. They pause as when the member leaves (`member_left`).
SELECT r.ledger_id, r.id, l.currency
FROM recurring_rules r
JOIN ledgers l ON l.id = r.ledger_id
WHERE r.acts_as = %(user_id)s AND NOT r.paused
ORDER BY r.ledger_id, r.id
FOR NO KEY UPDATE OF r

-- name: invitations
-- The invitations the account made, and those to it (bound to it, or to its email in any case,
-- made before it registered), locked, as the ledger's list shows them, with the ledger's
-- currency (their entries' images) and whether the list shows them (a revoked one is gone).
SELECT i.ledger_id, i.id, i.email, i.role,
       CASE WHEN i.status = 'pending' AND i.expires_at <= now() THEN 'expired' ELSE i.status END
           AS status,
       i.created_at, i.expires_at, i.status <> 'revoked' AS listed,
       lower(i.email) = lower(%(email)s) AS to_them,
       (SELECT l.currency FROM ledgers l WHERE l.id = i.ledger_id) AS currency
FROM invitations i
WHERE i.invited_by = %(user_id)s OR i.invitee_id = %(user_id)s
   OR lower(i.email) = lower(%(email)s)
ORDER BY i.ledger_id, i.id
FOR UPDATE

-- name: delete_invitation!
DELETE FROM invitations WHERE ledger_id = %(ledger_id)s AND id = %(id)s

-- name: rename_actor!
-- Every entry the account made keeps who (actor_id), when and what; its name becomes
-- 'deleted user' (ledger_changes_actor_idx finds them; the trigger allows only this change).
UPDATE ledger_changes
SET actor_name = 'deleted user'
WHERE actor_id = %(user_id)s AND actor_name IS DISTINCT FROM 'deleted user'

-- name: rewrite_member_images!
-- The account's member entries (its joining, role changes, leaving; found in the ledgers it
-- acted in, as it made at least its own joining there): name 'deleted user', email null.
UPDATE ledger_changes c
SET before = CASE WHEN c.before IS NULL THEN NULL
                  ELSE c.before || '{"name": "deleted user", "email": null}'::jsonb END,
    after = CASE WHEN c.after IS NULL THEN NULL
                 ELSE c.after || '{"name": "deleted user", "email": null}'::jsonb END
WHERE c.entity = 'member' AND c.entity_id = %(user_id)s
  AND c.ledger_id IN (SELECT DISTINCT a.ledger_id FROM ledger_changes a
                      WHERE a.actor_id = %(user_id)s)

-- name: rewrite_creator_images!
-- Transactions the account created show it as createdBy {id, name}: in every entry of them
-- the name becomes 'deleted user'. They are found by actor (ledger_changes_actor_idx): their
-- `created` entries are its own, and so are the entries this transaction wrote when it cleared
-- created_by (hook.record_creator_erased: after createdBy null), which get their `before` as
-- it was, with that name. (A transaction created before the change log existed (migration 0016)
-- and deleted since has no entry by them: its entries are not found here.)
WITH created AS (
    SELECT DISTINCT ledger_id, entity_id FROM ledger_changes
    WHERE actor_id = %(user_id)s AND entity = 'transaction'
      AND (op = 'created' OR (seq IS NULL AND txid = pg_current_xact_id()))
), erased AS (
    SELECT jsonb_build_object('id', %(user_id)s::bigint, 'name', 'deleted user') AS creator
)
UPDATE ledger_changes c
SET before = CASE
        WHEN c.before -> 'createdBy' ->> 'id' = %(user_id)s::text
            THEN jsonb_set(c.before, '{createdBy}', erased.creator)
        WHEN c.seq IS NULL AND c.txid = pg_current_xact_id() AND c.op = 'updated'
             AND c.actor_id = %(user_id)s AND c.before -> 'createdBy' = 'null'::jsonb
            THEN jsonb_set(c.before, '{createdBy}', erased.creator)
        ELSE c.before END,
    after = CASE
        WHEN c.after -> 'createdBy' ->> 'id' = %(user_id)s::text
            THEN jsonb_set(c.after, '{createdBy}', erased.creator)
        ELSE c.after END
FROM created, erased
WHERE c.ledger_id = created.ledger_id AND c.entity = 'transaction'
  AND c.entity_id = created.entity_id
  AND (c.before -> 'createdBy' ->> 'id' = %(user_id)s::text
       OR c.after -> 'createdBy' ->> 'id' = %(user_id)s::text
       OR (c.seq IS NULL AND c.txid = pg_current_xact_id() AND c.actor_id = %(user_id)s))

-- name: rewrite_invitation_images!
-- Entries of the invitations to the account's email (`ledger_ids`, `ids`: pairs): the email
-- becomes null. Invitations it sent name someone else: they stay as the ledger's record.
UPDATE ledger_changes c
SET before = CASE WHEN c.before IS NULL THEN NULL
                  ELSE c.before || '{"email": null}'::jsonb END,
    after = CASE WHEN c.after IS NULL THEN NULL
                 ELSE c.after || '{"email": null}'::jsonb END
FROM unnest(%(ledger_ids)s::bigint[], %(ids)s::bigint[]) AS k(ledger_id, id)
WHERE c.ledger_id = k.ledger_id AND c.entity = 'invitation' AND c.entity_id = k.id

-- name: rewrite_webhook_payloads!
-- Webhook events (sent or still to send) of transactions the account created carry it as
-- createdBy: the name becomes 'deleted user' there too, in the ledgers it acted in.
UPDATE webhook_events e
SET data = jsonb_set(e.data, '{createdBy,name}', '"deleted user"')
WHERE e.ledger_id IN (SELECT DISTINCT a.ledger_id FROM ledger_changes a
                      WHERE a.actor_id = %(user_id)s)
  AND e.data -> 'createdBy' ->> 'id' = %(user_id)s::text

-- name: delete_rate_limit_counters!
-- The account's rate-limit counters (key 'account:<id>', migration 0023).
DELETE FROM rate_limit_counters WHERE key = 'account:' || %(user_id)s::text

-- name: delete_account!
-- The account itself. What is still its own goes with it (ON DELETE CASCADE): sessions (every
-- token dies at once: the session check joins users), personal access tokens, recovery codes,
-- security events, idempotency keys; imports it uploaded keep no uploader (SET NULL).
DELETE FROM users WHERE id = %(user_id)s
