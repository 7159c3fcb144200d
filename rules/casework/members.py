"""Members of a network: the roles of its accounts, its parties, and the rows of network_members / network_edges.

networks.py joins alerts into networks and ranks accounts on each network's flow graph; this module turns one
network, its flow figures and the facts about its accounts and holders (a Context, loaded once per build) into
typed rows. Row classes follow rules/alert_tables.py column for column (tests/casework/test_member_rows.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from typing import NamedTuple

import duckdb
import numpy as np

from rules.casework import trafficking
from rules.casework.common import OFFRAMP_KINDS, fetch_rows, sha16
from transforms.store import has_table

ROLE_FACTOR = {"victim": 0.05, "possible_trafficking_victim": 0.05, "off_ramp": 0.3, "counterparty": 0.5}
VICTIM_TYPOLOGIES = {"victim_escalation"}
# typologies whose subject is a trafficked worker's own account, and the one whose members are recruited workers
WORKER_TYPOLOGIES = ("controlled_accounts", "worker_turned_mule")
RECRUITMENT_TYPOLOGY = "recruitment_fees"
TRAFFICKED = trafficking.ROLE
PARTY_EXTRA_ACCOUNT = 0.5
STRONG_LINK = 0.5  # compound link confidence that makes a member 'compound_linked'
ENDPOINT_KINDS = {"registry_account", "sanctions_list"}
SERVICE_IDENTITY_KINDS = {"registry_account", "ip_cidr", "company_name"}  # links an off-ramp member passes to its network
WEAK_KINDS = {"geo_radius", "phone_prefix"}  # alone, they do not make an account compound-linked
NETWORK_LINK = 0.3  # a member's link confidence that links its network to the compound (members' compound_ids too)
# the primary role: the first held. A trafficked worker's account is that before anything its flows make it
ACCOUNT_ROLE_ORDER = ["off_ramp", TRAFFICKED, "consolidator", "mule", "compound_linked", "victim"]
PARTY_ROLE_ORDER = ["organiser", "beneficial_owner", "legal_person", "off_ramp", TRAFFICKED, "account_holder"]


class AccountInfo(NamedTuple):
    """What the store knows of a member account (KYC and its holder)."""

    account_id: str
    kind: str | None
    institution: str | None
    country: str | None
    holder_id: str | None
    cluster: str | None  # the holder's resolved party cluster, or the holder itself
    party_type: str | None
    name: str | None
    label: str | None
    rail: str | None


class PartyInfo(NamedTuple):
    party_id: str
    party_type: str | None
    name: str | None
    country: str | None
    nationality: str | None
    phone: str | None
    email: str | None
    address: str | None
    id_number: str | None

    def contacts(self) -> set[tuple[str, str]]:
        """Phone, e-mail and address, where known: what a beneficial owner shares with a legal person."""
        return {(k, v) for k, v in (("phone", self.phone), ("email", self.email), ("address", self.address))
                if v is not None}


@dataclass
class MemberRow:
    """One row of network_members (rules/alert_tables.py NETWORK_MEMBERS), in its column order."""

    network_id: str
    member_type: str  # account | party
    member_id: str
    name: str | None
    role: str
    roles: list[str]
    rank: int | None
    rank_score: float
    centrality: float
    is_alerted: bool
    alert_ids: list[str]
    in_usd: float
    out_usd: float
    holder_id: str | None
    account_ids: list[str] | None
    n_accounts_held: int | None
    party_type: str | None
    kind: str | None
    institution: str | None
    country: str | None
    compound_ids: list[str]
    watchlist_ids: list[str] = field(default_factory=list)
    trafficking_facts: list[str] = field(default_factory=list)

    def as_row(self) -> tuple:
        # shallow: dataclasses.astuple deep-copies every list, a third of the networks' write at 10M
        return tuple(getattr(self, name) for name in _MEMBER_FIELDS)


_MEMBER_FIELDS = [f.name for f in fields(MemberRow)]


class EdgeRow(NamedTuple):
    """One row of network_edges (rules/alert_tables.py NETWORK_EDGES) that is not a money flow."""

    network_id: str
    src_type: str
    src_id: str
    dst_type: str
    dst_id: str
    kind: str
    usd: float | None
    n_txns: int | None
    first_at: object
    last_at: object
    evidence: str | None


@dataclass
class Flow:
    """A network's flow graph: accounts in node order, payer -> payee edges with USD, and what PageRank gave."""

    order: list[str]
    src: np.ndarray
    dst: np.ndarray
    usd: np.ndarray
    centrality: dict[str, float]
    in_usd: dict[str, float]
    out_usd: dict[str, float]
    countries: set[str]
    institutions: set[str]


@dataclass
class Context:
    """Facts about every member of this build's networks, read once."""

    accounts: dict[str, AccountInfo]
    parties: dict[str, PartyInfo]
    cluster_rep: dict[str, str]  # resolved cluster -> its representative party (smallest party_id)
    links: dict[tuple[str, str], list[tuple[str, str, float]]]  # (subject type, id) -> (compound, kind, confidence)
    alerts_of: dict[str, set[str]]  # account -> alert ids it is a subject of
    alert_rows: dict[str, tuple]  # alert id -> (alert_id, subject_type, subject_id, typology, priority_score, ...)
    alert_typ: dict[str, str]  # alert id -> typology
    evidence_usd: dict[str, tuple]  # network id -> (USD of its evidence, first, last)
    ident: list[tuple]  # shared identifiers: (kind, value, accounts, first_at, last_at)
    ident_of: dict[str, list[int]] = field(default_factory=dict)  # account -> indexes into ident
    listed: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (subject type, id) -> watch-list entities
    trafficked: dict[str, list[str]] = field(default_factory=dict)  # account -> facts of a trafficked worker


def load_context(con: duckdb.DuckDBPyConnection, ident: list[tuple]) -> Context:
    """Read the facts of the member accounts (_cw_members) and their holders (into _cw_member_parties)."""
    accounts = {r[0]: AccountInfo(*r) for r in fetch_rows(con, """
        SELECT m.account_id, a.kind, a.institution, coalesce(a.country, p.country), a.holder_id,
               coalesce(pc.cluster_id, a.holder_id), p.party_type, coalesce(p.name, a.label), a.label, a.rail
        FROM _cw_members m LEFT JOIN accounts a ON a.account_id = m.account_id
        LEFT JOIN parties p ON p.party_id = a.holder_id
        LEFT JOIN party_clusters pc ON pc.party_id = a.holder_id""")}
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
    links: dict[tuple[str, str], list] = defaultdict(list)
    for st, sid, cid, kind, conf in fetch_rows(con, """
            SELECT subject_type, subject_id, compound_id, link_kind, confidence FROM compound_links
            WHERE is_current AND ((subject_type = 'account' AND subject_id IN (SELECT account_id FROM _cw_members))
                                  OR (subject_type = 'party' AND subject_id IN (SELECT party_id FROM _cw_member_parties)))"""):
        links[(st, sid)].append((cid, kind, conf))
    cluster_rep = {c: p for p, c in fetch_rows(con, "SELECT party_id, cluster_id FROM _cw_member_parties WHERE cluster_id IS NOT NULL")}
    parties = {r[0]: PartyInfo(*r) for r in fetch_rows(con, "SELECT party_id, party_type, name, country, nationality, phone, email,"
                                                      " address, id_number FROM parties"
                                                      " WHERE party_id IN (SELECT party_id FROM _cw_member_parties)")}
    alerts_of: dict[str, set[str]] = defaultdict(set)
    for alert_id, acct in fetch_rows(con, "SELECT alert_id, account_id FROM _cw_subject_accounts"):
        alerts_of[acct].add(alert_id)
    alert_rows = {a[0]: a for a in fetch_rows(con, """
        SELECT alert_id, subject_type, subject_id, typology_id, priority_score, priority, total_usd,
               first_activity_at, last_activity_at FROM alerts WHERE alert_id IN (SELECT alert_id FROM _cw_alerts)""")}
    evidence_usd = {nid: (usd or 0.0, fa, la) for nid, usd, fa, la in fetch_rows(con, """
        SELECT n.network_id, sum(usd), min(first_at), max(last_at) FROM (
            SELECT an.network_id, e.txn_id, any_value(CAST(e.amount_usd AS DOUBLE)) AS usd,
                   min(e.booked_at) AS first_at, max(e.booked_at) AS last_at
            FROM _cw_evidence e JOIN _cw_alert_network an USING (alert_id) GROUP BY an.network_id, e.txn_id
        ) n GROUP BY n.network_id""")}
    ident_of: dict[str, list[int]] = defaultdict(list)
    for j, (_kind, _value, shared, _f, _l) in enumerate(ident):
        for a in shared:
            ident_of[a].append(j)
    alert_typ = {a: r[3] for a, r in alert_rows.items()}
    return Context(accounts, parties, cluster_rep, links, alerts_of, alert_rows, alert_typ, evidence_usd, ident, ident_of,
                   _listed(con), _trafficked(con))


def _listed(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[str]]:
    """Members that the latest screening matched to a watch-list entity (rules/screening)."""
    if not has_table(con, "watchlist_matches"):
        return {}
    listed: dict[tuple[str, str], list[str]] = defaultdict(list)
    for st, sid, eid in fetch_rows(con, """
            SELECT subject_type, subject_id, entity_id FROM watchlist_matches w
            WHERE is_current AND ((subject_type = 'account' AND subject_id IN (SELECT account_id FROM _cw_members))
                                  OR (subject_type = 'party' AND subject_id IN (SELECT party_id FROM _cw_member_parties)))
            ORDER BY 1, 2, 3"""):
        listed[(st, sid)].append(eid)
    return dict(listed)


def _trafficked(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Member accounts whose evidence fits a trafficked worker rather than a paid mule, with the facts: the subject of
    a controlled_accounts or worker_turned_mule alert, or a payer that a recruitment_fees alert names (paid the
    recruiter, then moved into the compound); and the move itself (rules/presence.py relocations)."""
    facts: dict[str, list[str]] = defaultdict(list)
    rows = fetch_rows(con, f"""
        SELECT subject_id, typology_id, member_ids, reasons FROM _cw_alerts
        WHERE subject_type = 'account' AND typology_id IN {(*WORKER_TYPOLOGIES, RECRUITMENT_TYPOLOGY)}
        ORDER BY typology_id, subject_id""")
    for subject, typ, members, reasons in rows:
        reason = "; ".join(reasons or [])
        if typ == RECRUITMENT_TYPOLOGY:
            for m in members or []:
                facts[m].append(f"paid the recruiter {subject}, whose payers then moved into a compound ({reason})")
        else:
            facts[subject].append(reason)
    if not facts or not has_table(con, "relocations"):
        return dict(facts)
    moved = fetch_rows(con, """
        SELECT account_id, compound_id, last_outside_at, arrived_at FROM relocations
        WHERE account_id IN (SELECT account_id FROM _cw_members) ORDER BY account_id, arrived_at""")
    for acct, compound, last_out, arrived in moved:
        if acct in facts:
            facts[acct].insert(0, f"used from outside the compound until {last_out:%Y-%m-%d}, then from inside "
                                  f"{compound} from {arrived:%Y-%m-%d}")
    return dict(facts)


def listed_entities(ctx: Context, parties: list[str], accounts: list[str]) -> list[str]:
    """Watch-list entities matched by these parties or accounts (a designated holder lists its accounts too)."""
    found = {e for p in parties for e in ctx.listed.get(("party", p), ())}
    found |= {e for a in accounts for e in ctx.listed.get(("account", a), ())}
    return sorted(found)


def strongly_linked(account_links) -> bool:
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


def account_roles(accounts: set[str], net_alerts: set[str], ctx: Context, flow: Flow
                  ) -> tuple[dict[str, set[str]], dict[str, str], set[str]]:
    """Roles of each member account, its primary role, and the accounts alerted in this network."""
    roles: dict[str, set[str]] = {a: set() for a in accounts}
    alerted = {a for a in accounts if ctx.alerts_of.get(a, set()) & net_alerts}
    for a in accounts:
        info = ctx.accounts.get(a)
        kind = info.kind if info else None
        my_typ = {ctx.alert_typ.get(x) for x in ctx.alerts_of.get(a, set()) & net_alerts}
        if kind in OFFRAMP_KINDS:
            roles[a].add("off_ramp")
        if my_typ and my_typ <= VICTIM_TYPOLOGIES:
            roles[a].add("victim")
        elif a not in alerted and flow.out_usd[a] > 0 and flow.in_usd[a] == 0 and kind not in OFFRAMP_KINDS:
            roles[a].add("victim")
        if strongly_linked(ctx.links.get(("account", a), ())):
            roles[a].add("compound_linked")
        if a in ctx.trafficked and kind not in OFFRAMP_KINDS:
            roles[a].add(TRAFFICKED)
    _flow_roles(roles, alerted, flow)
    primary = {}
    for a in accounts:
        endpoint = any(lk in ENDPOINT_KINDS for _c, lk, _x in ctx.links.get(("account", a), ()))
        order = (["compound_linked"] if endpoint else []) + ACCOUNT_ROLE_ORDER
        primary[a] = next((x for x in order if x in roles[a]), "counterparty")
        if not roles[a]:
            roles[a].add("counterparty")
    return roles, primary, alerted


def _flow_roles(roles: dict[str, set[str]], alerted: set[str], flow: Flow) -> None:
    """Mules and consolidators from the flow graph: per payee, its payers that are not victims (edges are distinct
    payer -> payee pairs), how many of them are alerted, and whether a victim pays it; per payer, whether it pays."""
    order, src, dst, num = flow.order, flow.src, flow.dst, len(flow.order)
    is_victim = np.array(["victim" in roles[a] for a in order], dtype=bool)
    is_alerted = np.array([a in alerted for a in order], dtype=bool)
    payers_n = np.bincount(dst, weights=~is_victim[src], minlength=num)
    payers_alerted = np.bincount(dst, weights=~is_victim[src] & is_alerted[src], minlength=num)
    victim_payers = np.bincount(dst, weights=is_victim[src], minlength=num)
    pays = np.bincount(src, minlength=num)
    for k, a in enumerate(order):
        if roles[a] & {"victim", "off_ramp", TRAFFICKED}:  # a trafficked worker's account is not called a mule
            continue
        if a in alerted:
            roles[a].add("mule")
        if payers_n[k] >= 2 and (payers_alerted[k] > 0 or payers_n[k] >= 3):
            roles[a].add("consolidator")
        elif a not in alerted and victim_payers[k] > 0 and pays[k]:
            roles[a].add("mule")


def _holder_party(acs: list[str], cluster: str, ctx: Context) -> tuple[str, PartyInfo | None, str]:
    """The party standing for a holder cluster: its representative, what is known of it, and its type."""
    rep = ctx.cluster_rep.get(cluster, cluster)
    first = ctx.accounts[acs[0]]
    p = ctx.parties.get(rep) or (ctx.parties.get(first.holder_id) if first.holder_id else None)
    ptype = (p.party_type if p else None) or first.party_type or "person"
    return rep, p, ptype


def party_members(network_id: str, accounts: set[str], net_alerts: set[str], primary: dict[str, str],
                  score: dict[str, float], ctx: Context, flow: Flow) -> tuple[list[MemberRow], list[EdgeRow]]:
    """One party per resolved holder cluster of the accounts that are not victims, with its roles and rank score,
    and the holder edges to its accounts. Adds the parties' countries to flow.countries."""
    held: dict[str, list[str]] = defaultdict(list)
    for a in accounts:
        info = ctx.accounts.get(a)
        if info and info.cluster and primary[a] != "victim":
            held[info.cluster].append(a)
    legal_contacts: set[tuple[str, str]] = set()
    for cluster, acs in held.items():
        _rep, p, ptype = _holder_party(acs, cluster, ctx)
        if ptype == "legal" and any(primary[a] != "off_ramp" for a in acs) and p:
            legal_contacts |= p.contacts()
    rows: list[MemberRow] = []
    edges: list[EdgeRow] = []
    owners: list[tuple[MemberRow, set]] = []  # beneficial owners and their contacts
    legal: list[tuple[MemberRow, set]] = []
    for cluster, acs in held.items():
        rep, p, ptype = _holder_party(acs, cluster, ctx)
        prole = _party_roles(acs, p, ptype, primary, legal_contacts)
        holders = sorted({h for a in acs if (h := ctx.accounts[a].holder_id)})
        listed = listed_entities(ctx, [rep, *holders], acs)
        if listed:
            prole.add("designated")
        comp = sorted({c for st_id in [("party", rep)] + [("account", a) for a in acs]
                       for c, _k, conf in ctx.links.get(st_id, ()) if conf >= NETWORK_LINK})
        alerts = sorted({x for a in acs for x in ctx.alerts_of.get(a, set()) & net_alerts})
        row = MemberRow(
            network_id, "party", rep, p.name if p else None, next(x for x in PARTY_ROLE_ORDER if x in prole),
            sorted(prole), None, sum(score[a] for a in acs) * (1 + PARTY_EXTRA_ACCOUNT * (len(acs) - 1)),
            sum(flow.centrality.get(a, 0.0) for a in acs), bool(alerts), alerts,
            round(sum(flow.in_usd[a] for a in acs), 2), round(sum(flow.out_usd[a] for a in acs), 2), cluster,
            sorted(acs), len(acs), ptype, None, None, (p.country or p.nationality) if p else None, comp, listed,
            [f for a in sorted(acs) if primary[a] == TRAFFICKED for f in ctx.trafficked.get(a, ())] if TRAFFICKED in prole
            else [])
        contacts = p.contacts() if p else set()
        if ptype == "legal":
            legal.append((row, contacts))
        elif "beneficial_owner" in prole:
            owners.append((row, contacts))
        rows.append(row)
        edges += [EdgeRow(network_id, "party", rep, "account", a, "holder", None, None, None, None, cluster) for a in acs]
        if p:
            flow.countries |= {c for c in (p.country, p.nationality) if c}
    # a beneficial owner (shares the phone / e-mail / address of legal persons in the network) carries their weight
    weights = [(row.rank_score, contacts) for row, contacts in legal]
    for row, contacts in owners:
        row.rank_score += sum(w for w, lc in weights if lc & contacts)
    return rows, edges


def _party_roles(acs: list[str], p: PartyInfo | None, ptype: str, primary: dict[str, str],
                 legal_contacts: set[tuple[str, str]]) -> set[str]:
    if ptype == "legal":
        return {"off_ramp" if all(primary[a] == "off_ramp" for a in acs) else "legal_person"}
    if any(primary[a] == TRAFFICKED for a in acs):  # the person is the trafficked worker: never an organiser
        return {TRAFFICKED}
    roles = set()
    functional = [a for a in acs if primary[a] in ("consolidator", "compound_linked", "mule")]
    if len(functional) >= 2 or any(primary[a] in ("consolidator", "compound_linked") for a in acs):
        roles.add("organiser")
    if p and p.contacts() & legal_contacts:
        roles.add("beneficial_owner")
    return roles or {"account_holder"}


def account_members(network_id: str, accounts: set[str], net_alerts: set[str], roles: dict[str, set[str]],
                    primary: dict[str, str], score: dict[str, float], alerted: set[str], ctx: Context,
                    flow: Flow) -> list[MemberRow]:
    """One row per member account. Adds their countries and institutions to the flow's."""
    rows = []
    for a in accounts:
        info = ctx.accounts.get(a) or AccountInfo(a, None, None, None, None, None, None, None, None, None)
        comp = sorted({c for c, _k, conf in ctx.links.get(("account", a), ()) if conf >= NETWORK_LINK})
        listed = listed_entities(ctx, [info.holder_id] if info.holder_id else [], [a])
        rows.append(MemberRow(
            network_id, "account", a, info.name, primary[a], sorted(roles[a] | ({"designated"} if listed else set())),
            None, score[a],
            flow.centrality.get(a, 0.0), a in alerted, sorted(ctx.alerts_of.get(a, set()) & net_alerts),
            round(flow.in_usd[a], 2), round(flow.out_usd[a], 2), info.holder_id, None, None, info.party_type,
            info.kind, info.institution, info.country, comp, listed,
            list(ctx.trafficked.get(a, ())) if TRAFFICKED in roles[a] else []))
        if info.country:
            flow.countries.add(info.country)
        if info.institution:
            flow.institutions.add(info.institution)
    return rows


def ranked(members: list[MemberRow]) -> list[MemberRow]:
    """Members by rank score (then type and id), numbered from 1; scores rounded for stable output. A member that a
    government has designated (a watch-list match) ranks above the rest: it is the strongest single fact about it.
    A possible victim is never lifted: victims are not the target. A possible trafficking victim ranks below every
    other member: whatever its flows, it is kept apart from the suspects."""
    members.sort(key=lambda m: (m.role == TRAFFICKED, not (m.watchlist_ids and m.role not in ("victim", TRAFFICKED)),
                                -m.rank_score, m.member_type, m.member_id))
    for rank, m in enumerate(members, 1):
        m.rank = rank
        m.rank_score = round(m.rank_score, 8)
        m.centrality = round(m.centrality, 8)
    return members


def identifier_edges(network_id: str, accounts: set[str], ctx: Context) -> list[EdgeRow]:
    """Shared identifiers among the member accounts: a star from the first account that holds each."""
    edges = []
    for j in sorted({j for a in accounts for j in ctx.ident_of.get(a, ())}):
        kind, value, shared, f_at, l_at = ctx.ident[j]
        inside = [a for a in shared if a in accounts]
        edges += [EdgeRow(network_id, "account", inside[0], "account", inside[k], kind, None, None, f_at, l_at, value)
                  for k in range(1, len(inside))]
    return edges


def network_compounds(members: list[MemberRow], links: dict) -> list[str]:
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
        outsider = m.role in ("off_ramp", "victim")
        for cid, kind, conf in links.get((m.member_type, m.member_id), ()):
            if cid.startswith("list:"):  # sanctions-list exposure, not a compound: any member reports it
                if conf >= NETWORK_LINK:
                    out.add(cid)
            elif kind == "registry_account" or (conf >= NETWORK_LINK and (not outsider or (
                    m.role == "off_ramp" and kind in SERVICE_IDENTITY_KINDS))):
                out.add(cid)
    return sorted(out)


def network_row(n, members: list[MemberRow], n_accounts: int, parties: list[MemberRow], ctx: Context,
                flow: Flow) -> dict:
    """The networks row of one network (its member rows ranked already)."""
    top = members[0] if members else None
    n_alerts = [ctx.alert_rows[a] for a in n.alert_ids if a in ctx.alert_rows]
    vasps = sorted({(ctx.accounts[a].label or ctx.accounts[a].institution or a) for a in n.accounts
                    if ctx.accounts.get(a) and ctx.accounts[a].kind in OFFRAMP_KINDS})
    usd, fa, la = ctx.evidence_usd.get(n.network_id, (0.0, None, None))
    best = max(n_alerts, key=lambda r: r[4] or 0) if n_alerts else None
    return {
        "network_id": n.network_id, "core_hash": sha16(*(f"{t}:{s}" for t, s in n.subjects)),
        "alert_ids": n.alert_ids, "n_alerts": len(n.alert_ids), "n_accounts": n_accounts,
        "n_parties": len(parties), "score": best[4] if best else None, "priority": best[5] if best else None,
        "total_usd": round(usd, 2), "first_activity_at": fa, "last_activity_at": la,
        "top_member_type": top.member_type if top else None, "top_member_id": top.member_id if top else None,
        "typologies": sorted({r[3] for r in n_alerts}), "link_kinds": sorted(n.link_kinds),
        "jurisdictions": sorted(c for c in flow.countries if c), "institutions": sorted(flow.institutions),
        "vasps": vasps, "compound_ids": network_compounds(members, ctx.links),
        "legal_persons": sorted(m.member_id for m in parties if "legal_person" in m.roles),
    }
