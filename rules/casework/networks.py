"""Networks: alerts connected through flows and shared identifiers; members with roles and ranks.

1. Alert subjects are joined (connected components) when their accounts
   - transact with each other (flow),
   - both transact with the same small counterparty that is not an off-ramp or a busy hub (flow_2hop: a victim
     paying two mules, an unflagged consolidator collecting from two mules),
   - share a holder (same party or resolved party cluster), a device, an IP (carrier NAT / private ranges never
     count), a phone or an e-mail, where at most `MAX_SHARERS` accounts share the value. A shared address alone
     does not join (apartment blocks, short addresses: strangers share them); it still shapes members' roles.
2. Members: the alerted accounts, their evidence counterparties (victims, payees, off-ramps), the connecting
   counterparties, direct payees that are off-ramps or compound registry accounts, the other accounts of the same
   holders, and the holders themselves (parties, one member per resolved cluster).
3. Ranking: PageRank with USD weights on the flow graph among member accounts (money flows towards the upper
   levels, so collecting and controlling accounts accumulate rank), times a role factor (victims and off-ramp
   services are not the target). A party's rank_score is the sum over the member accounts it holds, times
   (1 + 0.5 per extra account held): the holder of the consolidator and of several mule accounts outranks them.
4. Network ids: a network keeps the id of the stored network it overlaps most (by alert ids); otherwise
   'NW-' + sha256(sorted alerted subjects)[:16].

Scale: the work follows the alerts, not the store. Joins, members and flows come from the staged evidence and from
a few selective scans of `transactions` with the alerted (core) or member accounts as a semi-join filter: the
payments of alerted accounts to members, aggregated per account pair before they meet the networks (never a
member x member or transaction x network join), the off-ramp payees of alerted accounts, and the degree of
candidate bridge counterparties. Shared identifiers are counted only for the values of alerted accounts. Python
sees alert subjects, members and edge arrays: components by scipy, PageRank as a sparse power iteration. An
incremental run (rule_runs.since after the first transaction) reads the alerted accounts' payments of its own
range plus its alerts' evidence, so a daily build does not re-aggregate every alerted account's history.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import duckdb
import networkx as nx
import numpy as np
import polars as pl

from rules.casework.common import (
    NOT_ACCOUNTS_SQL,
    OFFRAMP_KINDS,
    offramp_list_sql,
    sha16,
)

MAX_SHARERS = 25  # an identifier shared by more accounts than this links nobody (public Wi-Fi, a shop's device)
HUB_COUNTERPARTIES = 30  # a counterparty with more distinct counterparties than this does not join two alerts
ROLE_FACTOR = {"victim": 0.05, "off_ramp": 0.3, "counterparty": 0.5}
VICTIM_TYPOLOGIES = {"victim_escalation"}
PARTY_EXTRA_ACCOUNT = 0.5
STRONG_LINK = 0.5  # compound link confidence that makes a member 'compound_linked'
ENDPOINT_KINDS = {"registry_account", "sanctions_list"}
SERVICE_IDENTITY_KINDS = {"registry_account", "ip_cidr", "company_name"}  # links an off-ramp member passes to its network
WEAK_KINDS = {"geo_radius", "phone_prefix"}  # alone, they do not make an account compound-linked
NETWORK_LINK = 0.3  # a member's link confidence that links its network to the compound (members' compound_ids too)
CONTEXT_ONLY = {"address"}  # identifiers that describe members but never join two alerts (strangers share addresses)


@dataclass
class Net:
    subjects: list[tuple[str, str]]
    alert_ids: list[str]
    core: set[str]
    accounts: set[str] = field(default_factory=set)
    link_kinds: set[str] = field(default_factory=set)
    network_id: str = ""


def _rows(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


def compute(con: duckdb.DuckDBPyConnection, run_id: str) -> dict:
    """Build networks from the staged alerts (_cw_alerts, _cw_subject_accounts, _cw_evidence).

    Leaves _cw_alert_network (alert_id, network_id) for alerts.write and a Python state for write()."""
    sa = _rows(con, "SELECT s.alert_id, a.subject_type, a.subject_id, s.account_id FROM _cw_subject_accounts s "
                    "JOIN _cw_alerts a USING (alert_id)")
    alert_subject: dict[str, tuple[str, str]] = {}
    acct_subjects: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for alert_id, st, sid, acct in sa:
        alert_subject[alert_id] = (st, sid)
        acct_subjects[acct].add((st, sid))
    for alert_id, st, sid in _rows(con, "SELECT alert_id, subject_type, subject_id FROM _cw_alerts"):
        alert_subject[alert_id] = (st, sid)
    core_accounts = set(acct_subjects)
    con.execute("CREATE OR REPLACE TEMP TABLE _cw_core (account_id VARCHAR)")
    if core_accounts:
        con.register("_cw_core_frame", pl.DataFrame({"account_id": sorted(core_accounts)}).to_arrow())
        con.execute("INSERT INTO _cw_core SELECT account_id FROM _cw_core_frame")
        con.unregister("_cw_core_frame")

    # alert subjects are numbered; the joins below are collected as account pairs (_cw_joins), turned into subject
    # pairs in SQL and put into connected components by scipy (no Python loop per pair)
    subjects_all = sorted(set(alert_subject.values()))
    sid_of = {sj: i for i, sj in enumerate(subjects_all)}
    acct_sid: dict[str, list] = {"account_id": [], "sid": []}
    for acct, ss in acct_subjects.items():
        for sj in ss:
            acct_sid["account_id"].append(acct)
            acct_sid["sid"].append(sid_of[sj])
    con.execute("CREATE OR REPLACE TEMP TABLE _cw_acct_subject (account_id VARCHAR, sid BIGINT)")
    con.execute("CREATE OR REPLACE TEMP TABLE _cw_joins (kind VARCHAR, a VARCHAR, b VARCHAR)")
    if acct_sid["sid"]:
        con.register("_cw_as_frame", pl.DataFrame(acct_sid, schema={"account_id": pl.Utf8, "sid": pl.Int64}).to_arrow())
        con.execute("INSERT INTO _cw_acct_subject SELECT * FROM _cw_as_frame")
        con.unregister("_cw_as_frame")
    star: dict[str, list] = {"kind": [], "a": [], "b": []}

    def join_all(accounts: list[str], kind: str) -> None:
        """Join the subjects of these accounts (a star from the first: the same components as all pairs)."""
        for i in range(1, len(accounts)):
            star["kind"].append(kind)
            star["a"].append(accounts[0])
            star["b"].append(accounts[i])

    # (a) flows between alerted accounts that are part of an alert's evidence (background payments between two
    #     flagged accounts do not join them)
    con.execute("""
        INSERT INTO _cw_joins
        SELECT DISTINCT 'flow', s.account_id, e.counterparty_id FROM _cw_evidence e
        JOIN _cw_subject_accounts s ON s.alert_id = e.alert_id
        WHERE e.direction IN ('in', 'out') AND e.counterparty_id IN (SELECT account_id FROM _cw_core)
          AND e.counterparty_id <> s.account_id""")
    # (b) two alerted accounts and one small, non-service counterparty in both their evidence
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _cw_touch AS
        SELECT DISTINCT s.account_id AS core_id, e.counterparty_id AS other_id
        FROM _cw_evidence e JOIN _cw_subject_accounts s ON s.alert_id = e.alert_id
        WHERE e.direction IN ('in', 'out') AND e.counterparty_id NOT IN (SELECT account_id FROM _cw_core)
    """)
    bridges = _rows(con, f"""
        WITH cand AS (
            SELECT other_id FROM _cw_touch
            WHERE NOT {NOT_ACCOUNTS_SQL.format(col='other_id')}
            GROUP BY other_id HAVING count(DISTINCT core_id) >= 2
        ),
        legs AS (
            SELECT from_account_id AS acct, to_account_id AS cp FROM transactions WHERE from_account_id IN (SELECT other_id FROM cand)
            UNION ALL
            SELECT to_account_id, from_account_id FROM transactions WHERE to_account_id IN (SELECT other_id FROM cand)
        ),
        bounds AS (   -- cheap bounds first: transactions (>= distinct counterparties) and an HLL estimate
            SELECT acct, count(*) AS n_legs, approx_count_distinct(cp) AS n_est FROM legs GROUP BY acct
        ),
        open AS (     -- the exact count only where the bounds leave it open (a busy account is dropped by its estimate)
            SELECT acct FROM bounds WHERE n_legs > {HUB_COUNTERPARTIES} AND n_est <= {2 * HUB_COUNTERPARTIES}
        ),
        small AS (    -- at most HUB_COUNTERPARTIES distinct counterparties
            SELECT acct FROM bounds WHERE n_legs <= {HUB_COUNTERPARTIES}
            UNION ALL
            SELECT acct FROM legs WHERE acct IN (SELECT acct FROM open) GROUP BY acct
            HAVING count(DISTINCT cp) <= {HUB_COUNTERPARTIES}
        )
        SELECT t.other_id, list(DISTINCT t.core_id) FROM _cw_touch t
        JOIN small d ON d.acct = t.other_id
        LEFT JOIN accounts a ON a.account_id = t.other_id
        WHERE NOT coalesce(list_contains({offramp_list_sql()}, a.kind), false)
        GROUP BY t.other_id
    """)
    bridge_of: dict[str, list[str]] = {}
    for other, cores in bridges:
        bridge_of[other] = cores
        join_all(cores, "flow_2hop")
    # (c) shared identifiers
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cw_ident AS
        WITH holder AS (
            SELECT a.account_id, a.holder_id, coalesce(pc.cluster_id, a.holder_id) AS cluster
            FROM accounts a LEFT JOIN party_clusters pc ON pc.party_id = a.holder_id
        ),
        ev AS (   -- events on an account, or on a party (then: each of its accounts)
            SELECT e.account_id, e.device_id, e.ip, e.phone, e.occurred_at FROM events e WHERE e.account_id IS NOT NULL
            UNION ALL
            SELECT a.account_id, e.device_id, e.ip, e.phone, e.occurred_at
            FROM events e JOIN accounts a ON a.holder_id = e.party_id WHERE e.account_id IS NULL
        ),
        ids AS (
            SELECT account_id, 'device' AS kind, device_id AS value, occurred_at AS at FROM ev WHERE device_id IS NOT NULL
            UNION ALL SELECT account_id, 'ip', trim(ip), occurred_at FROM ev WHERE ip IS NOT NULL AND NOT st_shared_ip(ip)
            UNION ALL SELECT account_id, 'phone', cw_phone(phone), occurred_at FROM ev WHERE cw_phone(phone) IS NOT NULL
            UNION ALL SELECT h.account_id, 'phone', cw_phone(p.phone), NULL FROM holder h JOIN parties p ON p.party_id = h.holder_id
                      WHERE cw_phone(p.phone) IS NOT NULL
            UNION ALL SELECT h.account_id, 'email', lower(trim(p.email)), NULL FROM holder h JOIN parties p ON p.party_id = h.holder_id
                      WHERE nullif(trim(p.email), '') IS NOT NULL
            UNION ALL SELECT h.account_id, 'address', lower(regexp_replace(trim(p.address), '\\s+', ' ', 'g')), NULL
                      FROM holder h JOIN parties p ON p.party_id = h.holder_id WHERE nullif(trim(p.address), '') IS NOT NULL
            UNION ALL SELECT account_id, 'holder', cluster, NULL FROM holder WHERE cluster IS NOT NULL
        ),
        core_values AS (   -- identifiers of alerted accounts: only these can join two alerts
            SELECT DISTINCT kind, value FROM ids WHERE account_id IN (SELECT account_id FROM _cw_core)
        ),
        shared AS (        -- counted over the accounts that share a value of an alerted account only
            SELECT kind, value FROM ids SEMI JOIN core_values USING (kind, value) GROUP BY kind, value
            HAVING count(DISTINCT account_id) >= 2
               AND (kind = 'holder' OR count(DISTINCT account_id) <= {MAX_SHARERS})
        )
        SELECT i.kind, i.value, i.account_id, min(i.at) AS first_at, max(i.at) AS last_at
        FROM ids i JOIN shared s USING (kind, value)
        GROUP BY i.kind, i.value, i.account_id
    """)
    ident = _rows(con, "SELECT kind, value, list(account_id ORDER BY account_id), min(first_at), max(last_at) FROM _cw_ident GROUP BY 1, 2")
    for kind, value, accts, _, _ in ident:
        if kind in CONTEXT_ONLY:
            continue
        join_all([a for a in accts if a in core_accounts], kind)
    if star["kind"]:
        con.register("_cw_star_frame", pl.DataFrame(star, schema={"kind": pl.Utf8, "a": pl.Utf8, "b": pl.Utf8}).to_arrow())
        con.execute("INSERT INTO _cw_joins SELECT * FROM _cw_star_frame")
        con.unregister("_cw_star_frame")
    # subject pairs joined, and how (two different subjects only: an account is not joined to itself)
    e = con.execute("""
        SELECT DISTINCT least(x.sid, y.sid) AS u, greatest(x.sid, y.sid) AS v, j.kind
        FROM _cw_joins j JOIN _cw_acct_subject x ON x.account_id = j.a JOIN _cw_acct_subject y ON y.account_id = j.b
        WHERE x.sid <> y.sid""").fetchnumpy()
    u, v = np.asarray(e["u"], dtype=np.int64), np.asarray(e["v"], dtype=np.int64)
    n_comp, label = _components(len(subjects_all), u, v)

    nets: list[Net] = []
    subj_alerts: dict[tuple, list[str]] = defaultdict(list)
    for alert_id, subj in alert_subject.items():
        subj_alerts[subj].append(alert_id)
    members_of: list[list[tuple]] = [[] for _ in range(n_comp)]
    for i, sj in enumerate(subjects_all):  # subjects_all is sorted: each component's subjects stay sorted
        members_of[label[i]].append(sj)
    for subjects in members_of:
        nets.append(Net(subjects, sorted(a for sj in subjects for a in subj_alerts[sj]), set()))
    for acct, ss in acct_subjects.items():  # an account of subjects in several networks is core in each
        for sj in ss:
            nets[label[sid_of[sj]]].core.add(acct)
    kinds = np.asarray(e["kind"], dtype=object)
    for c, k in set(zip(label[u].tolist(), kinds.tolist())):  # both ends of a join are in one component
        nets[c].link_kinds.add(k)
    state = _members(con, nets, bridge_of, ident, core_accounts)
    _assign_ids(con, nets)
    con.execute("CREATE OR REPLACE TEMP TABLE _cw_alert_network (alert_id VARCHAR, network_id VARCHAR)")
    pairs = [(a, n.network_id) for n in nets for a in n.alert_ids]
    if pairs:
        con.register("_cw_an_frame", pl.DataFrame(pairs, schema={"alert_id": pl.Utf8, "network_id": pl.Utf8}, orient="row").to_arrow())
        con.execute("INSERT INTO _cw_alert_network SELECT * FROM _cw_an_frame")
        con.unregister("_cw_an_frame")
    state["nets"] = nets
    state["ident"] = ident
    return state


def _components(n: int, u, v) -> tuple[int, np.ndarray]:
    """Connected components of nodes 0..n-1 joined by the undirected edges u - v: (count, label per node)."""
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    graph = coo_array((np.ones(len(u), dtype=np.int32), (u, v)), shape=(n, n)).tocsr()
    return connected_components(graph, directed=False)


def _members(con, nets: list[Net], bridge_of: dict, ident: list, core_accounts: set[str]) -> dict:
    """Add the non-alerted member accounts to each network; return lookups for roles and ranking."""
    # evidence counterparties and pattern members of each network's alerts, and the direct payees of its alerted
    # accounts that are off-ramps or compound registry / listed accounts: in SQL, one row per (network, account)
    an: dict[str, list] = {"alert_id": [], "net": []}
    cn: dict[str, list] = {"account_id": [], "net": []}
    for i, n in enumerate(nets):
        an["alert_id"] += n.alert_ids
        an["net"] += [i] * len(n.alert_ids)
        cn["account_id"] += sorted(n.core)
        cn["net"] += [i] * len(n.core)
    con.register("_cw_alert_net", pl.DataFrame(an, schema={"alert_id": pl.Utf8, "net": pl.Int64}).to_arrow())
    con.register("_cw_core_net", pl.DataFrame(cn, schema={"account_id": pl.Utf8, "net": pl.Int64}).to_arrow())
    try:
        found = _rows(con, f"""
            WITH endpoints AS (
                SELECT DISTINCT t.from_account_id, t.to_account_id FROM transactions t
                LEFT JOIN accounts a ON a.account_id = t.to_account_id
                WHERE t.from_account_id IN (SELECT account_id FROM _cw_core)
                  AND (list_contains({offramp_list_sql()}, a.kind)
                       OR t.to_account_id IN (SELECT account_id FROM listed_addresses)
                       OR t.to_account_id IN (SELECT subject_id FROM compound_links
                                              WHERE is_current AND link_kind = 'registry_account'))
            ),
            x AS (
                SELECT an.net, e.counterparty_id AS account_id FROM _cw_evidence e JOIN _cw_alert_net an USING (alert_id)
                WHERE e.direction IN ('in', 'out')
                UNION ALL
                SELECT an.net, unnest(a.member_ids) FROM _cw_alerts a JOIN _cw_alert_net an USING (alert_id)
                UNION ALL
                SELECT cn.net, ep.to_account_id FROM endpoints ep JOIN _cw_core_net cn ON cn.account_id = ep.from_account_id
            )
            SELECT DISTINCT net, account_id FROM x
            WHERE account_id IS NOT NULL AND account_id <> '' AND account_id <> 'cash' AND NOT starts_with(account_id, 'unknown:')""")
    finally:
        con.unregister("_cw_alert_net")
        con.unregister("_cw_core_net")
    outside: dict[int, set[str]] = defaultdict(set)
    for i, acct in found:
        outside[i].add(acct)
    holder_sharers: dict[str, set[str]] = defaultdict(set)  # core account -> other accounts of the same holder / device
    for kind, _value, accts, _f, _l in ident:
        if kind in ("holder", "device"):
            for a in accts:
                if a in core_accounts:
                    holder_sharers[a] |= set(accts)
    bridges_of_net: dict[int, set[str]] = defaultdict(set)  # a bridge belongs to the networks of >= 2 of its cores
    net_of_core: dict[str, list[int]] = defaultdict(list)
    for i, n in enumerate(nets):
        for c in n.core:
            net_of_core[c].append(i)
    for other, cores in bridge_of.items():
        seen: dict[int, int] = defaultdict(int)
        for c in set(cores):
            for i in net_of_core.get(c, ()):
                seen[i] += 1
        for i, k in seen.items():
            if k >= 2:
                bridges_of_net[i].add(other)
    for i, n in enumerate(nets):
        accts = set(n.core) | outside.get(i, set()) | bridges_of_net.get(i, set())
        for c in n.core:
            accts |= holder_sharers.get(c, set())
        n.accounts = {a for a in accts if a and a != "cash" and not a.startswith("unknown:")}
    return {}


def _assign_ids(con, nets: list[Net]) -> None:
    """Keep the id of the stored network with the largest alert overlap (each stored id used once)."""
    stored = _rows(con, "SELECT network_id, alert_ids FROM networks")
    by_alert: dict[str, set[str]] = defaultdict(set)
    for nid, aids in stored:
        for a in aids or []:
            by_alert[a].add(nid)
    cands = []
    for i, n in enumerate(nets):
        overlap: dict[str, int] = defaultdict(int)
        for a in n.alert_ids:
            for nid in by_alert.get(a, ()):
                overlap[nid] += 1
        cands += [(-k, nid, i) for nid, k in overlap.items()]
    used, done = set(), set()
    for _negk, nid, i in sorted(cands):
        if nid in used or i in done:
            continue
        nets[i].network_id = nid
        used.add(nid)
        done.add(i)
    for n in nets:
        if not n.network_id:
            n.network_id = "NW-" + sha16(*(f"{t}:{s}" for t, s in n.subjects))
            if n.network_id in used:  # a stored id reused by another network: derive from the alerts instead
                n.network_id = "NW-" + sha16("alerts", *n.alert_ids)
            used.add(n.network_id)


# ----------------------------------------------------------------------------------------------- members and ranks


def write(con: duckdb.DuckDBPyConnection, run_id: str, state: dict) -> dict:  # noqa: C901 -- split pending
    nets: list[Net] = state["nets"]
    ident = state["ident"]
    all_accounts = sorted({a for n in nets for a in n.accounts})
    con.execute("CREATE OR REPLACE TEMP TABLE _cw_members (account_id VARCHAR)")
    if all_accounts:
        con.register("_cw_m_frame", pl.DataFrame({"account_id": all_accounts}).to_arrow())
        con.execute("INSERT INTO _cw_members SELECT account_id FROM _cw_m_frame")
        con.unregister("_cw_m_frame")
    acct_info = {r[0]: r for r in _rows(con, """
        SELECT m.account_id, a.kind, a.institution, coalesce(a.country, p.country), a.holder_id,
               coalesce(pc.cluster_id, a.holder_id), p.party_type, coalesce(p.name, a.label), a.label, a.rail
        FROM _cw_members m LEFT JOIN accounts a ON a.account_id = m.account_id
        LEFT JOIN parties p ON p.party_id = a.holder_id
        LEFT JOIN party_clusters pc ON pc.party_id = a.holder_id""")}
    # the flow graph of a network: its alerts' evidence transactions, plus payments made by its alerted accounts
    # to other members (consolidator -> organiser's or legal person's account). Background payments between two
    # members that no alert cites and no alerted account made do not shape the ranking.
    # each (network, member account) is a node numbered contiguously per network: node_start[i] + position in
    # nodes[i]; the flow edges come back from DuckDB as node numbers
    nm: dict[str, list] = {"network_id": [], "account_id": [], "is_core": [], "node": []}
    nodes: list[list[str]] = []
    node_start: list[int] = []
    for n in nets:
        node_start.append(len(nm["node"]))
        nodes.append(sorted(n.accounts))
        for a in nodes[-1]:
            nm["network_id"].append(n.network_id)
            nm["account_id"].append(a)
            nm["is_core"].append(a in n.core)
            nm["node"].append(len(nm["node"]))
    con.execute("CREATE OR REPLACE TEMP TABLE _cw_net_members (network_id VARCHAR, account_id VARCHAR, is_core BOOLEAN,"
                " node BIGINT, net_account VARCHAR)")
    if nm["network_id"]:
        con.register("_cw_nm_frame", pl.DataFrame(nm, schema={"network_id": pl.Utf8, "account_id": pl.Utf8,
                                                               "is_core": pl.Boolean, "node": pl.Int64}).to_arrow())
        con.execute("INSERT INTO _cw_net_members SELECT *, network_id || '|' || account_id FROM _cw_nm_frame")
        con.unregister("_cw_nm_frame")
    since = con.execute("SELECT min(since) FROM rule_runs WHERE run_id = ?", [run_id]).fetchall()[0][0]
    edges, flow_places = _member_flows(con, since)
    alerts = _rows(con, "SELECT alert_id, subject_type, subject_id, typology_id, priority_score, priority, total_usd,"
                        " first_activity_at, last_activity_at FROM alerts WHERE alert_id IN (SELECT alert_id FROM _cw_alerts)")
    alert_rows = {a[0]: a for a in alerts}
    # holders of member accounts and the representatives (smallest party_id) of their resolved clusters: the only
    # parties, clusters and party links the members need
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _cw_member_parties AS
        WITH h AS (
            SELECT DISTINCT a.holder_id, pc.cluster_id FROM _cw_members m JOIN accounts a USING (account_id)
            LEFT JOIN party_clusters pc ON pc.party_id = a.holder_id WHERE a.holder_id IS NOT NULL
        )
        SELECT holder_id AS party_id, NULL AS cluster_id FROM h
        UNION
        SELECT min(party_id), cluster_id FROM party_clusters
        WHERE cluster_id IN (SELECT cluster_id FROM h) GROUP BY cluster_id""")
    links = defaultdict(list)
    for st, sid, cid, kind, conf in _rows(con, """
            SELECT subject_type, subject_id, compound_id, link_kind, confidence FROM compound_links
            WHERE is_current AND ((subject_type = 'account' AND subject_id IN (SELECT account_id FROM _cw_members))
                                  OR (subject_type = 'party' AND subject_id IN (SELECT party_id FROM _cw_member_parties)))"""):
        links[(st, sid)].append((cid, kind, conf))
    cluster_rep = {c: p for p, c in _rows(con, "SELECT party_id, cluster_id FROM _cw_member_parties WHERE cluster_id IS NOT NULL")}
    parties = {r[0]: r for r in _rows(con, "SELECT party_id, party_type, name, country, nationality, phone, email, address,"
                                           " id_number FROM parties WHERE party_id IN (SELECT party_id FROM _cw_member_parties)")}
    sa = defaultdict(set)
    for alert_id, acct in _rows(con, "SELECT alert_id, account_id FROM _cw_subject_accounts"):
        sa[acct].add(alert_id)
    alert_typ = {a[0]: a[3] for a in alerts}
    evidence_usd = {}
    ev_stats = _rows(con, """
        SELECT n.network_id, sum(DISTINCT_USD), min(first_at), max(last_at) FROM (
            SELECT an.network_id, e.txn_id, any_value(CAST(e.amount_usd AS DOUBLE)) AS DISTINCT_USD,
                   min(e.booked_at) AS first_at, max(e.booked_at) AS last_at
            FROM _cw_evidence e JOIN _cw_alert_network an USING (alert_id) GROUP BY an.network_id, e.txn_id
        ) n GROUP BY n.network_id""")
    for nid, usd, fa, la in ev_stats:
        evidence_usd[nid] = (usd or 0.0, fa, la)

    ident_of: dict[str, list[int]] = defaultdict(list)  # account -> its shared identifiers (indexes into ident)
    for j, (_kind, _value, shared, _f, _l) in enumerate(ident):
        for a in shared:
            ident_of[a].append(j)

    member_rows, edge_rows, net_rows = [], [], []
    e_src, e_dst, e_usd = edges
    for i, n in enumerate(nets):
        accts = n.accounts
        order = nodes[i]
        num = len(order)
        lo, hi = np.searchsorted(e_src, [node_start[i], node_start[i] + num])
        src, dst, w = e_src[lo:hi] - node_start[i], e_dst[lo:hi] - node_start[i], e_usd[lo:hi]
        countries, institutions = set(flow_places[n.network_id][0]), set(flow_places[n.network_id][1])
        pr = dict(zip(order, pagerank(num, src, dst, w).tolist())) if len(src) else {a: 1.0 / max(num, 1) for a in accts}
        in_usd = dict(zip(order, np.bincount(dst, weights=w, minlength=num).tolist()))
        out_usd = dict(zip(order, np.bincount(src, weights=w, minlength=num).tolist()))
        # ---- account roles
        roles: dict[str, set[str]] = {a: set() for a in accts}
        net_alerts = set(n.alert_ids)
        alerted = {a for a in accts if sa.get(a, set()) & net_alerts}
        for a in accts:
            info = acct_info.get(a)
            kind = info[1] if info else None
            my_typ = {alert_typ.get(x) for x in sa.get(a, set()) & net_alerts}
            if kind in OFFRAMP_KINDS:
                roles[a].add("off_ramp")
            if my_typ and my_typ <= VICTIM_TYPOLOGIES:
                roles[a].add("victim")
            elif a not in alerted and out_usd[a] > 0 and in_usd[a] == 0 and kind not in OFFRAMP_KINDS:
                roles[a].add("victim")
            if _strongly_linked(links.get(("account", a), ())):
                roles[a].add("compound_linked")
        # per payee: payers that are not victims (edges are distinct payer -> payee pairs), of which alerted, and
        # whether any payer is a victim; per payer: whether it pays anyone
        is_victim = np.array(["victim" in roles[a] for a in order], dtype=bool)
        is_alerted = np.array([a in alerted for a in order], dtype=bool)
        payers_n = np.bincount(dst, weights=~is_victim[src], minlength=num)
        payers_alerted = np.bincount(dst, weights=~is_victim[src] & is_alerted[src], minlength=num)
        victim_payers = np.bincount(dst, weights=is_victim[src], minlength=num)
        pays = np.bincount(src, minlength=num)
        for k, a in enumerate(order):
            if roles[a] & {"victim", "off_ramp"}:
                continue
            if a in alerted:
                roles[a].add("mule")
            if payers_n[k] >= 2 and (payers_alerted[k] > 0 or payers_n[k] >= 3):
                roles[a].add("consolidator")
            elif a not in alerted and victim_payers[k] > 0 and pays[k]:
                roles[a].add("mule")
        primary = {}
        for a in accts:
            r = roles[a]
            endpoint = any(lk in ENDPOINT_KINDS for _c, lk, _x in links.get(("account", a), ()))
            order = (["compound_linked"] if endpoint else []) + ["off_ramp", "consolidator", "mule", "compound_linked", "victim"]
            primary[a] = next((x for x in order if x in r), "counterparty")
            if not r:
                roles[a].add("counterparty")
        score = {a: pr.get(a, 0.0) * ROLE_FACTOR.get(primary[a], 1.0) for a in accts}
        # ---- parties: one per resolved holder cluster, for accounts that are not victims
        held: dict[str, list[str]] = defaultdict(list)
        for a in accts:
            info = acct_info.get(a)
            if info and info[5] and primary[a] != "victim":
                held[info[5]].append(a)
        party_members: list[list] = []
        legal_contacts = set()
        member_contacts = []  # (index in party_members, party_type, is beneficial owner, contacts)
        for cluster, acs in held.items():
            rep = cluster_rep.get(cluster, cluster)
            p = parties.get(rep) or parties.get(acct_info[acs[0]][4])
            ptype = (p[1] if p else None) or acct_info[acs[0]][6] or "person"
            if ptype == "legal" and any(primary[a] != "off_ramp" for a in acs) and p:
                legal_contacts |= {("phone", p[5]), ("email", p[6]), ("address", p[7])} - {("phone", None), ("email", None), ("address", None)}
        for cluster, acs in held.items():
            rep = cluster_rep.get(cluster, cluster)
            p = parties.get(rep) or parties.get(acct_info[acs[0]][4])
            ptype = (p[1] if p else None) or acct_info[acs[0]][6] or "person"
            prole = set()
            service = all(primary[a] == "off_ramp" for a in acs)
            if ptype == "legal":
                prole.add("off_ramp" if service else "legal_person")
            else:
                functional = [a for a in acs if primary[a] in ("consolidator", "compound_linked", "mule")]
                if len(functional) >= 2 or any(primary[a] in ("consolidator", "compound_linked") for a in acs):
                    prole.add("organiser")
                if p and ({("phone", p[5]), ("email", p[6]), ("address", p[7])} & legal_contacts):
                    prole.add("beneficial_owner")
                if not prole:
                    prole.add("account_holder")
            order = ["organiser", "beneficial_owner", "legal_person", "off_ramp", "account_holder"]
            prim = next(x for x in order if x in prole)
            cent = sum(pr.get(a, 0.0) for a in acs)
            rs = sum(score[a] for a in acs) * (1 + PARTY_EXTRA_ACCOUNT * (len(acs) - 1))
            comp = sorted({c for st_id in [("party", rep)] + [("account", a) for a in acs]
                           for c, _k, conf in links.get(st_id, ()) if conf >= NETWORK_LINK})
            party_alerts = sorted({x for a in acs for x in sa.get(a, set()) & net_alerts})
            contacts = ({("phone", p[5]), ("email", p[6]), ("address", p[7])} if p else set()) - \
                {("phone", None), ("email", None), ("address", None)}
            member_contacts.append((len(party_members), ptype, "beneficial_owner" in prole, contacts))
            party_members.append([n.network_id, "party", rep, p[2] if p else None, prim, sorted(prole), None, rs, cent,
                                  bool(party_alerts), party_alerts, round(sum(in_usd[a] for a in acs), 2),
                                  round(sum(out_usd[a] for a in acs), 2), cluster, sorted(acs), len(acs), ptype, None,
                                  None, (p[3] or p[4]) if p else None, comp])
            for a in acs:
                edge_rows.append((n.network_id, "party", rep, "account", a, "holder", None, None, None, None, cluster))
            if p:
                countries |= {c for c in (p[3], p[4]) if c}
        # a beneficial owner (shares the phone / e-mail / address of legal persons in the network) carries their weight
        legal_rs = [(party_members[i][7], c) for i, t, _bo, c in member_contacts if t == "legal"]
        for i, _t, bo, c in member_contacts:
            if bo:
                party_members[i][7] += sum(rs_ for rs_, lc in legal_rs if lc & c)
        acct_members = []
        for a in accts:
            info = acct_info.get(a) or (a, None, None, None, None, None, None, None, None, None)
            comp = sorted({c for c, _k, conf in links.get(("account", a), ()) if conf >= NETWORK_LINK})
            acct_members.append([n.network_id, "account", a, info[7], primary[a], sorted(roles[a]), None, score[a],
                                 pr.get(a, 0.0), a in alerted, sorted(sa.get(a, set()) & net_alerts),
                                 round(in_usd[a], 2), round(out_usd[a], 2), info[4], None, None, info[6], info[1],
                                 info[2], info[3], comp])
            if info[3]:
                countries.add(info[3])
            if info[2]:
                institutions.add(info[2])
        members = acct_members + party_members
        members.sort(key=lambda m: (-m[7], m[1], m[2]))
        for i, m in enumerate(members, 1):
            m[6] = i
            m[7] = round(m[7], 8)
            m[8] = round(m[8], 8)
        member_rows += members
        # shared identifier edges among member accounts
        for j in sorted({j for a in accts for j in ident_of.get(a, ())}):
            kind, value, shared, f_at, l_at = ident[j]
            inside = [a for a in shared if a in accts]
            for i in range(1, len(inside)):
                edge_rows.append((n.network_id, "account", inside[0], "account", inside[i], kind, None, None, f_at, l_at, value))
        top = members[0] if members else None
        n_alerts = [alert_rows[a] for a in n.alert_ids if a in alert_rows]
        vasps = sorted({(acct_info[a][8] or acct_info[a][2] or a) for a in accts
                        if acct_info.get(a) and acct_info[a][1] in OFFRAMP_KINDS})
        usd, fa, la = evidence_usd.get(n.network_id, (0.0, None, None))
        best = max(n_alerts, key=lambda r: r[4] or 0) if n_alerts else None
        net_rows.append({
            "network_id": n.network_id, "core_hash": sha16(*(f"{t}:{s}" for t, s in n.subjects)),
            "alert_ids": n.alert_ids, "n_alerts": len(n.alert_ids), "n_accounts": len(acct_members),
            "n_parties": len(party_members), "score": best[4] if best else None, "priority": best[5] if best else None,
            "total_usd": round(usd, 2), "first_activity_at": fa, "last_activity_at": la,
            "top_member_type": top[1] if top else None, "top_member_id": top[2] if top else None,
            "typologies": sorted({r[3] for r in n_alerts}), "link_kinds": sorted(n.link_kinds),
            "jurisdictions": sorted(c for c in countries if c), "institutions": sorted(institutions), "vasps": vasps,
            "compound_ids": _network_compounds(members, links),
            "legal_persons": sorted(m[2] for m in party_members if "legal_person" in m[5]),
        })
    return _store(con, run_id, net_rows, member_rows, edge_rows)


def _strongly_linked(account_links) -> bool:
    """An account is 'compound_linked' by an endpoint entry, or a link >= STRONG_LINK that is not only a weak fact
    (a position near the compound or an operator prefix: residents of Mae Sot and their phones), or weak facts of
    two kinds that corroborate each other."""
    weak = set()
    for _cid, lk, conf in account_links:
        if lk in ENDPOINT_KINDS or (conf >= STRONG_LINK and lk not in WEAK_KINDS):
            return True
        if lk in WEAK_KINDS and conf >= NETWORK_LINK:
            weak.add(lk)
    return len(weak) >= 2


def _member_flows(con, since=None) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], dict[str, tuple[list, list]]]:
    """The flow graph of each network, aggregated per (network, payer, payee) into the temp table _cw_net_flows
    (network_id, from_account_id, to_account_id, usd, n_txns, first_at, last_at, evidence: up to 20 txn_ids by
    time, countries, institutions, src_node, dst_node), from which network_edges gets its flow edges. Returns the
    edges for the ranking as arrays (payer node, payee node, USD weight) sorted by payer node, and the countries and
    institutions on each network's flows.

    A network's flows are every payment from one of its alerted (core) accounts to another member, plus its alerts'
    evidence transactions between two members. The first part is one selective scan of the transactions: payments
    from any core account to any member account (semi-joins on the member table), aggregated per account pair
    before the pairs are matched to networks, so that an account in many networks (an exchange, a merchant hub) or
    a network with many members never multiplies transactions. The second part reads the staged evidence only.

    `since` is the start of the detect run's range: an incremental run ranks on the payments of its own range (and
    its alerts' evidence from the rules' lookback before it), not on the whole history of every alerted account.
    A full run's range starts at the first transaction, so it sees them all."""
    pair = """t.from_account_id IN (SELECT account_id FROM _cw_net_members WHERE is_core)
              AND t.to_account_id IN (SELECT account_id FROM _cw_net_members)
              AND t.from_account_id <> t.to_account_id"""
    cols = ("t.txn_id, t.from_account_id, t.to_account_id, t.amount_usd, t.booked_at, t.from_country, t.to_country,"
            " t.from_institution, t.to_institution")
    if since is None:
        source = f"SELECT {cols} FROM transactions t WHERE {pair}"
    else:  # the run's range, plus the alerts' own evidence from before it (the rules' lookback)
        source = f"""
            SELECT {cols} FROM transactions t WHERE t.booked_at >= $since AND {pair}
            UNION ALL
            SELECT DISTINCT {cols} FROM _cw_evidence t WHERE t.booked_at < $since AND {pair}"""
    agg = _FLOW_AGG
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cw_pair_flows AS
        SELECT t.from_account_id, t.to_account_id, {agg}
        FROM ({source}) t
        GROUP BY 1, 2""", {} if since is None else {"since": since})
    # the payee's membership is matched on one key that needs the pair's row: no member x member join
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cw_net_flows AS
        SELECT a.network_id, f.*, a.node AS src_node, b.node AS dst_node FROM _cw_pair_flows f
        JOIN _cw_net_members a ON a.account_id = f.from_account_id AND a.is_core
        JOIN _cw_net_members b ON b.net_account = a.network_id || '|' || f.to_account_id
        UNION ALL
        -- evidence transactions whose payer is a member but not a core account of the network (a victim's
        -- payment, a leg between two pattern members)
        SELECT t.network_id, t.from_account_id, t.to_account_id, {agg}, any_value(a.node), any_value(b.node)
        FROM (
            SELECT DISTINCT an.network_id, e.txn_id, e.from_account_id, e.to_account_id,
                   e.amount_usd, e.booked_at, e.from_country, e.to_country, e.from_institution, e.to_institution
            FROM _cw_evidence e JOIN _cw_alert_network an USING (alert_id)
        ) t
        JOIN _cw_net_members a ON a.net_account = t.network_id || '|' || t.from_account_id AND NOT a.is_core
        JOIN _cw_net_members b ON b.net_account = t.network_id || '|' || t.to_account_id
        WHERE t.from_account_id <> t.to_account_id
        GROUP BY 1, 2, 3""")
    cols = con.execute("SELECT src_node, dst_node, greatest(coalesce(usd, 0.0), 0.01) AS w FROM _cw_net_flows"
                       " ORDER BY src_node, dst_node").fetchnumpy()
    edges = (np.asarray(cols["src_node"], dtype=np.int64), np.asarray(cols["dst_node"], dtype=np.int64),
             np.asarray(cols["w"], dtype=np.float64))
    places: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    for nid, countries, institutions in _rows(con, """
            SELECT network_id, list_distinct(flatten(list(countries))), list_distinct(flatten(list(institutions)))
            FROM _cw_net_flows GROUP BY 1"""):
        places[nid] = ([c for c in countries if c], [i for i in institutions if i])
    return edges, places


_FLOW_AGG = """sum(t.amount_usd)::DOUBLE AS usd, count(*) AS n_txns, min(t.booked_at) AS first_at,
               max(t.booked_at) AS last_at,
               array_to_string(list(t.txn_id ORDER BY t.booked_at, t.txn_id)[1:20], ',') AS evidence,
               list_distinct(list(t.from_country) || list(t.to_country)) AS countries,
               list_distinct(list(t.from_institution) || list(t.to_institution)) AS institutions"""


def pagerank(num: int, src, dst, weight, alpha: float = 0.85, max_iter: int = 100, tol: float = 1.0e-6):
    """PageRank of nodes 0..num-1 on the weighted directed edges src -> dst (distinct pairs), as an array.

    The power iteration of networkx.pagerank (scipy variant, same defaults: uniform start and teleport, dangling
    nodes spread uniformly, l1 convergence < num x tol), on a sparse matrix built straight from the edge arrays:
    a network of millions of flows never becomes a networkx graph."""
    from scipy import sparse

    a = sparse.csr_array((np.asarray(weight, dtype=float), (src, dst)), shape=(num, num))
    s = np.asarray(a.sum(axis=1)).ravel()
    nz = s != 0
    s[nz] = 1.0 / s[nz]
    a = sparse.dia_array((s, 0), shape=(num, num)).tocsr() @ a
    x = np.repeat(1.0 / num, num)
    p = np.repeat(1.0 / num, num)
    dangling = np.where(~nz)[0]
    for _ in range(max_iter):
        xlast = x
        x = alpha * (x @ a + sum(x[dangling]) * p) + (1 - alpha) * p
        if np.absolute(x - xlast).sum() < num * tol:
            return x
    raise nx.PowerIterationFailedConvergence(max_iter)


def _network_compounds(members: list, links: dict) -> list[str]:
    """Compounds the network is linked to: links (confidence >= NETWORK_LINK) of its own members.

    Members that are not part of the operation link it only through facts about their identity: an off-ramp
    service (exchange hot wallet, OTC desk, P2P merchant) is used by several compounds and by ordinary customers,
    so its wallet_hops links (it relays everyone's money to the compound's wallet), a location near a compound or
    an operator prefix say that a compound uses the service or is nearby, not that this network belongs to the
    compound; its account opened from the compound's IP range, or its company name in the compound's registry
    entry (SERVICE_IDENTITY_KINDS: the operation's own OTC desk) does. A victim's links say where the victim is
    and never link the network. A registry entry of the account itself always counts."""
    out: set[str] = set()
    for m in members:
        outsider = m[4] in ("off_ramp", "victim")
        for cid, kind, conf in links.get((m[1], m[2]), ()):
            if cid.startswith("list:"):  # sanctions-list exposure, not a compound: any member reports it
                if conf >= NETWORK_LINK:
                    out.add(cid)
            elif kind == "registry_account" or (conf >= NETWORK_LINK and (not outsider or (
                    m[4] == "off_ramp" and kind in SERVICE_IDENTITY_KINDS))):
                out.add(cid)
    return sorted(out)


def _store(con, run_id: str, net_rows: list[dict], member_rows: list, edge_rows: list) -> dict:
    from rules.alert_tables import NETWORK_EDGES, NETWORK_MEMBERS, NETWORKS

    nschema = {c: _pl_type(t.type) for c, t in ((c.name, c) for c in NETWORKS.columns) if c in (net_rows[0] if net_rows else {})}
    changed = """(o.alert_ids IS DISTINCT FROM n.alert_ids OR o.n_accounts IS DISTINCT FROM n.n_accounts
               OR o.n_parties IS DISTINCT FROM n.n_parties OR o.total_usd IS DISTINCT FROM CAST(n.total_usd AS DECIMAL(18,2))
               OR o.top_member_id IS DISTINCT FROM n.top_member_id
               OR n.network_id IN (SELECT network_id FROM _cw_net_changed))"""
    computed = {
        "status": f"CASE WHEN o.network_id IS NULL THEN 'new' WHEN {changed} THEN 'updated' ELSE 'unchanged' END",
        "is_current": "true",
        "run_id": "$run_id",
        "first_run_id": "coalesce(o.first_run_id, $run_id)",
        "created_at": "coalesce(o.created_at, now())",
        "updated_at": f"CASE WHEN o.network_id IS NULL OR {changed} THEN now() ELSE o.updated_at END",
    }
    select = ", ".join(f"{computed[c]} AS {c}" if c in computed else f"n.{c}" for c in NETWORKS.names)
    con.execute("CREATE OR REPLACE TEMP TABLE _cw_net_new AS SELECT * FROM networks WHERE false")
    if net_rows:
        nf = pl.DataFrame(net_rows, schema=nschema)
        con.register("_cw_nf", nf.to_arrow())
        # networks with an alert that is not unchanged (a join on the unnested alert ids, not a scan per network)
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _cw_net_changed AS
            SELECT DISTINCT x.network_id FROM (SELECT network_id, unnest(alert_ids) AS alert_id FROM _cw_nf) x
            JOIN alerts a ON a.alert_id = x.alert_id WHERE a.status <> 'unchanged'""")
        con.execute(f"INSERT INTO _cw_net_new SELECT {select} FROM _cw_nf n LEFT JOIN networks o ON o.network_id = n.network_id",
                    {"run_id": run_id})
        con.unregister("_cw_nf")
    con.execute("CREATE OR REPLACE TEMP TABLE _cw_mem_new AS SELECT * FROM network_members WHERE false")
    if member_rows:
        con.register("_cw_mf", _arrow(member_rows, NETWORK_MEMBERS))
        con.execute("INSERT INTO _cw_mem_new SELECT * FROM _cw_mf")
        con.unregister("_cw_mf")
    con.execute("UPDATE networks SET is_current = false WHERE network_id NOT IN (SELECT network_id FROM _cw_net_new)")
    con.execute("DELETE FROM networks WHERE network_id IN (SELECT network_id FROM _cw_net_new)")
    con.execute("INSERT INTO networks SELECT * FROM _cw_net_new")
    con.execute("DELETE FROM network_members WHERE network_id IN (SELECT network_id FROM _cw_net_new)")
    con.execute("INSERT INTO network_members SELECT * FROM _cw_mem_new")
    con.execute("DELETE FROM network_edges WHERE network_id IN (SELECT network_id FROM _cw_net_new)")
    con.execute("""
        INSERT INTO network_edges (network_id, src_type, src_id, dst_type, dst_id, kind, usd, n_txns, first_at, last_at,
                                   evidence)
        SELECT network_id, 'account', from_account_id, 'account', to_account_id, 'flow', round(coalesce(usd, 0), 2),
               n_txns, first_at, last_at, evidence
        FROM _cw_net_flows WHERE network_id IN (SELECT network_id FROM _cw_net_new)""")
    if edge_rows:
        con.register("_cw_ef", _arrow(edge_rows, NETWORK_EDGES))
        con.execute("INSERT INTO network_edges SELECT * FROM _cw_ef")
        con.unregister("_cw_ef")
    counts = dict(_rows(con, "SELECT status, count(*) FROM _cw_net_new GROUP BY 1"))
    out = {"networks": sum(counts.values()), **{f"networks_{k}": v for k, v in counts.items()},
           "network_members": len(member_rows)}
    for t in ("_cw_net_new", "_cw_mem_new", "_cw_members", "_cw_core", "_cw_touch", "_cw_ident", "_cw_net_members", "_cw_joins", "_cw_acct_subject",
              "_cw_member_parties", "_cw_pair_flows", "_cw_net_flows", "_cw_net_changed"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return out


def _arrow(rows: list, table):
    """An Arrow table with `table`'s columns from row tuples, built column by column by pyarrow (polars' and
    pyarrow's row-wise construction is slow on list columns: ~50 us a row)."""
    import pyarrow as pa

    return pa.table({c.name: pa.array([r[i] for r in rows], type=_pa_type(c.type)) for i, c in enumerate(table.columns)})


def _pa_type(sql_type: str):
    import pyarrow as pa

    t = sql_type.upper()
    if t.endswith("[]"):
        return pa.list_(pa.string())
    if t.startswith("DECIMAL") or t == "DOUBLE":
        return pa.float64()
    if t in ("BIGINT", "INTEGER"):
        return pa.int64()
    if t == "BOOLEAN":
        return pa.bool_()
    if t == "TIMESTAMPTZ":
        return pa.timestamp("us", tz="UTC")
    return pa.string()


def _pl_type(sql_type: str):
    t = sql_type.upper()
    if t.endswith("[]"):
        return pl.List(pl.Utf8)
    if t.startswith("DECIMAL") or t == "DOUBLE":
        return pl.Float64
    if t in ("BIGINT", "INTEGER"):
        return pl.Int64
    if t == "BOOLEAN":
        return pl.Boolean
    if t == "TIMESTAMPTZ":
        return pl.Datetime("us", "UTC")
    return pl.Utf8
