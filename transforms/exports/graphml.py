"""Network graphs as GraphML (Gephi, yEd, i2 via import) and as node / edge CSV lists (i2 Analyst's Notebook).

Nodes: accounts (bank), wallets (crypto accounts), parties (persons, legal persons) and compounds, with their
role, roles, rank, institution, country. Edges: flows with USD, transaction count and first / last dates;
holder and shared-identifier links; compound links with their kind and confidence. Every attribute is a
string, int or float (GraphML has no null and no list): lists are joined with '; ', missing values omitted.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

import networkx as nx

from transforms.exports.safe import atomic_path, atomic_write, neutralise

CRYPTO_PREFIXES = ("tron:", "ethereum:", "bitcoin:", "bsc:", "polygon:", "solana:", "arbitrum:")


def node_id(kind: str, ident: str) -> str:
    return f"{kind}:{ident}"


def _attr(value: Any) -> Any:
    """A GraphML-safe attribute value, or None to leave it out."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str):
        return value or None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return "; ".join(str(v) for v in value if v is not None) or None
    return str(value) or None


def _clean(attrs: dict) -> dict:
    out = {}
    for k, v in attrs.items():
        val = _attr(v)
        if val is not None:
            out[k] = val
    return out


def is_wallet(account_id: str, kind: str | None = None) -> bool:
    return account_id.startswith(CRYPTO_PREFIXES)


def add_network(g: nx.MultiDiGraph, network_id: str, members: list[dict], edges: list[dict], links: list[dict],
                compounds: dict[str, dict]) -> None:
    """Add one network's members, edges and compound links to g (nodes shared across networks merge)."""
    for m in members:
        mtype = m["member_type"]
        nid = node_id(mtype, m["member_id"])
        ntype = "party" if mtype == "party" else ("wallet" if is_wallet(m["member_id"], m.get("kind")) else "account")
        attrs = _clean({
            "label": m.get("name") or m["member_id"], "type": ntype, "member_id": m["member_id"],
            "role": m.get("role"), "roles": m.get("roles"), "rank": m.get("rank"),
            "rank_score": m.get("rank_score"), "centrality": m.get("centrality"),
            "is_alerted": bool(m.get("is_alerted")), "alert_ids": m.get("alert_ids"),
            "in_usd": m.get("in_usd"), "out_usd": m.get("out_usd"), "party_type": m.get("party_type"),
            "kind": m.get("kind"), "institution": m.get("institution"), "country": m.get("country"),
            "compound_ids": m.get("compound_ids"), "holder_id": m.get("holder_id"),
        })
        if nid in g:
            prev = g.nodes[nid]
            nets = set(str(prev.get("network_ids", "")).split("; ")) | {network_id}
            prev["network_ids"] = "; ".join(sorted(n for n in nets if n))
            if "rank" in attrs and ("rank" not in prev or attrs["rank"] < prev["rank"]):
                prev.update(attrs)  # keep the role where the member ranks highest
        else:
            g.add_node(nid, network_ids=network_id, **attrs)
    for e in edges:
        src = node_id(e["src_type"], e["src_id"])
        dst = node_id(e["dst_type"], e["dst_id"])
        for n, t, i in ((src, e["src_type"], e["src_id"]), (dst, e["dst_type"], e["dst_id"])):
            if n not in g:
                g.add_node(n, label=i, type="party" if t == "party" else ("wallet" if is_wallet(i) else "account"),
                           member_id=i, role="counterparty", network_ids=network_id)
        label = f"USD {float(e['usd']):,.2f}" if e.get("usd") is not None else e.get("kind")
        g.add_edge(src, dst, **_clean({
            "label": label, "kind": e.get("kind"), "network_id": network_id, "usd": e.get("usd"),
            "n_txns": e.get("n_txns"), "first_at": e.get("first_at"), "last_at": e.get("last_at"),
            "evidence": e.get("evidence"),
        }))
    for link in links:
        subj = node_id(link["subject_type"], link["subject_id"])
        comp = node_id("compound", link["compound_id"])
        if comp not in g:
            c = compounds.get(link["compound_id"], {})
            g.add_node(comp, **_clean({"label": c.get("name") or link["compound_id"], "type": "compound",
                                       "member_id": link["compound_id"], "role": "compound",
                                       "country": c.get("country"), "confidence": c.get("confidence"),
                                       "network_ids": network_id}))
        if subj not in g:
            g.add_node(subj, label=link["subject_id"], type=link["subject_type"], member_id=link["subject_id"],
                       role="compound_linked", network_ids=network_id)
        g.add_edge(subj, comp, **_clean({
            "label": f"{link.get('link_kind')} ({link.get('confidence') or 0:.2f})", "kind": "compound_link",
            "network_id": network_id, "link_kind": link.get("link_kind"), "confidence": link.get("confidence"),
            "first_at": link.get("first_seen_at"), "last_at": link.get("last_seen_at"),
            "evidence": link.get("evidence_text"), "link_id": link.get("link_id"),
        }))


def write_graphml(g: nx.MultiDiGraph, path: Path) -> Path:
    with atomic_path(path) as tmp:
        nx.write_graphml(g, str(tmp), encoding="utf-8", prettyprint=True, named_key_ids=True)
    return path


def write_lists(g: nx.MultiDiGraph, nodes_path: Path, edges_path: Path) -> list[Path]:
    """graph_nodes.csv / graph_edges.csv: one row per node / edge, for i2 Analyst's Notebook's importer."""
    node_cols = ["id", "label", "type", "role", "roles", "rank", "institution", "country", "kind", "in_usd",
                 "out_usd", "network_ids", "compound_ids"]
    edge_cols = ["source", "target", "kind", "usd", "n_txns", "first_at", "last_at", "link_kind", "confidence",
                 "network_id", "evidence"]
    out = []
    for path, cols, items in (
        (nodes_path, node_cols, ({"id": n, **d} for n, d in sorted(g.nodes(data=True)))),
        (edges_path, edge_cols, ({"source": u, "target": v, **d} for u, v, d in g.edges(data=True))),
    ):
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(cols)
        for item in items:
            w.writerow([neutralise("" if item.get(c) is None else str(item.get(c))) for c in cols])
        out.append(atomic_write(path, buf.getvalue().encode("utf-8-sig")))
    return out


def build(networks: Iterable[str], members_by: dict[str, list[dict]], edges_by: dict[str, list[dict]],
          links_by: dict[str, list[dict]], compounds: dict[str, dict]) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for nid in networks:
        add_network(g, nid, members_by.get(nid, []), edges_by.get(nid, []), links_by.get(nid, []), compounds)
    return g
