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
big AS (                    -- payments large for the population: a small share of the rows, looked at further
    SELECT p.* FROM pay p CROSS JOIN bar b WHERE p.usd >= b.usd_bar
),
pair_n AS (                 -- how often each payer of a large payment paid that payee
    SELECT p.payer, p.payee, count(*) AS n FROM pay p
    SEMI JOIN big g ON g.payer = p.payer AND g.payee = p.payee
    GROUP BY p.payer, p.payee
),
payer_stats AS (            -- what those payers pay usually
    SELECT p.payer, count(*) AS n, sum(p.usd) AS total FROM pay p SEMI JOIN big g ON g.payer = p.payer
    GROUP BY p.payer
),
large AS (                  -- one-off payments, large for the population and for the payer
    SELECT g.* FROM big g
    JOIN pair_n o ON o.payer = g.payer AND o.payee = g.payee AND o.n = 1
    JOIN payer_stats s ON s.payer = g.payer
    WHERE s.n = 1 OR g.usd >= $min_multiple * (s.total - g.usd) / (s.n - 1)
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
relayed AS (                -- payments a payer made out of money it had just received (a layer, not a family)
    SELECT r.txn_id FROM release r
    JOIN pay i ON i.payee = r.payer AND i.booked_at < r.booked_at AND i.booked_at >= r.booked_at - $forward_within
    GROUP BY r.txn_id, r.usd HAVING sum(i.usd) >= $max_payer_inflow_share * r.usd
),
own AS (SELECT r.* FROM release r ANTI JOIN relayed x ON x.txn_id = r.txn_id),
received AS (
    SELECT payee, count(DISTINCT payer) AS n_payers, sum(usd) AS received_usd, min(booked_at) AS first_at,
           max(booked_at) AS last_at, st_ids(txn_id) AS txn_ids, st_ids(payer) AS payers
    FROM own GROUP BY payee HAVING count(DISTINCT payer) >= 2
),
inflow AS (                 -- everything the payee received over the same span: the release payments are most of it
    SELECT r.payee, sum(i.usd) AS all_usd FROM received r
    JOIN pay i ON i.payee = r.payee AND i.booked_at >= r.first_at AND i.booked_at <= r.last_at
    GROUP BY r.payee
),
marked AS (                 -- where onward money counts as going towards a compound
    SELECT account_id FROM listed_addresses
    UNION SELECT account_id FROM compound_events
    UNION SELECT account_id FROM accounts WHERE st_list_has($onward_kinds, kind)
),
onward AS (                 -- what the payee paid out within forward_within after one of its release payments
    SELECT DISTINCT o.payer AS payee, o.txn_id, o.payee AS next_id, o.usd, m.account_id IS NOT NULL AS to_compound
    FROM own r
    JOIN received x ON x.payee = r.payee
    JOIN pay o ON o.payer = r.payee AND o.booked_at >= r.booked_at AND o.booked_at <= r.booked_at + $forward_within
    LEFT JOIN marked m ON m.account_id = o.payee
),
passed AS (
    SELECT payee, sum(usd) AS passed_usd, sum(CASE WHEN to_compound THEN usd ELSE 0 END) AS onward_usd,
           st_ids(txn_id) AS txn_ids, st_ids(next_id) AS onward_ids
    FROM onward GROUP BY payee
),
payer_names AS (            -- every payer of the read range with its name (KYC, else as the extract gave it)
    SELECT x.payer, coalesce(pt.name, x.from_name) AS name, pt.phone, pt.address
    FROM (SELECT payer, max(from_name) AS from_name FROM pay GROUP BY payer) x
    LEFT JOIN accounts a ON a.account_id = x.payer LEFT JOIN parties pt ON pt.party_id = a.holder_id
),
word_use AS (               -- how many payers carry each name word: a surname shared by a family must be rare
    SELECT word, count(*) AS n FROM (SELECT DISTINCT payer, st_unnest(st_name_tokens(name)) AS word FROM payer_names) w
    GROUP BY word
),
rare AS (
    SELECT u.word FROM word_use u CROSS JOIN (SELECT count(*) AS n_payers FROM payer_names) c
    WHERE u.n <= greatest(2, $max_surname_share * c.n_payers)
),
names AS (                  -- the release payers' household facts: rare surname words, phone, address
    SELECT o.payee, o.payer, w.word FROM own o
    JOIN (SELECT payer, st_unnest(st_name_tokens(name)) AS word FROM payer_names) w ON w.payer = o.payer
    JOIN rare r ON r.word = w.word
    UNION ALL
    SELECT o.payee, o.payer, 'phone:' || n.phone FROM own o JOIN payer_names n ON n.payer = o.payer WHERE n.phone <> ''
    UNION ALL
    SELECT o.payee, o.payer, 'address:' || lower(n.address) FROM own o JOIN payer_names n ON n.payer = o.payer
    WHERE n.address <> ''
),
families AS (               -- payers sharing a rare surname, a phone or an address with another payer of the payee
    SELECT a.payee, count(DISTINCT a.payer) AS family_payers
    FROM names a JOIN names b ON b.payee = a.payee AND b.word = a.word AND b.payer <> a.payer
    GROUP BY a.payee
)
SELECT r.payee AS subject_id, r.n_payers AS value, st_union_ids(r.txn_ids, p.txn_ids) AS txn_ids,
       st_union_ids(r.payers, p.onward_ids) AS member_ids, r.first_at AS window_start, r.last_at AS window_end,
       round(r.received_usd, 2) AS received_usd, round(p.passed_usd / r.received_usd, 2) AS passed_share,
       round(p.onward_usd / r.received_usd, 2) AS onward_share, f.family_payers,
       p.onward_ids
FROM received r JOIN passed p ON p.payee = r.payee JOIN inflow i ON i.payee = r.payee
JOIN families f ON f.payee = r.payee
WHERE f.family_payers >= $min_family_payers AND p.passed_usd >= $min_passed_share * r.received_usd AND p.onward_usd >= $min_onward_share * r.received_usd
  AND r.received_usd >= $min_release_share * i.all_usd
