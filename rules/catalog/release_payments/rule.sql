-- Release payments: large one-off payments from first-time payers abroad into one account, passed on soon towards
-- a compound or an off-ramp.
WITH pay AS NOT MATERIALIZED (
    SELECT txn_id, from_account_id AS payer, to_account_id AS payee, booked_at, CAST(amount_usd AS DOUBLE) AS usd,
           from_country, to_country, from_name
    FROM transactions
    WHERE booked_at >= $window_start AND booked_at < $until AND amount_usd IS NOT NULL
      AND st_is_account(from_account_id) AND st_is_account(to_account_id) AND from_account_id <> to_account_id
),
bar AS (SELECT quantile_cont(usd, $large_quantile) AS usd_bar FROM pay),
payer_stats AS (            -- what the payer pays usually, and how often it paid each payee
    SELECT payer, count(*) AS n, sum(usd) AS total FROM pay GROUP BY payer
),
once AS (SELECT payer, payee FROM pay GROUP BY payer, payee HAVING count(*) = 1),
large AS (                  -- one-off payments, large for the population and for the payer
    SELECT p.* FROM pay p
    JOIN once o ON o.payer = p.payer AND o.payee = p.payee
    JOIN payer_stats s ON s.payer = p.payer
    CROSS JOIN bar b
    WHERE p.usd >= b.usd_bar AND (s.n = 1 OR p.usd >= $min_multiple * (s.total - p.usd) / (s.n - 1))
),
release AS (                -- ... from another country, into an account that is not a service
    SELECT l.txn_id, l.payer, l.payee, l.booked_at, l.usd, l.from_name, fa.holder_id AS payer_holder
    FROM large l
    LEFT JOIN accounts fa ON fa.account_id = l.payer
    LEFT JOIN accounts ta ON ta.account_id = l.payee
    WHERE NOT st_list_has($service_kinds, coalesce(ta.kind, ''))
      AND (NOT $cross_border OR (coalesce(l.from_country, fa.country) IS NOT NULL
           AND coalesce(l.to_country, ta.country) IS NOT NULL
           AND coalesce(l.from_country, fa.country) <> coalesce(l.to_country, ta.country)))
),
received AS (
    SELECT payee, count(DISTINCT payer) AS n_payers, sum(usd) AS received_usd, min(booked_at) AS first_at,
           max(booked_at) AS last_at, st_ids(txn_id) AS txn_ids, st_ids(payer) AS payers
    FROM release GROUP BY payee HAVING count(DISTINCT payer) >= 2
),
marked AS (                 -- where onward money counts as going towards a compound
    SELECT account_id FROM listed_addresses
    UNION SELECT account_id FROM compound_events
    UNION SELECT account_id FROM accounts WHERE st_list_has($onward_kinds, kind)
),
onward AS (                 -- what the payee paid out from its first release payment to forward_within after the last
    SELECT r.payee, o.txn_id, o.payee AS next_id, o.usd, m.account_id IS NOT NULL AS to_compound
    FROM received r
    JOIN pay o ON o.payer = r.payee AND o.booked_at >= r.first_at AND o.booked_at <= r.last_at + $forward_within
    LEFT JOIN marked m ON m.account_id = o.payee
),
passed AS (
    SELECT payee, sum(usd) AS passed_usd, sum(CASE WHEN to_compound THEN usd ELSE 0 END) AS onward_usd,
           st_ids(txn_id) AS txn_ids, st_ids(next_id) AS onward_ids
    FROM onward GROUP BY payee
),
names AS (                  -- the payers' names (KYC, else as the extract gave it) and contacts, for families
    SELECT r.payee, r.payer, st_unnest(st_name_tokens(coalesce(p.name, r.from_name))) AS word
    FROM release r LEFT JOIN parties p ON p.party_id = r.payer_holder
    UNION ALL
    SELECT r.payee, r.payer, p.phone FROM release r JOIN parties p ON p.party_id = r.payer_holder WHERE p.phone <> ''
    UNION ALL
    SELECT r.payee, r.payer, p.address FROM release r JOIN parties p ON p.party_id = r.payer_holder WHERE p.address <> ''
),
families AS (               -- payers sharing a surname, phone or address with another payer of the same payee
    SELECT a.payee, count(DISTINCT a.payer) AS family_payers
    FROM names a JOIN names b ON b.payee = a.payee AND b.word = a.word AND b.payer <> a.payer
    GROUP BY a.payee
)
SELECT r.payee AS subject_id, r.n_payers AS value, st_union_ids(r.txn_ids, p.txn_ids) AS txn_ids,
       st_union_ids(r.payers, p.onward_ids) AS member_ids, r.first_at AS window_start, r.last_at AS window_end,
       round(r.received_usd, 2) AS received_usd, round(p.passed_usd / r.received_usd, 2) AS passed_share,
       round(p.onward_usd / r.received_usd, 2) AS onward_share, coalesce(f.family_payers, 0) AS family_payers,
       p.onward_ids
FROM received r JOIN passed p ON p.payee = r.payee
LEFT JOIN families f ON f.payee = r.payee
WHERE p.passed_usd >= $min_passed_share * r.received_usd AND p.onward_usd >= $min_onward_share * r.received_usd
