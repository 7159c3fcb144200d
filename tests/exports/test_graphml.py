"""GraphML: parses with networkx, keeps roles, ranks, amounts and dates; GraphML-safe attribute types."""

from __future__ import annotations

import csv

import networkx as nx
from lxml import etree

from .conftest import W_KH, W_OTC


def test_network_graphml_parses_and_keeps_roles_and_amounts(exported):
    out, _ = exported
    g = nx.read_graphml(out / "network.graphml", force_multigraph=True)
    assert isinstance(g, nx.MultiDiGraph)
    nodes = dict(g.nodes(data=True))
    assert nodes["account:KASITHBK:333"]["role"] == "mule" and nodes["account:KASITHBK:333"]["type"] == "account"
    assert nodes["party:P-BOSS"]["role"] == "organiser" and nodes["party:P-BOSS"]["rank"] == 1
    assert nodes[f"account:{W_KH}"]["type"] == "wallet" and nodes[f"account:{W_OTC}"]["role"] == "off_ramp"
    assert nodes["compound:KKPARK"]["type"] == "compound" and nodes["compound:KKPARK"]["label"] == "KK Park"
    assert nodes["party:P-LEGAL"]["label"].startswith("=HYPERLINK")  # data kept as text in GraphML
    flows = [(u, v, d) for u, v, d in g.edges(data=True) if d["kind"] == "flow"]
    assert len(flows) == 5
    f = next(d for u, v, d in flows if u == f"account:{W_KH}" and v == f"account:{W_OTC}")
    assert abs(f["usd"] - 2140.12) < 1e-9 and f["n_txns"] == 1 and f["first_at"] == "2024-03-03T10:00:00Z"
    link = [d for u, v, d in g.edges(data=True) if d["kind"] == "compound_link"]
    assert link and link[0]["link_kind"] == "ip_cidr" and abs(link[0]["confidence"] - 0.72) < 1e-9
    holder = [(u, v) for u, v, d in g.edges(data=True) if d["kind"] == "holder"]
    assert ("party:P-MULE", "account:KASITHBK:333") in holder


def test_graphml_declares_typed_keys_and_no_null_values(exported):
    out, _ = exported
    for path in [out / "network.graphml", *sorted((out / "graphml").glob("*.graphml"))]:
        root = etree.parse(str(path)).getroot()
        ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
        types = {k.get("attr.name") + "/" + k.get("for"): k.get("attr.type") for k in root.findall("g:key", ns)}
        assert types["usd/edge"] == "double" and types["rank/node"] in ("int", "long")
        assert types["role/node"] == "string" and types["first_at/edge"] == "string"
        for d in root.iter("{http://graphml.graphdrawing.org/xmlns}data"):
            assert d.text not in (None, "None", "[]"), path
    assert (out / "graphml" / "NW-1.graphml").exists()


def test_i2_node_and_edge_lists(exported):
    out, _ = exported
    nodes = list(csv.DictReader(open(out / "graph_nodes.csv", encoding="utf-8-sig", newline="")))
    edges = list(csv.DictReader(open(out / "graph_edges.csv", encoding="utf-8-sig", newline="")))
    assert {n["id"] for n in nodes} >= {"party:P-BOSS", "compound:KKPARK", f"account:{W_KH}"}
    legal = next(n for n in nodes if n["id"] == "party:P-LEGAL")
    assert legal["label"].startswith("'=")  # neutralised for spreadsheets
    assert sum(1 for e in edges if e["kind"] == "flow") == 5
