-- Shared identifiers (KYC): distinct holders sharing a phone, e-mail or address.
WITH ids AS (               -- one row per contact detail of each party
    SELECT party_id, 'phone' AS id_kind, phone AS id_value FROM parties WHERE phone IS NOT NULL AND phone <> ''
    UNION ALL
    SELECT party_id, 'email', lower(email) FROM parties WHERE email IS NOT NULL AND email <> ''
    UNION ALL
    SELECT party_id, 'address', lower(trim(address)) FROM parties WHERE address IS NOT NULL AND trim(address) <> ''
),
groups AS (                 -- details shared by enough parties
    SELECT id_kind, id_value, count(DISTINCT party_id) AS n_parties
    FROM ids GROUP BY id_kind, id_value HAVING count(DISTINCT party_id) >= $min_parties
),
members AS (                -- the accounts of those parties
    SELECT a.account_id, g.id_kind, g.id_value, g.n_parties, a.opened_at
    FROM groups g
    JOIN ids i ON i.id_kind = g.id_kind AND i.id_value = g.id_value
    JOIN accounts a ON a.holder_id = i.party_id
),
group_accounts AS (
    SELECT id_kind, id_value, st_ids(account_id) AS accounts, min(opened_at) AS first_opened, max(opened_at) AS last_opened
    FROM members GROUP BY id_kind, id_value
),
per_account AS (
    SELECT m.account_id, m.id_kind, m.id_value, m.n_parties, g.accounts, g.first_opened, g.last_opened,
           row_number() OVER (PARTITION BY m.account_id ORDER BY m.n_parties DESC, m.id_kind, m.id_value) AS rk
    FROM members m JOIN group_accounts g ON g.id_kind = m.id_kind AND g.id_value = m.id_value
)
SELECT account_id AS subject_id,
       n_parties AS value,                               -- measured: holders sharing the detail
       st_empty_ids() AS txn_ids,
       accounts AS member_ids,
       coalesce(first_opened, $since) AS window_start,    -- KYC facts have no time: opening dates, else the range
       greatest(coalesce(last_opened, $since), $since) AS window_end,  -- a standing condition: always current
       id_kind, id_value
FROM per_account WHERE rk = 1
