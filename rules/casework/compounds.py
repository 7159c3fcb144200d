"""Compound links: facts that tie an account or a party to a suspected compound, each with its evidence.

One link per (compound, subject, link kind); its evidence JSON names the events, transactions, IPs, positions,
phones, names or list entries behind it, and `n_facts` counts them. Confidence = base confidence of the link kind
x the registry entry's confidence (compounds.confidence) x a decay where the kind has one (hops, distance,
name similarity). Kinds and bases (docs/casework.md explains each):

  registry_account  1.00  the account / wallet is listed in the compound's registry entry
  ip_cidr           0.90  an event (login, opening, binding) came from an IP inside one of the compound's CIDRs
  geo_radius        0.75  an event's GPS position lies within the compound's radius (x (1 - 0.5 d/r))
  wallet_hops       0.90  funds reached a registry account within `max_hops` time-respecting hops (x 0.7 per
                          extra hop, x 0.5 when the path crosses an off-ramp between rails)
  sanctions_list    0.95  the account is on a sanctions list (OFAC SDN ...) or paid one directly (0.80)
  phone_prefix      0.50  the party's KYC phone or an event's phone starts with one of the compound's prefixes
  company_name      0.60  a legal person's name or a counterparty name matches the compound's name, aliases or
                          companies (x similarity)
  recruitment       0.70  a recruitment_fees alert: people who paid the account moved into the compound soon after
                          (their relocation is the fact; docs/trafficking.md)
"""

from __future__ import annotations

import re
from datetime import timedelta

import duckdb
import polars as pl

from rules.presence import COMPOUND_CIDRS
from rules.casework.common import NOT_ACCOUNTS_SQL, OFFRAMP_KINDS, frame, offramp_list_sql
from transforms.ids import account_ids

BASE_CONFIDENCE = {
    "registry_account": 1.0,
    "ip_cidr": 0.9,
    "geo_radius": 0.75,
    "wallet_hops": 0.9,
    "sanctions_list": 0.95,
    "phone_prefix": 0.5,
    "company_name": 0.6,
    "recruitment": 0.7,
}
HOP_DECAY = 0.7
OFFRAMP_DECAY = 0.5
SANCTIONS_COUNTERPARTY = 0.8
MAX_HOPS = 3
HOP_GAP = timedelta(days=7)  # an upstream payment counts if it arrived at most this long before the onward one
HUB_AMOUNT_SLACK = 1.05  # through a hub (off-ramp / busy account) the upstream payment must fit in the onward one
HUB_DEGREE = 50  # accounts paid by more distinct senders than this are hubs
NAME_SIMILARITY = 90  # rapidfuzz token_sort_ratio on normalised names

LINKS_DDL = """
CREATE OR REPLACE TEMP TABLE _cw_links (
    compound_id VARCHAR, subject_type VARCHAR, subject_id VARCHAR, link_kind VARCHAR, evidence VARCHAR,
    evidence_text VARCHAR, confidence DOUBLE, first_seen_at TIMESTAMPTZ, last_seen_at TIMESTAMPTZ, n_facts BIGINT
)
"""


def _insert(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> None:
    con.execute(f"INSERT INTO _cw_links {sql}", params or {})


# ----------------------------------------------------------------------------------------------- event based


def _event_subjects_sql(match_cte: str) -> str:
    """Wrap a CTE `m` (event_id, account_id, party_id, occurred_at, compound_id, conf, fact JSON) into account and
    party subjects (the party of an account event is its holder)."""
    return f"""
        WITH {match_cte},
        subj AS (
            SELECT m.*, 'account' AS subject_type, m.account_id AS subject_id FROM m WHERE m.account_id IS NOT NULL
            UNION ALL
            SELECT m.*, 'party', coalesce(m.party_id, a.holder_id)
            FROM m LEFT JOIN accounts a ON a.account_id = m.account_id
            WHERE coalesce(m.party_id, a.holder_id) IS NOT NULL
        )
    """


def ip_links(con: duckdb.DuckDBPyConnection) -> None:
    sql = _event_subjects_sql(
        f"""
        cidrs AS ({COMPOUND_CIDRS}),     -- compound CIDRs as integer ranges
        ev AS (SELECT *, cw_ipv4(ip) AS ipn FROM events WHERE ip IS NOT NULL),
        m AS (
            SELECT ev.event_id, ev.account_id, ev.party_id, ev.occurred_at, c.compound_id, c.conf,
                   ev.kind, ev.ip, c.cidr
            FROM ev JOIN cidrs c ON ev.ipn BETWEEN c.lo AND c.hi
        )
        """
    )
    _insert(
        con,
        sql
        + f"""
        SELECT compound_id, subject_type, subject_id, 'ip_cidr',
               to_json({{'events': list({{'event_id': event_id, 'kind': kind, 'ip': ip, 'cidr': cidr,
                                         'occurred_at': occurred_at}} ORDER BY occurred_at)[1:20],
                        'ips': list_sort(list_distinct(list(ip))), 'cidrs': list_sort(list_distinct(list(cidr)))}})::VARCHAR,
               count(*) || ' event(s) from ' || array_to_string(list_sort(list_distinct(list(ip)))[1:5], ', ')
                 || ' inside ' || array_to_string(list_sort(list_distinct(list(cidr))), ', ')
                 || ' (' || array_to_string(list_sort(list_distinct(list(kind))), ', ') || ', first '
                 || strftime(min(occurred_at), '%Y-%m-%d %H:%M') || ' UTC)',
               {BASE_CONFIDENCE['ip_cidr']} * max(conf), min(occurred_at), max(occurred_at), count(DISTINCT event_id)
        FROM subj GROUP BY compound_id, subject_type, subject_id
        """,
    )


def geo_links(con: duckdb.DuckDBPyConnection) -> None:
    sql = _event_subjects_sql(
        """
        c AS (SELECT compound_id, coalesce(confidence, 1.0) AS conf, lat, lon, radius_km FROM compounds
              WHERE lat IS NOT NULL AND lon IS NOT NULL AND radius_km > 0),
        m AS (
            SELECT e.event_id, e.account_id, e.party_id, e.occurred_at, c.compound_id, c.conf, c.radius_km,
                   e.kind, e.lat, e.lon, cw_haversine_km(e.lat, e.lon, c.lat, c.lon) AS km
            FROM events e JOIN c
              ON abs(e.lat - c.lat) <= c.radius_km / 110.0 + 0.01       -- cheap box before the haversine
             AND e.lat IS NOT NULL AND e.lon IS NOT NULL
            WHERE cw_haversine_km(e.lat, e.lon, c.lat, c.lon) <= c.radius_km
        )
        """
    )
    _insert(
        con,
        sql
        + f"""
        SELECT compound_id, subject_type, subject_id, 'geo_radius',
               to_json({{'events': list({{'event_id': event_id, 'kind': kind, 'lat': lat, 'lon': lon,
                                         'distance_km': round(km, 3), 'occurred_at': occurred_at}} ORDER BY km)[1:20],
                        'radius_km': max(radius_km)}})::VARCHAR,
               count(*) || ' event(s) located within ' || round(min(km), 2) || ' km of the compound centre (radius '
                 || max(radius_km) || ' km), first ' || strftime(min(occurred_at), '%Y-%m-%d %H:%M') || ' UTC',
               {BASE_CONFIDENCE['geo_radius']} * max(conf) * (1 - 0.5 * min(km) / max(radius_km)),
               min(occurred_at), max(occurred_at), count(DISTINCT event_id)
        FROM subj GROUP BY compound_id, subject_type, subject_id
        """,
    )


def phone_links(con: duckdb.DuckDBPyConnection) -> None:
    """KYC phones (the party and each of its accounts) and event phones that start with a compound prefix."""
    _insert(
        con,
        f"""
        WITH pref AS (
            SELECT compound_id, coalesce(confidence, 1.0) AS conf, cw_phone(p) AS prefix
            FROM (SELECT compound_id, confidence, unnest(phone_prefixes) AS p FROM compounds WHERE phone_prefixes IS NOT NULL)
            WHERE length(cw_phone(p)) >= 4
        ),
        facts AS (   -- (subject, phone, where it was seen)
            SELECT 'party' AS subject_type, party_id AS subject_id, cw_phone(phone) AS phone,
                   'kyc:' || party_id AS fact, CAST(NULL AS TIMESTAMPTZ) AS seen_at
            FROM parties WHERE phone IS NOT NULL
            UNION ALL
            SELECT 'account', a.account_id, cw_phone(p.phone), 'kyc:' || p.party_id, a.opened_at
            FROM parties p JOIN accounts a ON a.holder_id = p.party_id WHERE p.phone IS NOT NULL
            UNION ALL
            SELECT 'account', e.account_id, cw_phone(e.phone), 'event:' || e.event_id, e.occurred_at
            FROM events e WHERE e.phone IS NOT NULL AND e.account_id IS NOT NULL
            UNION ALL
            SELECT 'party', e.party_id, cw_phone(e.phone), 'event:' || e.event_id, e.occurred_at
            FROM events e WHERE e.phone IS NOT NULL AND e.party_id IS NOT NULL
        ),
        m AS (
            SELECT f.*, p.compound_id, p.conf, p.prefix FROM facts f JOIN pref p
              ON starts_with(f.phone, p.prefix)
              OR (starts_with(p.prefix, '+') AND NOT starts_with(f.phone, '+') AND starts_with('+' || f.phone, p.prefix))
        )
        SELECT compound_id, subject_type, subject_id, 'phone_prefix',
               to_json({{'phones': list_sort(list_distinct(list(phone))), 'prefixes': list_sort(list_distinct(list(prefix))),
                        'seen_in': list_sort(list_distinct(list(fact)))[1:20]}})::VARCHAR,
               'phone ' || array_to_string(list_sort(list_distinct(list(phone)))[1:3], ', ') || ' starts with the compound prefix '
                 || array_to_string(list_sort(list_distinct(list(prefix))), ', ') || ' (seen in '
                 || array_to_string(list_sort(list_distinct(list(fact)))[1:3], ', ') || ')',
               {BASE_CONFIDENCE['phone_prefix']} * max(conf), min(seen_at), max(seen_at), count(DISTINCT fact)
        FROM m GROUP BY compound_id, subject_type, subject_id
        """,
    )


# ----------------------------------------------------------------------------------------------- registry, hops


def _registry(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(account_id, compound_id, conf, entry) of every wallet / account named in the compounds registry."""
    rows = []
    for cid, conf, entry in con.execute(
        "SELECT compound_id, coalesce(confidence, 1.0), unnest(coalesce(wallets, []) || coalesce(accounts, [])) FROM compounds"
    ).fetchall():
        if entry:
            rows += [(a, cid, float(conf), entry) for a in account_ids(entry)]
    return pl.DataFrame(rows, schema={"account_id": pl.Utf8, "compound_id": pl.Utf8, "conf": pl.Float64, "entry": pl.Utf8},
                        orient="row")


def registry_and_hop_links(con: duckdb.DuckDBPyConnection, *, max_hops: int = MAX_HOPS) -> None:
    reg = _registry(con)
    if reg.height == 0:
        return
    con.register("_cw_reg_frame", reg.to_arrow())
    con.execute("CREATE OR REPLACE TEMP TABLE _cw_reg AS SELECT DISTINCT * FROM _cw_reg_frame")
    con.unregister("_cw_reg_frame")
    _insert(
        con,
        f"""
        SELECT r.compound_id, 'account', r.account_id, 'registry_account',
               to_json({{'entry': r.entry, 'account_id': r.account_id, 'registry': 'compounds.' || r.compound_id,
                        'known_in_store': a.account_id IS NOT NULL OR t.n > 0, 'n_txns': coalesce(t.n, 0)}})::VARCHAR,
               'account ' || r.account_id || ' is listed in the registry entry of compound ' || r.compound_id,
               {BASE_CONFIDENCE['registry_account']} * r.conf, t.first_at, t.last_at, 1
        FROM _cw_reg r
        LEFT JOIN accounts a ON a.account_id = r.account_id
        LEFT JOIN (
            SELECT acct, count(*) AS n, min(booked_at) AS first_at, max(booked_at) AS last_at
            FROM (SELECT from_account_id AS acct, booked_at FROM transactions
                  UNION ALL SELECT to_account_id, booked_at FROM transactions)
            WHERE acct IN (SELECT account_id FROM _cw_reg) GROUP BY acct
        ) t ON t.acct = r.account_id
        WHERE a.account_id IS NOT NULL OR t.n > 0
        """,
    )
    # hubs: accounts paid by many distinct senders, and off-ramp services; through them only payments that fit
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _cw_hub AS
        SELECT account_id FROM accounts WHERE list_contains({offramp_list_sql()}, kind)
        UNION
        SELECT to_account_id FROM transactions GROUP BY to_account_id HAVING count(DISTINCT from_account_id) > {HUB_DEGREE}
        """
    )
    # sibling accounts of the same holder (resolved cluster) on the other rail: the bridge "through an off-ramp"
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _cw_sibling AS
        WITH h AS (
            SELECT a.account_id, a.rail, a.kind, coalesce(pc.cluster_id, a.holder_id) AS holder
            FROM accounts a LEFT JOIN party_clusters pc ON pc.party_id = a.holder_id
            WHERE a.holder_id IS NOT NULL
        )
        SELECT x.account_id, y.account_id AS sibling_id, x.holder
        FROM h x JOIN h y ON x.holder = y.holder AND x.account_id <> y.account_id AND x.rail <> y.rail
        """
    )
    # frontier: (node, compound_id, conf, hops, latest time funds may have arrived, onward amount, path, via_offramp)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _cw_reach AS
        SELECT account_id AS node, compound_id, max(conf) AS conf, 0 AS hops, CAST(NULL AS TIMESTAMPTZ) AS t_latest,
               CAST(NULL AS DOUBLE) AS onward_usd, CAST([] AS VARCHAR[]) AS path, CAST([] AS VARCHAR[]) AS nodes,
               false AS via_offramp, CAST(NULL AS TIMESTAMPTZ) AS first_at
        FROM _cw_reg GROUP BY account_id, compound_id
        """
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _cw_frontier AS SELECT * FROM _cw_reach")
    for hop in range(1, max_hops + 1):
        # bridge: a frontier account's siblings of the same holder on the other rail (OTC desk's bank account for
        # its wallet); the path records it and the confidence is halved
        con.execute(
            """
            INSERT INTO _cw_frontier
            SELECT s.sibling_id, f.compound_id, f.conf, f.hops, f.t_latest, f.onward_usd, f.path,
                   list_prepend('holder:' || s.holder, f.nodes), true, f.first_at
            FROM _cw_frontier f JOIN _cw_sibling s ON s.account_id = f.node
            WHERE s.sibling_id NOT IN (SELECT node FROM _cw_reach WHERE compound_id = f.compound_id)
            """
        )
        gap_s = int(HOP_GAP.total_seconds())
        n = con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _cw_next AS
            WITH cand AS (
                SELECT t.from_account_id AS node, f.compound_id, f.conf, {hop} AS hops, t.booked_at AS t_latest,
                       CAST(t.amount_usd AS DOUBLE) AS onward_usd,
                       list_prepend(t.txn_id, f.path) AS path, list_prepend(f.node, f.nodes) AS nodes,
                       f.via_offramp OR (f.node IN (SELECT account_id FROM _cw_hub) AND f.hops > 0) AS via_offramp,
                       t.booked_at AS first_at
                FROM _cw_frontier f
                JOIN transactions t ON t.to_account_id = f.node
                WHERE NOT {NOT_ACCOUNTS_SQL.format(col='t.from_account_id')}
                  AND t.from_account_id <> f.node
                  AND NOT list_contains(f.nodes, t.from_account_id)
                  AND (f.t_latest IS NULL OR (t.booked_at <= f.t_latest
                       AND t.booked_at >= f.t_latest - INTERVAL '{gap_s} seconds'))
                  AND (f.hops = 0 OR f.node NOT IN (SELECT account_id FROM _cw_hub)
                       OR CAST(t.amount_usd AS DOUBLE) <= f.onward_usd * {HUB_AMOUNT_SLACK})
            ),
            fresh AS (
                SELECT c.* FROM cand c
                WHERE NOT EXISTS (SELECT 1 FROM _cw_reach r WHERE r.node = c.node AND r.compound_id = c.compound_id)
            )
            SELECT node, compound_id, max(conf) AS conf, min(hops) AS hops, max(t_latest) AS t_latest,
                   arg_max(onward_usd, t_latest) AS onward_usd, arg_max(path, t_latest) AS path,
                   arg_max(nodes, t_latest) AS nodes, bool_and(via_offramp) AS via_offramp, min(first_at) AS first_at
            FROM fresh GROUP BY node, compound_id
            """
        )
        n = con.execute("SELECT count(*) FROM _cw_next").fetchall()[0][0]
        if n == 0:
            break
        con.execute("INSERT INTO _cw_reach SELECT * FROM _cw_next")
        con.execute("CREATE OR REPLACE TEMP TABLE _cw_frontier AS SELECT * FROM _cw_next")
    _insert(
        con,
        f"""
        SELECT r.compound_id, 'account', r.node, 'wallet_hops',
               to_json({{'hops': r.hops, 'txn_ids': r.path, 'via': r.nodes, 'via_offramp': r.via_offramp,
                        'registry_account': r.nodes[-1]}})::VARCHAR,
               'funds reached ' || r.nodes[-1] || ' (registry of ' || r.compound_id || ') in ' || r.hops
                 || ' hop(s) through transactions ' || array_to_string(r.path, ', ')
                 || CASE WHEN r.via_offramp THEN ' (crossing an off-ramp / the same holder''s other account)' ELSE '' END,
               {BASE_CONFIDENCE['wallet_hops']} * r.conf * pow({HOP_DECAY}, r.hops - 1)
                 * CASE WHEN r.via_offramp THEN {OFFRAMP_DECAY} ELSE 1.0 END,
               r.first_at, r.t_latest, r.hops
        FROM _cw_reach r
        WHERE r.hops > 0
          AND r.node NOT IN (SELECT account_id FROM _cw_reg WHERE compound_id = r.compound_id)
        """,
    )
    for t in ("_cw_reach", "_cw_frontier", "_cw_next", "_cw_hub", "_cw_sibling"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def sanctions_links(con: duckdb.DuckDBPyConnection) -> None:
    """Accounts on a sanctions list (listed_addresses other than the compounds registry) and their direct payers/payees."""
    _insert(
        con,
        f"""
        WITH l AS (
            SELECT account_id, list_name, max(confidence) AS conf FROM listed_addresses
            WHERE list_name <> 'compounds' GROUP BY account_id, list_name
        ),
        reg AS (SELECT account_id, min(compound_id) AS compound_id FROM listed_addresses
                WHERE list_name = 'compounds' GROUP BY account_id),
        self_hits AS (
            SELECT l.account_id AS subject_id, l.list_name, l.conf, l.account_id AS listed_id,
                   CAST([] AS VARCHAR[]) AS txn_ids, CAST(NULL AS TIMESTAMPTZ) AS first_at, CAST(NULL AS TIMESTAMPTZ) AS last_at,
                   {BASE_CONFIDENCE['sanctions_list']} AS base, 1 AS n
            FROM l WHERE l.account_id IN (SELECT account_id FROM accounts)
                      OR l.account_id IN (SELECT from_account_id FROM transactions)
                      OR l.account_id IN (SELECT to_account_id FROM transactions)
        ),
        cp AS (
            SELECT CASE WHEN t.to_account_id = l.account_id THEN t.from_account_id ELSE t.to_account_id END AS subject_id,
                   l.list_name, l.conf, l.account_id AS listed_id, t.txn_id, t.booked_at
            FROM transactions t JOIN l ON l.account_id IN (t.to_account_id, t.from_account_id)
        ),
        cp_hits AS (
            SELECT subject_id, list_name, max(conf), listed_id, list_sort(list(txn_id))[1:20], min(booked_at), max(booked_at),
                   {BASE_CONFIDENCE['sanctions_list'] * SANCTIONS_COUNTERPARTY}, count(*)
            FROM cp WHERE NOT {NOT_ACCOUNTS_SQL.format(col='subject_id')} AND subject_id NOT IN (SELECT account_id FROM l)
            GROUP BY subject_id, list_name, listed_id
        ),
        hits AS (SELECT * FROM self_hits UNION ALL SELECT * FROM cp_hits)
        SELECT coalesce(reg.compound_id, 'list:' || h.list_name), 'account', h.subject_id, 'sanctions_list',
               to_json({{'list': h.list_name, 'listed_account_id': h.listed_id, 'txn_ids': h.txn_ids}})::VARCHAR,
               CASE WHEN h.subject_id = h.listed_id THEN 'account is on the ' || h.list_name || ' list'
                    ELSE 'transacted directly with ' || h.listed_id || ' on the ' || h.list_name || ' list ('
                         || h.n || ' transaction(s): ' || array_to_string(h.txn_ids[1:5], ', ') || ')' END,
               h.base * h.conf, h.first_at, h.last_at, h.n
        FROM hits h LEFT JOIN reg ON reg.account_id = h.listed_id
        """,
    )


_NORM = re.compile(r"[^0-9a-z ]+")
_LEGAL = {"co", "company", "ltd", "limited", "llc", "inc", "corp", "corporation", "plc", "pte", "sdn", "bhd", "the",
          "group", "holding", "holdings", "international", "intl", "jsc", "pcl", "public"}


def _norm_name(name: str | None) -> str:
    from rules.casework.parties import _translit

    if not name:
        return ""
    tokens = _NORM.sub(" ", _translit(name).lower()).split()
    return " ".join(t for t in tokens if t not in _LEGAL)


def name_links(con: duckdb.DuckDBPyConnection, *, min_similarity: int = NAME_SIMILARITY) -> None:
    """Legal persons and counterparty names (transactions.from_name / to_name) that match a compound's name,
    aliases or companies (rapidfuzz token_sort_ratio on normalised names)."""
    from rapidfuzz import fuzz, process

    targets = []
    for cid, conf, name, aliases, companies in con.execute(
        "SELECT compound_id, coalesce(confidence, 1.0), name, coalesce(aliases, []), coalesce(companies, []) FROM compounds"
    ).fetchall():
        for t in [name, *aliases, *companies]:
            n = _norm_name(t)
            if len(n) >= 4:
                targets.append((cid, float(conf), t, n))
    if not targets:
        return
    cands = frame(
        con,
        """
        SELECT 'party' AS subject_type, party_id AS subject_id, name, 'kyc:' || party_id AS fact,
               CAST(NULL AS TIMESTAMPTZ) AS seen_at
        FROM parties WHERE party_type = 'legal' AND name IS NOT NULL
        UNION ALL
        SELECT 'account', a.account_id, p.name, 'kyc:' || p.party_id, a.opened_at
        FROM parties p JOIN accounts a ON a.holder_id = p.party_id WHERE p.party_type = 'legal' AND p.name IS NOT NULL
        UNION ALL
        SELECT 'account', to_account_id, to_name, 'txn:' || txn_id, booked_at FROM transactions
        WHERE to_name IS NOT NULL AND to_account_id IS NOT NULL AND to_account_id <> 'cash'
        UNION ALL
        SELECT 'account', from_account_id, from_name, 'txn:' || txn_id, booked_at FROM transactions
        WHERE from_name IS NOT NULL AND from_account_id IS NOT NULL AND from_account_id <> 'cash'
        """,
    )
    if cands.height == 0:
        return
    names = cands["name"].unique().to_list()
    normed = [_norm_name(n) for n in names]
    scores = process.cdist(normed, [t[3] for t in targets], scorer=fuzz.token_sort_ratio, score_cutoff=min_similarity,
                           workers=1)
    hits = []
    import numpy as np

    for i, j in zip(*np.nonzero(scores)):
        if len(normed[i]) >= 4:
            cid, conf, tname, _ = targets[j]
            hits.append((names[i], cid, conf, tname, float(scores[i, j])))
    if not hits:
        return
    hit_frame = pl.DataFrame(hits, schema={"name": pl.Utf8, "compound_id": pl.Utf8, "conf": pl.Float64,
                                           "target": pl.Utf8, "similarity": pl.Float64}, orient="row")
    con.register("_cw_name_hits", hit_frame.to_arrow())
    con.register("_cw_name_cands", cands.to_arrow())
    try:
        _insert(
            con,
            f"""
            WITH m AS (SELECT c.*, h.compound_id, h.conf, h.target, h.similarity
                       FROM _cw_name_cands c JOIN _cw_name_hits h ON h.name = c.name)
            SELECT compound_id, subject_type, subject_id, 'company_name',
                   to_json({{'names': list_sort(list_distinct(list(name))), 'matched': list_sort(list_distinct(list(target))),
                            'similarity': max(similarity), 'seen_in': list_sort(list_distinct(list(fact)))[1:20]}})::VARCHAR,
                   'name ' || array_to_string(list_sort(list_distinct(list(name)))[1:3], ' / ') || ' matches '
                     || array_to_string(list_sort(list_distinct(list(target))), ' / ') || ' (similarity '
                     || round(max(similarity)) || ', seen in ' || array_to_string(list_sort(list_distinct(list(fact)))[1:3], ', ') || ')',
                   {BASE_CONFIDENCE['company_name']} * max(conf) * max(similarity) / 100.0, min(seen_at), max(seen_at),
                   count(DISTINCT fact)
            FROM m GROUP BY compound_id, subject_type, subject_id
            """,
        )
    finally:
        con.unregister("_cw_name_hits")
        con.unregister("_cw_name_cands")


def recruitment_links(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """A recruiter's account to the compound its payers moved into (the recruitment_fees alerts of the run)."""
    _insert(
        con,
        f"""
        SELECT h.evidence ->> 'compound_id', 'account', h.subject_id, 'recruitment',
               to_json({{'payers': h.member_ids, 'fees': h.txn_ids, 'rule': h.rule_id}})::VARCHAR, h.reason,
               {BASE_CONFIDENCE['recruitment']} * coalesce(c.confidence, 1.0), h.window_start, h.window_end,
               len(h.member_ids)
        FROM rule_hits h
        JOIN typology_scores t ON t.run_id = h.run_id AND t.subject_id = h.subject_id AND t.typology_id = 'recruitment_fees'
                              AND t.is_alert
        JOIN compounds c ON c.compound_id = h.evidence ->> 'compound_id'
        WHERE h.run_id = $run_id AND h.rule_id = 'recruitment_fees' AND h.score > 0
        """,
        {"run_id": run_id},
    )


# ----------------------------------------------------------------------------------------------- state


def build_links(con: duckdb.DuckDBPyConnection, run_id: str, *, max_hops: int = MAX_HOPS) -> dict:
    """Compute every link kind into _cw_links, then merge into compound_links with statuses. Returns counts per kind."""
    con.execute(LINKS_DDL)
    if con.execute("SELECT count(*) FROM compounds").fetchall()[0][0] == 0 and \
            con.execute("SELECT count(*) FROM listed_addresses").fetchall()[0][0] == 0:
        return {}
    ip_links(con)
    geo_links(con)
    phone_links(con)
    registry_and_hop_links(con, max_hops=max_hops)
    sanctions_links(con)
    name_links(con)
    recruitment_links(con, run_id)
    return merge_links(con, run_id)


def merge_links(con: duckdb.DuckDBPyConnection, run_id: str) -> dict:
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _cw_links_new AS
        SELECT 'CL-' || substr(sha256(compound_id || '|' || subject_type || '|' || subject_id || '|' || link_kind), 1, 16) AS link_id,
               l.*
        FROM _cw_links l WHERE subject_id IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY compound_id, subject_type, subject_id, link_kind ORDER BY confidence DESC) = 1
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _cw_links_state AS
        SELECT n.link_id, n.compound_id, n.subject_type, n.subject_id, n.link_kind, CAST(n.evidence AS JSON) AS evidence,
               n.evidence_text, round(n.confidence, 6) AS confidence, n.first_seen_at, n.last_seen_at, n.n_facts,
               CASE WHEN o.link_id IS NULL THEN 'new'
                    WHEN o.evidence::VARCHAR IS DISTINCT FROM CAST(n.evidence AS JSON)::VARCHAR
                      OR o.confidence IS DISTINCT FROM round(n.confidence, 6) THEN 'updated'
                    ELSE 'unchanged' END AS status,
               true AS is_current, $run_id AS run_id
        FROM _cw_links_new n LEFT JOIN compound_links o ON o.link_id = n.link_id
        """,
        {"run_id": run_id},
    )
    con.execute("UPDATE compound_links SET is_current = false WHERE link_id NOT IN (SELECT link_id FROM _cw_links_state)")
    con.execute("DELETE FROM compound_links WHERE link_id IN (SELECT link_id FROM _cw_links_state)")
    cols = ", ".join(c for c in (
        "link_id", "compound_id", "subject_type", "subject_id", "link_kind", "evidence", "evidence_text", "confidence",
        "first_seen_at", "last_seen_at", "n_facts", "status", "is_current", "run_id"))
    con.execute(f"INSERT INTO compound_links ({cols}) SELECT {cols} FROM _cw_links_state")
    out = dict(con.execute("SELECT link_kind, count(*) FROM _cw_links_state GROUP BY 1").fetchall())
    for t in ("_cw_links", "_cw_links_new", "_cw_links_state"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return out


__all__ = ["build_links", "BASE_CONFIDENCE", "OFFRAMP_KINDS"]
