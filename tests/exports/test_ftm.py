"""FollowTheMoney export: every entity valid for the followthemoney package, and the same nodes and edges as the
GraphML of the same networks (members one entity each, edges per network)."""

from __future__ import annotations

import json
from collections import Counter

import networkx as nx

from exports import export
from transforms import store

FTM_KIND = {  # (schema, role prefix) of an edge entity -> the GraphML edge kind it stands for
    ("Payment", ""): "flow", ("UnknownLink", "payment flow"): "flow", ("Ownership", "account holder"): "holder",
    ("UnknownLink", "account holder"): "holder", ("UnknownLink", "compound link"): "compound_link",
}
NODE_SCHEMAS = {"BankAccount": "account", "CryptoWallet": "wallet", "Person": "party", "Company": "party",
                "Organization": "compound"}


def test_ftm_entities_are_valid_and_mirror_the_graphml(tmp_path, store_path):
    from followthemoney import model

    con = store.connect(store_path, read_only=True)
    try:
        export(con, tmp_path / "out", formats=["ftm", "graphml"])
    finally:
        con.close()
    entities = [json.loads(line) for line in open(tmp_path / "out" / "network.ftm.json", encoding="utf-8")]
    assert entities
    ids = {e["id"] for e in entities}
    nodes: Counter[str] = Counter()
    edges: Counter[str] = Counter()
    for e in entities:
        proxy = model.get_proxy(e, cleaned=False)  # raises on an unknown schema
        for prop, values in e["properties"].items():
            p = proxy.schema.get(prop)
            assert p is not None, (e["schema"], prop)
            if p.range is not None:  # references point at entities of the file, of the right schema
                for v in values:
                    assert v in ids, (e["schema"], prop, v)
        if e["schema"] in NODE_SCHEMAS:
            nodes[NODE_SCHEMAS[e["schema"]]] += 1
        elif e["schema"] in ("Payment", "Ownership", "UnknownLink"):
            role = (e["properties"].get("role") or [""])[0]
            kind = FTM_KIND.get((e["schema"], role.split(":")[0]))
            edges[kind or role.removeprefix("shares ")] += 1
    g = nx.read_graphml(tmp_path / "out" / "network.graphml", force_multigraph=True)
    assert nodes == Counter(d.get("type") for _, d in g.nodes(data=True))
    assert edges == Counter(d.get("kind") for *_, d in g.edges(data=True))
