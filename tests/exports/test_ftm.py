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


def test_a_member_in_several_networks_and_its_repeated_links_are_cleaned_as_followthemoney_cleans(tmp_path):
    """A member is one row per network and a compound link one row per network of its member: the builder adds
    a member's properties once and cleans a repeated text once. The entities must be what followthemoney
    makes of each row on its own."""
    import pyarrow as pa
    from followthemoney import model

    from exports.ftm import NAMESPACE, write_rows

    name, evidence = "  Somchai \t  Dee\x07 ", "\u200b phone +95978 starts with the compound prefix \x00 "
    members = [{"network_id": nw, "member_type": "account", "member_id": "B:1", "role": role, "rank": rank,
                "name": name, "country": "TH", "institution": " KASIKORN ", "watchlist_ids": None}
               for nw, role, rank in (("NW-1", "mule", 2), ("NW-2", "collector", 1))]
    links = [{"network_id": nw, "link_id": "CL-1", "compound_id": "KK", "subject_type": "account",
              "subject_id": "B:1", "link_kind": "phone_prefix", "evidence_text": evidence, "confidence": 0.5}
             for nw in ("NW-1", "NW-2")]
    data = {"members": pa.Table.from_pylist(members), "edges": None, "kyc": None, "listed": None,
            "links": pa.Table.from_pylist(links),
            "compounds": pa.Table.from_pylist([{"compound_id": "KK", "name": " KK  Park ", "country": "MM"}])}
    write_rows(data, tmp_path / "f.json")   # the tables ftm.gather reads
    got = {e["id"]: e for e in map(json.loads, open(tmp_path / "f.json", encoding="utf-8"))}

    account = model.make_entity("BankAccount")   # what followthemoney makes of the rows, added one by one
    account.make_id(NAMESPACE, "BankAccount", "account", "B:1")
    for m in members:
        for prop, value in (("accountNumber", "B:1"), ("bankName", m["institution"]), ("name", m["name"]),
                            ("country", m["country"])):
            account.add(prop, value)
    account.add("notes", ["NW-1: mule (rank 2)", "NW-2: collector (rank 1)"])
    assert got[account.id] == account.to_dict()
    assert got[account.id]["properties"]["name"] == ["Somchai Dee"]
    for nw in ("NW-1", "NW-2"):
        link = model.make_entity("UnknownLink")
        link.make_id(NAMESPACE, "UnknownLink", "compound_link", nw, "CL-1")
        org_id = model.make_entity("Organization").make_id(NAMESPACE, "Organization", "compound", "KK")
        link.add("subject", account.id)
        link.add("object", org_id)
        link.add("role", "compound link: phone_prefix")
        link.add("description", evidence)
        link.add("summary", "confidence 0.50")
        assert got[link.id] == link.to_dict()


def test_a_party_listed_as_person_and_as_legal_keeps_each_networks_note_on_its_own_entity(tmp_path):
    """Person in NW-1 and NW-3, legal in NW-2: two entities, as followthemoney would make them row by row; the
    Person has the notes of NW-1 and NW-3, and an edge of the member in NW-3 leaves from the Person."""
    import pyarrow as pa

    from exports.ftm import write_rows

    members = [{"network_id": nw, "member_type": "party", "member_id": "P1", "role": "organiser", "rank": 1,
                "name": name, "party_type": pt, "country": "TH", "institution": None, "watchlist_ids": None}
               for nw, pt, name in (("NW-1", "person", "Ann"), ("NW-2", "legal", "Ann Co"), ("NW-3", "person", "Ann"))]
    edges = [{"network_id": "NW-3", "src_type": "party", "src_id": "P1", "dst_type": "account", "dst_id": "B:1",
              "kind": "holder", "usd": None, "n_txns": None, "first_at": None, "last_at": None, "evidence": None}]
    write_rows({"members": pa.Table.from_pylist(members), "edges": pa.Table.from_pylist(edges), "kyc": None,
                "links": None, "compounds": None, "listed": None}, tmp_path / "f.json")
    got = [json.loads(line) for line in open(tmp_path / "f.json", encoding="utf-8")]
    by_schema = {e["schema"]: e for e in got}
    person, company = by_schema["Person"], by_schema["Company"]
    assert person["properties"]["notes"] == ["NW-1: organiser (rank 1)", "NW-3: organiser (rank 1)"]
    assert company["properties"]["notes"] == ["NW-2: organiser (rank 1)"]
    assert company["properties"]["name"] == ["Ann Co"] and person["properties"]["name"] == ["Ann"]
    assert by_schema["Ownership"]["properties"]["owner"] == [person["id"]]
