-- name: list_for_ledger
-- The ledger's tags that at least one transaction carries, with how many do, by name
-- (case-insensitively). Each tag's count is one range of transaction_tags_tag_idx.
SELECT g.id, g.name, u.count
FROM tags g
CROSS JOIN LATERAL (
    SELECT count(*) AS count
    FROM transaction_tags tt
    WHERE tt.ledger_id = g.ledger_id AND tt.tag_id = g.id
) u
WHERE g.ledger_id = %(ledger_id)s AND u.count > 0
ORDER BY lower(g.name), g.id

-- name: list_for_ledgers
-- list_for_ledger for many ledgers in one statement (GraphQL's `ledgers { tags }`): ledger_id
-- with every row, each ledger's rows in list_for_ledger's order. The caller has checked
-- membership of each.
SELECT g.ledger_id, g.id, g.name, u.count
FROM tags g
CROSS JOIN LATERAL (
    SELECT count(*) AS count
    FROM transaction_tags tt
    WHERE tt.ledger_id = g.ledger_id AND tt.tag_id = g.id
) u
WHERE g.ledger_id = ANY(%(ledger_ids)s::bigint[]) AND u.count > 0
ORDER BY g.ledger_id, lower(g.name), g.id
