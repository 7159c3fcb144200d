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

from rules.casework import members as M
from rules.casework.network_store import store_networks
from rules.casework.common import (
    fetch_rows,
    NOT_ACCOUNTS_SQL,
    insert_frame,
    offramp_list_sql,
    sha16,
)

MAX_SHARERS = 25  # an identifier shared by more accounts than this links nobody (public Wi-Fi, a shop's device)
HUB_COUNTERPARTIES = 30  # a counterparty with more distinct counterparties than this does not join two alerts
CONTEXT_ONLY = {"address"}  # identifiers that describe members but never join two alerts (strangers share addresses)


@dataclass
class Net:
    subjects: list[tuple[str, str]]
    alert_ids: list[str]
    core: set[str]
    accounts: set[str] = field(default_factory=set)
    link_kinds: set[str] = field(default_factory=set)
    network_id: str = ""


@dataclass
class NetworkState:
    """What compute() hands to write(): the networks, and the shared identifiers of their accounts
    (kind, value, accounts, first_at, last_at)."""

    nets: list[Net]
    ident: list[tuple]


def compute(con: duckdb.DuckDBPyConnection, run_id: str) -> NetworkState:
    """Build networks from the staged alerts (_cw_alerts, _cw_subject_accounts, _cw_evidence).

    Leaves _cw_alert_network (alert_id, network_id) for alerts.write and the NetworkState for write()."""
    alert_subject, acct_subjects = _subjects(con)
    core_accounts = set(acct_subjects)
    con.execute("CREATE OR REPLACE TEMP TABLE _cw_core (account_id VARCHAR)")
    if core_accounts:
        insert_frame(con, "_cw_core", pl.DataFrame({"account_id": sorted(core_accounts)}))
    # alert subjects are numbered; the joins below are collected as account pairs (_cw_joins), turned into subject
    # pairs in SQL and put into connected components by scipy (no Python loop per pair)
    subjects_all = sorted(set(alert_subject.values()))
    sid_of = {sj: i for i, sj in enumerate(subjects_all)}
    _stage_subject_numbers(con, acct_subjects, sid_of)
    star: dict[str, list] = {"kind": [], "a": [], "b": []}
    _flow_joins(con)
    bridge_of = _bridge_joins(con)
    for cores in bridge_of.values():
        _join_all(star, cores, "flow_2hop")
    ident = _shared_identifiers(con)
    for kind, _value, accts, _, _ in ident:
        if kind not in CONTEXT_ONLY:
            _join_all(star, [a for a in accts if a in core_accounts], kind)
    if star["kind"]:
        insert_frame(con, "_cw_joins", pl.DataFrame(star, schema={"kind": pl.Utf8, "a": pl.Utf8, "b": pl.Utf8}))
    nets = _networks_of_joins(con, alert_subject, acct_subjects, subjects_all, sid_of)
    _members(con, nets, bridge_of, ident, core_accounts)
    _assign_ids(con, nets)
    con.execute("CREATE OR REPLACE TEMP TABLE _cw_alert_network (alert_id VARCHAR, network_id VARCHAR)")
    pairs = [(a, n.network_id) for n in nets for a in n.alert_ids]
    if pairs:
        insert_frame(con, "_cw_alert_network",
                     pl.DataFrame(pairs, schema={"alert_id": pl.Utf8, "network_id": pl.Utf8}, orient="row"))
    return NetworkState(nets, ident)


def _subjects(con) -> tuple[dict[str, tuple[str, str]], dict[str, set[tuple[str, str]]]]:
    """Each alert's subject (type, id), and each alerted account's subjects."""
    alert_subject: dict[str, tuple[str, str]] = {}
    acct_subjects: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for alert_id, st, sid, acct in fetch_rows(con, "SELECT s.alert_id, a.subject_type, a.subject_id, s.account_id"
                                              " FROM _cw_subject_accounts s JOIN _cw_alerts a USING (alert_id)"):
        alert_subject[alert_id] = (st, sid)
        acct_subjects[acct].add((st, sid))
    for alert_id, st, sid in fetch_rows(con, "SELECT alert_id, subject_type, subject_id FROM _cw_alerts"):
        alert_subject[alert_id] = (st, sid)
    return alert_subject, acct_subjects


def _stage_subject_numbers(con, acct_subjects: dict[str, set[tuple[str, str]]], sid_of: dict) -> None:
    """_cw_acct_subject (account, subject number) and an empty _cw_joins (kind, account a, account b)."""
    acct_sid: dict[str, list] = {"account_id": [], "sid": []}
    for acct, ss in acct_subjects.items():
        for sj in ss:
            acct_sid["account_id"].append(acct)
            acct_sid["sid"].append(sid_of[sj])
    con.execute("CREATE OR REPLACE TEMP TABLE _cw_acct_subject (account_id VARCHAR, sid BIGINT)")
    con.execute("CREATE OR REPLACE TEMP TABLE _cw_joins (kind VARCHAR, a VARCHAR, b VARCHAR)")
    if acct_sid["sid"]:
        insert_frame(con, "_cw_acct_subject", pl.DataFrame(acct_sid, schema={"account_id": pl.Utf8, "sid": pl.Int64}))


def _join_all(star: dict[str, list], accounts: list[str], kind: str) -> None:
    """Join the subjects of these accounts (a star from the first: the same components as all pairs)."""
    for i in range(1, len(accounts)):
        star["kind"].append(kind)
        star["a"].append(accounts[0])
        star["b"].append(accounts[i])


def _flow_joins(con) -> None:
    """Flows between alerted accounts that are part of an alert's evidence (background payments between two
    flagged accounts do not join them)."""
    con.execute("""
        INSERT INTO _cw_joins
        SELECT DISTINCT 'flow', s.account_id, e.counterparty_id FROM _cw_evidence e
        JOIN _cw_subject_accounts s ON s.alert_id = e.alert_id
        WHERE e.direction IN ('in', 'out') AND e.counterparty_id IN (SELECT account_id FROM _cw_core)
          AND e.counterparty_id <> s.account_id""")


def _bridge_joins(con) -> dict[str, list[str]]:
    """Two alerted accounts and one small, non-service counterparty in both their evidence: the counterparty
    (a victim paying two mules, an unflagged consolidator collecting from two mules) -> the alerted accounts."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _cw_touch AS
        SELECT DISTINCT s.account_id AS core_id, e.counterparty_id AS other_id
        FROM _cw_evidence e JOIN _cw_subject_accounts s ON s.alert_id = e.alert_id
        WHERE e.direction IN ('in', 'out') AND e.counterparty_id NOT IN (SELECT account_id FROM _cw_core)
    """)
    bridges = fetch_rows(con, f"""
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
    return {other: cores for other, cores in bridges}


def _shared_identifiers(con) -> list[tuple]:
    """Identifiers (holder cluster, device, IP, phone, e-mail, address) that an alerted account shares with other
    accounts, at most MAX_SHARERS of them: (kind, value, accounts, first_at, last_at), also left in _cw_ident."""
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
    return fetch_rows(con, "SELECT kind, value, list(account_id ORDER BY account_id), min(first_at), max(last_at)"
                      " FROM _cw_ident GROUP BY 1, 2")


def _networks_of_joins(con, alert_subject: dict, acct_subjects: dict, subjects_all: list, sid_of: dict) -> list[Net]:
    """Connected components of the joined subjects: one Net per component, with its alerts, core accounts and
    the kinds of joins inside it."""
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
    return nets


def _components(n: int, u, v) -> tuple[int, np.ndarray]:
    """Connected components of nodes 0..n-1 joined by the undirected edges u - v: (count, label per node)."""
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    graph = coo_array((np.ones(len(u), dtype=np.int32), (u, v)), shape=(n, n)).tocsr()
    return connected_components(graph, directed=False)


def _members(con, nets: list[Net], bridge_of: dict, ident: list, core_accounts: set[str]) -> None:
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
        found = fetch_rows(con, f"""
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


def _assign_ids(con, nets: list[Net]) -> None:
    """Keep the id of the stored network with the largest alert overlap (each stored id used once)."""
    stored = fetch_rows(con, "SELECT network_id, alert_ids FROM networks")
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


def write(con: duckdb.DuckDBPyConnection, run_id: str, state: NetworkState) -> dict:
    """Members, roles, ranks and edges of each network from compute()'s state, stored with the networks."""
    nets = state.nets
    nodes, node_start = _stage_members(con, nets)
    ctx = M.load_context(con, state.ident)
    since = con.execute("SELECT min(since) FROM rule_runs WHERE run_id = ?", [run_id]).fetchall()[0][0]
    edges, flow_places = _member_flows(con, since)
    member_rows: list[tuple] = []
    edge_rows: list[M.EdgeRow] = []
    net_rows: list[dict] = []
    for i, n in enumerate(nets):
        flow = _network_flow(n, nodes[i], node_start[i], edges, flow_places[n.network_id])
        net_alerts = set(n.alert_ids)
        roles, primary, alerted = M.account_roles(n.accounts, net_alerts, ctx, flow)
        score = {a: flow.centrality.get(a, 0.0) * M.ROLE_FACTOR.get(primary[a], 1.0) for a in n.accounts}
        parties, holder_edges = M.party_members(n.network_id, n.accounts, net_alerts, primary, score, ctx, flow)
        accounts = M.account_members(n.network_id, n.accounts, net_alerts, roles, primary, score, alerted, ctx, flow)
        members = M.ranked(accounts + parties)
        member_rows += [m.as_row() for m in members]
        edge_rows += holder_edges + M.identifier_edges(n.network_id, n.accounts, ctx)
        net_rows.append(M.network_row(n, members, len(accounts), parties, ctx, flow))
    out = store_networks(con, run_id, net_rows, member_rows, edge_rows)
    for table in ("_cw_members", "_cw_core", "_cw_touch", "_cw_ident", "_cw_net_members", "_cw_joins",
                  "_cw_acct_subject", "_cw_member_parties", "_cw_pair_flows", "_cw_net_flows"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return out


def _stage_members(con: duckdb.DuckDBPyConnection, nets: list[Net]) -> tuple[list[list[str]], list[int]]:
    """_cw_members (every member account) and _cw_net_members (each network's members as numbered nodes).

    Each (network, member account) is a node numbered contiguously per network: node_start[i] + position in
    nodes[i]; the flow edges come back from DuckDB as node numbers."""
    all_accounts = sorted({a for n in nets for a in n.accounts})
    con.execute("CREATE OR REPLACE TEMP TABLE _cw_members (account_id VARCHAR)")
    if all_accounts:
        insert_frame(con, "_cw_members", pl.DataFrame({"account_id": all_accounts}))
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
        insert_frame(con, "_cw_net_members", pl.DataFrame(nm, schema={"network_id": pl.Utf8, "account_id": pl.Utf8,
                                                                     "is_core": pl.Boolean, "node": pl.Int64}),
                     select="*, network_id || '|' || account_id")
    return nodes, node_start


def _network_flow(n: Net, order: list[str], start: int, edges, places: tuple[list, list]) -> M.Flow:
    """One network's slice of the flow graph (its alerts' evidence and its alerted accounts' payments to members:
    background payments between members that no alert cites do not shape the ranking), ranked by PageRank."""
    e_src, e_dst, e_usd = edges
    num = len(order)
    lo, hi = np.searchsorted(e_src, [start, start + num])
    src, dst, w = e_src[lo:hi] - start, e_dst[lo:hi] - start, e_usd[lo:hi]
    centrality = (dict(zip(order, pagerank(num, src, dst, w).tolist())) if len(src)
                  else {a: 1.0 / max(num, 1) for a in n.accounts})
    return M.Flow(order, src, dst, w, centrality,
                  dict(zip(order, np.bincount(dst, weights=w, minlength=num).tolist())),
                  dict(zip(order, np.bincount(src, weights=w, minlength=num).tolist())),
                  set(places[0]), set(places[1]))


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
    for nid, countries, institutions in fetch_rows(con, """
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
