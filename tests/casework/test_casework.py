"""Alerts, networks, roles, ranking, compound links and statuses on a hand-made network (see conftest.py)."""

from __future__ import annotations

import json

import pytest

from tests.casework.casebook import OFAC, W_KK, at, raise_alerts
from rules.casework import build
from rules.casework.common import sha16


def _members(case, network_id=None):
    sql = "SELECT member_type, member_id, role, roles, rank, rank_score FROM network_members"
    rows = case.rows(sql + (" WHERE network_id = ?" if network_id else ""), [network_id] if network_id else [])
    return {(r[0], r[1]): {"role": r[2], "roles": r[3], "rank": r[4], "score": r[5]} for r in rows}


def _links(case):
    rows = case.rows("SELECT compound_id, subject_type, subject_id, link_kind, evidence, evidence_text, confidence,"
                     " n_facts FROM compound_links WHERE is_current")
    return {(r[0], r[1], r[2], r[3]): {"evidence": json.loads(r[4]), "text": r[5], "confidence": r[6], "n": r[7]}
            for r in rows}


# --------------------------------------------------------------------------------------------- alerts


def test_alerts_have_stable_ids_amounts_and_rules(shared_world):
    case, w, summary = shared_world
    assert summary["alerts"] == 8 and summary["alerts_new"] == 8
    rows = case.rows("SELECT alert_id, subject_id, typology_id, total_usd, n_transactions, first_activity_at,"
                     " last_activity_at, rule_ids, typologies, status, priority FROM alerts")
    by = {(r[1], r[2]): r for r in rows}
    m1 = by[("M1", "mule_fan_in")]
    assert m1[0] == "AL-" + sha16("account", "M1", "mule_fan_in")  # from subject and typology, not the run
    assert float(m1[3]) == 400 * 6 and m1[4] == 6
    assert m1[5] < m1[6]
    assert m1[7] == ["fan_in_24h"]
    assert m1[8] == ["mule_fan_in", "pass_through"]
    assert {r[9] for r in rows} == {"new"}
    assert {r[10] for r in rows} <= {"high", "medium", "low"}


def test_evidence_roles(shared_world):
    case, w, _ = shared_world
    roles = dict(case.rows(
        "SELECT e.txn_id, e.role FROM alert_evidence e JOIN alerts a USING (alert_id)"
        " WHERE a.subject_id = 'C' AND a.typology_id = 'pass_through'"))
    assert roles[w["out"]["M1"]] == "inbound_to_mule"
    assert roles[w["c_to_otc"]] == "off_ramp_transfer"
    assert roles[w["c_to_l"]] == "outbound_layer"
    m1 = dict(case.rows(
        "SELECT e.txn_id, e.role FROM alert_evidence e JOIN alerts a USING (alert_id)"
        " WHERE a.subject_id = 'M1' AND a.typology_id = 'pass_through'"))
    assert m1[w["in"]["M1"][0]] == "inbound_to_mule" and m1[w["out"]["M1"]] == "outbound_layer"
    cp = case.rows("SELECT counterparty_id, direction, rule_ids FROM alert_evidence WHERE txn_id = ? AND alert_id = ?",
                   [w["c_to_otc"], "AL-" + sha16("account", "C", "off_ramp")])
    assert cp == [("O_BANK", "out", ["off_ramp"])]


def test_cash_deposit_and_listed_roles(case):
    case.party("P", "Cash Mule")
    case.account("A", "P")
    case.con.execute("INSERT INTO listed_addresses VALUES (?, 'ofac_sdn', NULL, 'x', 1.0)", [OFAC])
    t1 = case.txn("cash", "A", 9500, 1, channel="cash_deposit")
    t2 = case.txn("A", OFAC, 9000, 2, rail="crypto")
    t3 = case.txn("A", "cash", 100, 3, channel="cash_withdrawal")
    case.alert("r1", "structuring", "A", [t1, t2, t3], rule="structuring_cash")
    build(case.con, "r1")
    roles = dict(case.rows("SELECT txn_id, role FROM alert_evidence"))
    assert roles == {t1: "cash_deposit", t2: "to_listed_address", t3: "cash_withdrawal"}


def test_status_new_unchanged_updated_across_runs(world):
    case, w, _ = world
    ids1 = {r[0] for r in case.rows("SELECT alert_id FROM alerts")}
    net1 = case.rows("SELECT network_id FROM networks")
    raise_alerts(case, "run-2", w)
    s2 = build(case.con, "run-2")
    assert s2["alerts_unchanged"] == 8 and s2["networks_unchanged"] == 1
    assert {r[0] for r in case.rows("SELECT alert_id FROM alerts")} == ids1
    assert case.rows("SELECT network_id FROM networks") == net1
    raise_alerts(case, "run-3", w, m1_score=0.95)  # M1's fan-in gets stronger
    s3 = build(case.con, "run-3")
    assert s3["alerts_updated"] == 1 and s3["alerts_unchanged"] == 7
    st = dict(case.rows("SELECT subject_id || '/' || typology_id, status FROM alerts"))
    assert st["M1/mule_fan_in"] == "updated" and st["M2/mule_fan_in"] == "unchanged"
    prev = case.rows("SELECT previous_score, score, first_run_id, run_id FROM alerts WHERE subject_id = 'M1'"
                     " AND typology_id = 'mule_fan_in'")
    assert prev == [(0.8, 0.95, "run-1", "run-3")]
    assert case.rows("SELECT network_id, status FROM networks") == [(net1[0][0], "updated")]
    # a fourth run with more evidence for M2 (a new victim payment) updates M2 through its evidence set
    t = case.txn("V07", "M2", 400, 9.5)
    w["in"]["M2"].append(t)
    raise_alerts(case, "run-4", w, m1_score=0.95)
    build(case.con, "run-4")
    st = dict(case.rows("SELECT subject_id || '/' || typology_id, status FROM alerts"))
    assert st["M2/mule_fan_in"] == "updated" and st["M1/mule_fan_in"] == "unchanged"


def test_alert_not_raised_again_is_kept_but_not_current(world):
    case, w, _ = world
    case.alert("run-2", "mule_fan_in", "M1", w["in"]["M1"], rule="fan_in_24h")
    build(case.con, "run-2")
    cur = dict(case.rows("SELECT subject_id || '/' || typology_id, is_current FROM alerts"))
    assert cur["M1/mule_fan_in"] is True and cur["C/off_ramp"] is False
    assert len(cur) == 8


# --------------------------------------------------------------------------------------------- networks


def test_one_network_with_roles(shared_world):
    case, w, summary = shared_world
    assert summary["networks"] == 1
    (nid, n_alerts, link_kinds, juris, vasps, legal, top_type, top_id, comp) = case.rows(
        "SELECT network_id, n_alerts, link_kinds, jurisdictions, vasps, legal_persons, top_member_type, top_member_id,"
        " compound_ids FROM networks")[0]
    assert n_alerts == 8
    assert "flow" in link_kinds and "flow_2hop" in link_kinds  # V06 paid M1 and M2
    assert {"TH", "KH", "SG", "CN", "MM"} <= set(juris)
    assert vasps == ["Phnom Penh Gold OTC"]
    assert legal == ["LP"]
    assert (top_type, top_id) == ("party", "ORG")
    assert "kk_park" in comp
    m = _members(case, nid)
    assert m[("account", "V01")]["role"] == "victim"
    assert m[("account", "M1")]["role"] == "mule" and "compound_linked" in m[("account", "M1")]["roles"]
    assert m[("account", "C")]["role"] == "consolidator"
    assert m[("account", "O_BANK")]["role"] == "off_ramp"
    assert m[("party", "OTC")]["role"] == "off_ramp"
    assert m[("party", "LP")]["role"] == "legal_person"
    assert m[("party", "ORG")]["role"] == "organiser"
    assert "beneficial_owner" in m[("party", "ORG")]["roles"]  # shares the legal person's phone
    assert m[("party", "PM1")]["role"] == "account_holder"
    assert ("party", "PV01") not in m  # victims' holders are not members
    holds = case.rows("SELECT account_ids, n_accounts_held, holder_id FROM network_members WHERE member_id = 'ORG'")[0]
    assert holds[0] == ["C", "L2"] and holds[1] == 2  # L2 from another bank, resolved to the same person by splink
    assert holds[2] == case.rows("SELECT cluster_id FROM party_clusters WHERE party_id = 'ORG_B2'")[0][0]


def test_ranking_puts_the_organiser_above_mules_and_victims(shared_world):
    case, _, _ = shared_world
    m = _members(case)
    org = m[("party", "ORG")]["rank"]
    assert org == 1
    for mule in ("M1", "M2", "M3"):
        assert m[("account", mule)]["rank"] > org
        assert m[("account", mule)]["rank"] > m[("account", "C")]["rank"]
        assert m[("account", mule)]["rank"] < m[("account", "V01")]["rank"]
    assert m[("party", "LP")]["score"] > m[("account", "V01")]["score"]
    ranks = sorted(v["rank"] for v in m.values())
    assert ranks == list(range(1, len(m) + 1))


def test_network_edges_cover_flows_holders_and_identifiers(shared_world):
    case, w, _ = shared_world
    kinds = dict(case.rows("SELECT kind, count(*) FROM network_edges GROUP BY 1"))
    assert kinds["flow"] >= 20 and kinds["holder"] >= 5 and kinds["phone"] == 1
    flow = case.rows("SELECT usd, n_txns, evidence FROM network_edges WHERE src_id = 'C' AND dst_id = 'O_BANK'")
    assert flow == [(5000, 1, w["c_to_otc"])]
    # carrier-grade NAT (100.64.0.0/10) shared by M2 and M3 is not an identifier link
    assert not case.rows("SELECT 1 FROM network_edges WHERE kind = 'ip'")


def test_separate_networks_and_shared_device_joins_them(case):
    for a in ("A", "B", "X"):
        case.party("P" + a, "Person " + a)
        case.account(a, "P" + a)
    ta = case.txn("X", "A", 500, 1)
    tb = case.txn("X", "B", 500, 2)  # X would bridge A and B ...
    for i in range(40):  # ... but X is a busy account (payroll-like), so it does not
        case.party(f"Q{i}", f"Payee {i}")
        case.account(f"Y{i}", f"Q{i}")
        case.txn("X", f"Y{i}", 10, 3 + i)
    case.alert("r1", "mule_fan_in", "A", [ta], rule="fan_in_24h")
    case.alert("r1", "mule_fan_in", "B", [tb], rule="fan_in_24h")
    s1 = build(case.con, "r1")
    assert s1["networks"] == 2
    ids1 = {r[0] for r in case.rows("SELECT network_id FROM networks")}
    case.event("A", 5, device="dev-shared")
    case.event("B", 6, device="dev-shared")
    case.alert("r2", "mule_fan_in", "A", [ta], rule="fan_in_24h")
    case.alert("r2", "mule_fan_in", "B", [tb], rule="fan_in_24h")
    s2 = build(case.con, "r2")
    assert s2["networks"] == 1
    (nid, kinds, status), = case.rows("SELECT network_id, link_kinds, status FROM networks WHERE is_current")
    assert nid in ids1 and kinds == ["device"] and status == "updated"  # keeps one of the old ids
    assert case.rows("SELECT count(*) FROM networks WHERE NOT is_current") == [(1,)]


# --------------------------------------------------------------------------------------------- compound links


def test_link_ip_cidr(shared_world):
    case, _, _ = shared_world
    link = _links(case)[("kk_park", "account", "M1", "ip_cidr")]
    ev = link["evidence"]
    assert ev["ips"] == ["203.0.113.10"] and ev["cidrs"] == ["203.0.113.0/25"]
    assert ev["events"][0]["kind"] == "account_opening" and ev["events"][0]["event_id"].startswith("E")
    assert link["confidence"] == pytest.approx(0.9 * 0.85)
    assert "203.0.113.10" in link["text"]
    assert ("kk_park", "party", "PM1", "ip_cidr") in _links(case)


def test_link_ip_outside_cidr_and_ipv6_do_not_link(case):
    case.compound("c1", "C1", cidrs=["203.0.113.0/25"])
    case.party("P", "P")
    case.account("A", "P")
    case.event("A", 1, ip="203.0.113.128")  # first address after the /25
    case.event("A", 2, ip="2001:db8::1")
    case.event("A", 3, ip="not an ip")
    build(case.con, "r1")
    assert not [k for k in _links(case) if k[3] == "ip_cidr"]


def test_link_geo_radius(shared_world):
    case, _, _ = shared_world
    link = _links(case)[("kk_park", "account", "M2", "geo_radius")]
    d = link["evidence"]["events"][0]["distance_km"]
    assert 0.5 < d < 1.0 and link["evidence"]["radius_km"] == 3.0
    assert link["confidence"] == pytest.approx(0.75 * 0.85 * (1 - 0.5 * d / 3.0), abs=1e-3)


def test_link_phone_prefix(shared_world):
    case, _, _ = shared_world
    link = _links(case)[("kk_park", "account", "M3", "phone_prefix")]
    assert link["evidence"]["phones"] == ["+959771234567"] and link["evidence"]["prefixes"] == ["+9597712"]
    assert link["evidence"]["seen_in"] == ["kyc:PM3"]
    assert link["confidence"] == pytest.approx(0.5 * 0.85)


def test_link_registry_and_wallet_hops_through_an_off_ramp(shared_world):
    case, w, _ = shared_world
    links = _links(case)
    reg = links[("kk_park", "account", W_KK, "registry_account")]
    assert reg["evidence"]["n_txns"] == 1
    direct = links[("kk_park", "account", "O_W", "wallet_hops")]
    assert direct["evidence"]["hops"] == 1 and direct["evidence"]["txn_ids"] == [w["otc_to_kk"]]
    m1 = links[("kk_park", "account", "M1", "wallet_hops")]["evidence"]
    assert m1["hops"] == 3 and m1["via_offramp"] is True
    assert m1["txn_ids"] == [w["out"]["M1"], w["c_to_otc"], w["otc_to_kk"]]
    assert m1["registry_account"] == W_KK
    c = links[("kk_park", "account", "C", "wallet_hops")]
    assert c["confidence"] == pytest.approx(0.9 * 0.85 * 0.7 * 0.5)
    assert ("kk_park", "account", "V01", "wallet_hops") not in links  # beyond max_hops


def test_wallet_hops_respect_time_and_hub_amounts(case):
    case.compound("c1", "C1", wallets=[W_KK])
    case.party("P", "P")
    case.account("LATE", "P")
    case.account("BIG", "P")
    case.party("EX", "Exchange", ptype="legal")
    case.account("HOT", "EX", kind="exchange_hot_wallet", rail="crypto")
    case.txn("HOT", W_KK, 1000, 10, rail="crypto")
    case.txn("LATE", "HOT", 500, 20, rail="crypto")  # after the payment to the compound: cannot have funded it
    case.txn("BIG", "HOT", 50000, 5, rail="crypto")  # does not fit in a 1000 USD withdrawal from a hub
    ok = case.txn("P_OK", "HOT", 900, 8, rail="crypto")
    build(case.con, "r1")
    hops = {k[2]: v for k, v in _links(case).items() if k[3] == "wallet_hops"}
    assert set(hops) == {"HOT", "P_OK"}
    assert hops["P_OK"]["evidence"]["txn_ids"][0] == ok


def test_link_company_name(shared_world):
    case, w, _ = shared_world
    link = _links(case)[("kk_park", "account", "YX", "company_name")]
    assert link["evidence"]["matched"] == ["Yatai International Holding Group"]
    assert link["evidence"]["seen_in"] == ["txn:" + w["l_to_yx"]]
    assert link["confidence"] == pytest.approx(0.6 * 0.85)


def test_link_sanctions_list(shared_world):
    case, w, _ = shared_world
    links = _links(case)
    cp = links[("list:ofac_sdn", "account", "L2", "sanctions_list")]
    assert cp["evidence"] == {"list": "ofac_sdn", "listed_account_id": OFAC, "txn_ids": [w["l2_to_ofac"]]}
    assert cp["confidence"] == pytest.approx(0.95 * 0.8)
    assert links[("list:ofac_sdn", "account", OFAC, "sanctions_list")]["confidence"] == pytest.approx(0.95)


def test_every_link_has_evidence(shared_world):
    case, _, _ = shared_world
    rows = case.rows("SELECT link_kind, evidence, evidence_text, confidence, n_facts FROM compound_links")
    assert {r[0] for r in rows} == {"registry_account", "ip_cidr", "geo_radius", "phone_prefix", "wallet_hops",
                                   "company_name", "sanctions_list"}
    for kind, ev, text, conf, n in rows:
        assert json.loads(ev) and text and 0 < conf <= 1 and n >= 1, kind


def test_link_statuses_across_runs(world):
    case, w, _ = world
    raise_alerts(case, "run-2", w)
    build(case.con, "run-2")
    assert {r[0] for r in case.rows("SELECT status FROM compound_links")} == {"unchanged"}
    case.event("M1", 30, kind="login", ip="203.0.113.11")
    raise_alerts(case, "run-3", w)
    build(case.con, "run-3")
    st = dict(case.rows("SELECT subject_type || ':' || subject_id || ':' || link_kind, status FROM compound_links"))
    assert st["account:M1:ip_cidr"] == "updated" and st["account:M2:geo_radius"] == "unchanged"


# --------------------------------------------------------------------------------------------- parties


def test_party_clusters_resolve_across_banks_and_scripts(case):
    case.party("B1:1", "Somchai Jaidee", id_number="3101", birth="1990-01-01")
    case.party("B2:9", "JAIDEE, Somchai", birth="1990-01-01")
    case.party("B3:7", "สมชาย ใจดี", id_number="3-101", birth="1990-01-01")  # Thai script, same id number
    case.party("B1:2", "Wang Wei", birth="1985-02-02")
    case.party("B2:4", "Wang Wei", birth="1971-07-07")  # same common name, different person
    case.party("B1:5", "Yatai Holding Co., Ltd.", ptype="legal")
    case.party("B2:6", "Yatai Holding Limited", ptype="legal")  # name alone does not merge
    s = build(case.con, "r1")
    assert s["parties"]["merged_clusters"] == 1
    cl = dict(case.rows("SELECT party_id, cluster_id FROM party_clusters"))
    assert cl["B1:1"] == cl["B2:9"] == cl["B3:7"]
    assert len({cl["B1:2"], cl["B2:4"], cl["B1:5"], cl["B2:6"], cl["B1:1"]}) == 5
    p = dict(case.rows("SELECT party_id, match_probability FROM party_clusters"))
    assert p["B3:7"] > 0.9 and p["B1:2"] == 1.0


def test_empty_store_builds_nothing(case):
    s = build(case.con, "r0")
    assert s["alerts"] == 0 and s["networks"] == 0
    assert case.rows("SELECT count(*) FROM networks") == [(0,)]


def test_network_link_not_through_services_or_victims(case):
    """A network is linked to a compound by its operation's members, not by the exchange it cashes out at (which
    also pays the compound's wallet) nor by a victim who lives near the compound; the exchange's own account opened
    from the compound's IP range (the operation's own desk) does link it."""
    case.compound("kk_park", "KK Park", cidrs=["203.0.113.0/25"], lat=16.6152, lon=98.5261, radius=3.0,
                  wallets=[W_KK.split(":", 1)[1]])
    for p in ("PV", "PX1", "PX2"):
        case.party(p, f"Person {p}")
    case.party("PEX", "Quick Swap Exchange Ltd.", ptype="legal")
    case.account("V", "PV")
    case.account("X1", "PX1")
    case.account("X2", "PX2")
    case.account("EX", "PEX", kind="exchange_hot_wallet", rail="crypto", institution="tron", country=None)
    t1 = case.txn("V", "X1", 900, 1)
    t2 = case.txn("X1", "X2", 880, 2)
    t3 = case.txn("X2", "EX", 870, 3)
    case.txn("EX", W_KK, 860, 5, rail="crypto", channel="onchain")  # the exchange also pays the compound
    case.event("V", 0, lat=16.62, lon=98.53)  # the victim logs in near the compound
    case.alert("run-1", "pass_through", "X1", [t1, t2], rule="pass_through")
    case.alert("run-1", "pass_through", "X2", [t2, t3], rule="pass_through")
    case.build("run-1")
    links = {(s, k) for s, k in case.rows("SELECT subject_id, link_kind FROM compound_links WHERE compound_id = 'kk_park'")}
    assert ("EX", "wallet_hops") in links and ("V", "geo_radius") in links  # the member-level facts exist
    (nid, comp), = case.rows("SELECT network_id, compound_ids FROM networks WHERE is_current")
    assert comp == []
    m = _members(case, nid)
    assert m[("account", "EX")]["role"] == "off_ramp" and m[("account", "V")]["role"] == "victim"
    assert case.rows("SELECT compound_ids FROM network_members WHERE member_id = 'EX'") == [(["kk_park"],)]  # shown on it
    case.event("EX", -24, kind="account_opening", ip="203.0.113.20")
    case.alert("run-2", "pass_through", "X1", [t1, t2], rule="pass_through")
    case.alert("run-2", "pass_through", "X2", [t2, t3], rule="pass_through")
    case.build("run-2")
    assert case.rows("SELECT compound_ids FROM networks WHERE is_current") == [(["kk_park"],)]


# --------------------------------------------------------------------------------------------- scale: bounded networks


def test_pagerank_on_edge_arrays_matches_networkx():
    """The ranking's PageRank on edge arrays is networkx's power iteration (weights, dangling nodes, isolated nodes)."""
    import networkx as nx
    import numpy as np

    from rules.casework.networks import pagerank

    edges = [(0, 1, 400.0), (2, 1, 400.0), (1, 3, 750.0), (3, 4, 5000.0), (3, 5, 0.01), (6, 3, 20.0)]  # 7: isolated
    g = nx.DiGraph()
    g.add_nodes_from(range(8))
    g.add_weighted_edges_from(edges, weight="usd")
    want = nx.pagerank(g, weight="usd")
    src, dst, w = (np.array(c) for c in zip(*edges))
    got = pagerank(8, src, dst, w)
    assert got.tolist() == pytest.approx([want[i] for i in range(8)], abs=1e-12)
    assert got[4] == max(got)  # the rank accumulates where the money ends


def test_flows_of_a_member_shared_by_networks_are_counted_once_per_network(case):
    """An off-ramp that two separate networks pay is a member of both; each network's flow edges hold its own
    payments (all payments of its alerted accounts to members, aggregated per pair, txn ids in time order), and
    payments that neither an alert cites nor an alerted account made stay out."""
    for a in ("A", "B", "VA", "VB", "X"):
        case.party("P" + a, "Person " + a)
        case.account(a, "P" + a)
    case.party("PEX", "Quick Swap Exchange Ltd.", ptype="legal")
    case.account("EX", "PEX", kind="exchange_hot_wallet", rail="crypto", institution="tron", country=None)
    ta = case.txn("VA", "A", 500, 1)
    tb = case.txn("VB", "B", 700, 2)
    a1 = case.txn("A", "EX", 300, 5)
    a2 = case.txn("A", "EX", 150, 4)  # earlier: first in the edge's evidence
    b1 = case.txn("B", "EX", 650, 6)
    case.txn("VA", "EX", 99, 7)  # a member's background payment: no alert cites it, VA is not alerted
    case.txn("A", "X", 10, 8)  # X is not a member: no edge
    case.alert("r1", "pass_through", "A", [ta, a1], rule="pass_through")
    case.alert("r1", "pass_through", "B", [tb, b1], rule="pass_through")
    s = build(case.con, "r1")
    assert s["networks"] == 2  # the exchange relays both, it does not join them
    flows = case.rows("""
        SELECT n.alert_ids, e.src_id, e.dst_id, e.usd, e.n_txns, e.evidence FROM network_edges e
        JOIN networks n USING (network_id) WHERE e.kind = 'flow' ORDER BY e.src_id, e.dst_id""")
    al = {r[0]: (r[0], r[1]) for r in case.rows("SELECT alert_id, subject_id FROM alerts")}
    got = sorted((al[ids[0]][1], src, dst, float(usd), n, ev) for ids, src, dst, usd, n, ev in flows)
    assert got == [
        ("A", "A", "EX", 450.0, 2, f"{a2},{a1}"),  # A is alerted: both its payments to the member count
        ("A", "VA", "A", 500.0, 1, ta),
        ("B", "B", "EX", 650.0, 1, b1),
        ("B", "VB", "B", 700.0, 1, tb),
    ]
    m = {(r[0], r[1]): r[2] for r in case.rows(
        "SELECT a.subject_id, m.member_id, m.role FROM network_members m JOIN alerts a USING (network_id)")}
    assert m[("A", "EX")] == "off_ramp" and m[("B", "EX")] == "off_ramp" and m[("A", "VA")] == "victim"


def test_identifier_shared_by_a_crowd_joins_nobody(case):
    """A device or IP shared by more than MAX_SHARERS accounts (a shop's tablet, public Wi-Fi) does not join two
    alerts, while one shared by a few accounts does."""
    from rules.casework.networks import MAX_SHARERS

    for a in ("A", "B", "C", "D"):
        case.party("P" + a, "Person " + a)
        case.account(a, "P" + a)
        case.party("S" + a, "Sender " + a)
        case.account("S" + a, "S" + a)
    t = {a: case.txn("S" + a, a, 500, 1) for a in ("A", "B", "C", "D")}
    for i in range(MAX_SHARERS):  # the crowd: A, B and MAX_SHARERS others on one device
        case.party(f"Q{i}", f"Customer {i}")
        case.account(f"Y{i}", f"Q{i}")
        case.event(f"Y{i}", 1, device="shop-tablet", ip="198.51.100.7")
    for a in ("A", "B"):
        case.event(a, 2, device="shop-tablet", ip="198.51.100.7")
    case.event("C", 2, device="dev-cd")
    case.event("D", 3, device="dev-cd")
    for a in ("A", "B", "C", "D"):
        case.alert("r1", "mule_fan_in", a, [t[a]], rule="fan_in_24h")
    s = build(case.con, "r1")
    nets = sorted(sorted(case.rows(f"SELECT subject_id FROM alerts WHERE network_id = '{nid}'"))
                  for (nid,) in case.rows("SELECT network_id FROM networks"))
    assert s["networks"] == 3
    assert nets == [[("A",)], [("B",)], [("C",), ("D",)]]
    assert case.rows("SELECT DISTINCT kind, evidence FROM network_edges WHERE kind IN ('device', 'ip')") == [
        ("device", "dev-cd")]


def test_incremental_run_ranks_on_its_own_range(case):
    """An incremental detect run (rule_runs.since after the start of the data) builds the flow graph from the
    payments of its range and its alerts' evidence, however old: an alerted account's earlier background payments
    do not make the build read its whole history. A run without a recorded range sees every payment."""
    for a in ("A", "V", "B"):
        case.party("P" + a, "Person " + a)
        case.account(a, "P" + a)
    case.party("PEX", "Quick Swap Exchange Ltd.", ptype="legal")
    case.account("EX", "PEX", kind="exchange_hot_wallet", rail="crypto", institution="tron", country=None)
    old_bg = case.txn("A", "EX", 100, 1)  # background, before the run's range
    old_ev = case.txn("V", "A", 500, 2)  # evidence from the rule's lookback
    new_bg = case.txn("A", "EX", 200, 50)  # background, inside the range
    new_ev = case.txn("A", "B", 450, 51)  # evidence inside the range

    def flows():
        return {(s, d): (float(u), n, ev) for s, d, u, n, ev in case.rows(
            "SELECT src_id, dst_id, usd, n_txns, evidence FROM network_edges WHERE kind = 'flow'")}

    case.alert("r1", "pass_through", "A", [old_ev, new_ev], rule="pass_through")
    build(case.con, "r1")  # no rule_runs row: the whole history
    assert flows()[("A", "EX")] == (300.0, 2, f"{old_bg},{new_bg}")
    case.alert("r2", "pass_through", "A", [old_ev, new_ev], rule="pass_through")
    case.con.execute("INSERT INTO rule_runs (run_id, rule_id, since, until) VALUES ('r2', 'pass_through', ?, ?)",
                     [at(40), at(60)])
    build(case.con, "r2")
    f = flows()
    assert f[("A", "EX")] == (200.0, 1, new_bg)  # the payment before the range is not read
    assert f[("V", "A")] == (500.0, 1, old_ev) and f[("A", "B")] == (450.0, 1, new_ev)  # evidence always is
