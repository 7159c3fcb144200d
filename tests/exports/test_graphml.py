"""GraphML: parses with networkx, keeps roles, ranks, amounts and dates; GraphML-safe attribute types."""

from __future__ import annotations

import csv
import json

import networkx as nx
import pytest
from lxml import etree

from transforms import store

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


def _graph_export(store_path, out, **kw):
    from transforms import store
    from exports import export

    con = store.connect(store_path, read_only=True)
    try:
        return export(con, out, formats=["graphml", "csv"], **kw)
    finally:
        con.close()


def test_a_network_larger_than_the_limit_is_charted_by_its_top_members(tmp_path, store_path):
    import json

    res = _graph_export(store_path, tmp_path / "cut", graph_max_members=4)
    out = tmp_path / "cut"
    assert res["counts"]["graph_cut"] == {"max_members": 4, "networks": {"NW-1": 9}}
    assert json.loads((out / "manifest.json").read_text())["counts"]["graph_cut"] == res["counts"]["graph_cut"]
    top4 = {"party:P-BOSS", "party:P-LEGAL", "account:ABAAKHPP:444", f"account:{W_KH}"}  # ranks 1-4
    for path in (out / "network.graphml", out / "graphml" / "NW-1.graphml"):
        g = nx.read_graphml(path, force_multigraph=True)
        assert set(g.nodes) == top4 | {"compound:KKPARK"}  # W_KH's compound link stays with it
        assert {(u, v, d["kind"]) for u, v, d in g.edges(data=True)} == {
            ("party:P-BOSS", "party:P-LEGAL", "phone"), ("party:P-LEGAL", "account:ABAAKHPP:444", "holder"),
            ("account:ABAAKHPP:444", f"account:{W_KH}", "flow"), (f"account:{W_KH}", "compound:KKPARK", "compound_link")}
    nodes = list(csv.DictReader(open(out / "graph_nodes.csv", encoding="utf-8-sig", newline="")))
    edges = list(csv.DictReader(open(out / "graph_edges.csv", encoding="utf-8-sig", newline="")))
    assert {n["id"] for n in nodes} == top4 | {"compound:KKPARK"} and len(edges) == 4
    members = list(csv.DictReader(open(out / "network_members.csv", encoding="utf-8-sig", newline="")))
    assert len(members) == 9  # the tables keep every member


def test_graph_limit_at_the_network_size_changes_nothing(tmp_path, store_path):
    at = _graph_export(store_path, tmp_path / "at", graph_max_members=9)
    unlimited = _graph_export(store_path, tmp_path / "none", graph_max_members=None)
    assert "graph_cut" not in at["counts"] and "graph_cut" not in unlimited["counts"]
    for name in ("network.graphml", "graph_nodes.csv", "graph_edges.csv", "graphml/NW-1.graphml"):
        assert (tmp_path / "at" / name).read_bytes() == (tmp_path / "none" / name).read_bytes(), name


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10"])
def test_graph_limit_must_be_a_positive_whole_number(tmp_path, store_path, bad):
    from exports import ExportError

    with pytest.raises(ExportError, match="graph_max_members"):
        _graph_export(store_path, tmp_path / "bad", graph_max_members=bad)
    assert not (tmp_path / "bad").exists()


@pytest.mark.usefixtures("prefect_harness")
def test_cli_graph_limit_says_which_networks_were_cut(tmp_path, store_copy):
    from typer.testing import CliRunner

    from flows.cli import app

    cut = CliRunner().invoke(app, ["export", "--out", str(tmp_path / "a"), "--format", "graphml",
                                   "--graph-max-members", "4", "--db", str(store_copy)])
    assert cut.exit_code == 0, cut.output
    assert "network NW-1 charted by its 4 best-ranked of 9 members" in " ".join(cut.output.split())
    whole = CliRunner().invoke(app, ["export", "--out", str(tmp_path / "b"), "--format", "graphml",
                                     "--graph-max-members", "0", "--db", str(store_copy)])
    assert whole.exit_code == 0 and "charted" not in whole.output, whole.output
    assert len(nx.read_graphml(tmp_path / "b" / "network.graphml").nodes) == 10  # 9 members and the compound


def test_edges_sharing_kind_and_ends_keep_one_order_in_every_file(tmp_path, store_copy):
    """Two shared IPs of one pair of accounts are two edges with the same kind and ends: the rest of the row
    orders them, so exporting the same store twice gives the same files (the row order on disk does not)."""
    from exports import export
    from tests.world import insert_row

    con = store.connect(store_copy)
    for ip in ("203.0.113.9", "198.51.100.7"):  # inserted out of order
        insert_row(con, "network_edges", network_id="NW-1", src_type="account", src_id="KASITHBK:333",
                   dst_type="account", dst_id="ABAAKHPP:444", kind="ip", evidence=ip)
    try:
        export(con, tmp_path / "out", formats=["graphml", "ftm"], full=False)
    finally:
        con.close()
    out = tmp_path / "out"
    edges = [e["evidence"] for e in csv.DictReader(open(out / "graph_edges.csv", encoding="utf-8-sig", newline=""))
             if e["kind"] == "ip"]
    assert edges == ["198.51.100.7", "203.0.113.9"]
    g = nx.read_graphml(out / "network.graphml", force_multigraph=True)
    keyed = sorted((int(k), d["evidence"]) for u, v, k, d in g.edges(keys=True, data=True) if d["kind"] == "ip")
    assert keyed == [(1, "198.51.100.7"), (2, "203.0.113.9")]  # key 0: the pair's flow
    ftm = [json.loads(line) for line in open(out / "network.ftm.json", encoding="utf-8")]
    link = [e for e in ftm if e["properties"].get("role") == ["shares ip"]]
    assert len(link) == 1 and link[0]["properties"]["description"] == ["198.51.100.7", "203.0.113.9"]
