-- name: list_for_ledger
-- The ledger's payees that at least one transaction names, with how many do and the latest
-- date among them: most used first, then by name (case-insensitively), at most `limit`. q
-- (NULL: none) matches text anywhere in the name, case-insensitively, with LIKE's wildcards in
-- q taken literally. Each payee's count and last date come from one range of
-- transactions_ledger_payee_idx (an index-only scan where the visibility map allows).
SELECT p.id, p.name, u.count, u.last_used_on
FROM payees p
CROSS JOIN LATERAL (
    SELECT count(*) AS count, max(t.occurred_on) AS last_used_on
    FROM transactions t
    WHERE t.ledger_id = p.ledger_id AND t.payee_id = p.id
) u
WHERE p.ledger_id = %(ledger_id)s
  AND u.count > 0
  AND (%(q)s::text IS NULL OR p.name ILIKE
       '%%' || replace(replace(replace(%(q)s::text, '\', '\\'), '%%', '\%%'), '_', '\_') || '%%')
ORDER BY u.count DESC, lower(p.name), p.id
LIMIT %(limit)s

-- name: list_for_ledgers
-- list_for_ledger for many ledgers in one statement (GraphQL's `ledgers { payees }`): each
-- ledger's list in list_for_ledger's order, with its own LIMIT, ledger_id with every row. The
-- caller has checked membership of each.
SELECT l.ledger_id, p.*
FROM unnest(%(ledger_ids)s::bigint[]) AS l(ledger_id)
CROSS JOIN LATERAL (
    SELECT p.id, p.name, u.count, u.last_used_on
    FROM payees p
    CROSS JOIN LATERAL (
        SELECT count(*) AS count, max(t.occurred_on) AS last_used_on
        FROM transactions t
        WHERE t.ledger_id = p.ledger_id AND t.payee_id = p.id
    ) u
    WHERE p.ledger_id = l.ledger_id
      AND u.count > 0
      AND (%(q)s::text IS NULL OR p.name ILIKE
           '%%' || replace(replace(replace(%(q)s::text, '\', '\\'), '%%', '\%%'), '_', '\_') || '%%')
    ORDER BY u.count DESC, lower(p.name), p.id
    LIMIT %(limit)s
) p
ORDER BY l.ledger_id, p.count DESC, lower(p.name), p.id
