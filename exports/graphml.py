"""Network graphs as GraphML (Gephi, yEd, i2 via import) and as node / edge CSV lists (i2 Analyst's Notebook).

Nodes: accounts (bank), wallets (crypto accounts), parties (persons, legal persons) and compounds, with their
role, roles, rank, institution, country. Edges: flows with USD, transaction count and first / last dates;
holder and shared-identifier links; compound links with their kind and confidence. Every attribute is a
string, int or float (GraphML has no null and no list): lists are joined with '; ', missing values omitted.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import os
import re
import shutil
import tempfile
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any


from exports.safe import atomic_path, ensure_dir, neutralise
from exports.tables import EDGE_ORDER

CRYPTO_PREFIXES = ("tron:", "ethereum:", "bitcoin:", "bsc:", "polygon:", "solana:", "arbitrum:")


def node_id(kind: str, ident: str) -> str:
    return f"{kind}:{ident}"


def _utc_text(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _list_text(value) -> str | None:
    return "; ".join(str(v) for v in value if v is not None) or None


# GraphML-safe attribute values by exact type (the common ones; subclasses go through _attr_other)
_BY_TYPE: dict[type, Any] = {
    str: lambda v: v or None, bool: lambda v: v, int: lambda v: v, float: lambda v: v,
    Decimal: float, datetime: _utc_text, date: date.isoformat, list: _list_text, tuple: _list_text, set: _list_text,
}


def _attr(value: Any) -> Any:
    """A GraphML-safe attribute value, or None to leave it out."""
    if value is None:
        return None
    conv = _BY_TYPE.get(type(value))
    return conv(value) if conv is not None else _attr_other(value)


def _attr_other(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str):
        return value or None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime):
        return _utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return _list_text(value)
    return str(value) or None


def _clean(attrs: dict) -> dict:
    out = {}
    for k, v in attrs.items():
        if v is not None:
            val = _attr(v)
            if val is not None:
                out[k] = val
    return out


def is_wallet(account_id: str, kind: str | None = None) -> bool:
    return account_id.startswith(CRYPTO_PREFIXES)


# --------------------------------------------------------------------------------------------- streaming
# The graph is written from DuckDB without holding it (it was a networkx MultiDiGraph before; the files are
# unchanged): DuckDB orders nodes and edges the way networkx iterated them (node insertion order; edges by
# source node, then target in first-insertion order, then key), Python replays one node's events at a time.

NODE_COLS = ["id", "label", "type", "role", "roles", "rank", "institution", "country", "kind", "in_usd",
             "out_usd", "network_ids", "compound_ids"]
EDGE_COLS = ["source", "target", "kind", "usd", "n_txns", "first_at", "last_at", "link_kind", "confidence",
             "network_id", "evidence"]
GRAPHML_BATCH = 5_000
# Members per network in the graph files. Chart tools slow to a crawl well before this (i2 and yEd at a few
# thousand items, Gephi at about 100,000 nodes), and a network this large is charted from its top anyway.
GRAPH_MAX_MEMBERS = 10_000
_EDGE_ORDER_E = ", ".join("e." + c for c in EDGE_ORDER.split(", "))


def _graph_tables(con, networks_table: str, network_id: str | None, tag: str,
                  max_members: int | None) -> dict[str, str]:
    """Temp tables: members, edges and links with their insertion order, and each node's first event.

    A network with more than max_members members keeps its max_members best-ranked ones and the edges
    among them (_gx_mem._members: the network's size): the top of a network is what an investigator charts."""
    names = {k: f"_gx_{k}_{tag}" for k in ("nets", "mem", "edg", "lnk", "nodes")}
    n = names
    cond, params = ("TRUE", []) if network_id is None else ("network_id = ?", [network_id])
    cap = "NULL" if max_members is None else str(int(max_members))
    con.execute(f"CREATE TEMP TABLE {n['nets']} AS SELECT network_id, ord AS _net FROM {networks_table} WHERE {cond}",
                params)
    con.execute(f"""
        CREATE TEMP TABLE {n['mem']} AS
        SELECT * FROM (
            SELECT m.*, s._net, m.member_type || ':' || m.member_id AS _node,
                   row_number() OVER (PARTITION BY m.network_id
                                      ORDER BY m.rank NULLS LAST, m.member_type, m.member_id) AS _seq,
                   count(*) OVER (PARTITION BY m.network_id) AS _members
            FROM network_members m JOIN {n['nets']} s ON s.network_id = m.network_id)
        WHERE _seq <= coalesce({cap}, _seq)""")
    # In a cut network an edge stays when both its ends are kept members.
    con.execute(f"""
        CREATE TEMP TABLE {n['edg']} AS
        SELECT e.*, s._net, row_number() OVER (PARTITION BY e.network_id ORDER BY {_EDGE_ORDER_E}) AS _seq
        FROM network_edges e JOIN {n['nets']} s ON s.network_id = e.network_id
        WHERE e.network_id NOT IN (SELECT network_id FROM {n['mem']} WHERE _members > {cap}) OR (
            EXISTS (SELECT 1 FROM {n['mem']} k
                    WHERE k.network_id = e.network_id AND k.member_type = e.src_type AND k.member_id = e.src_id)
            AND EXISTS (SELECT 1 FROM {n['mem']} k
                        WHERE k.network_id = e.network_id AND k.member_type = e.dst_type AND k.member_id = e.dst_id))""")
    # links_by in export(): each member's current links, member by member, in the links table's order.
    con.execute(f"""
        CREATE TEMP TABLE {n['lnk']} AS
        SELECT l.*, m.network_id AS _net_id, m._net,
               row_number() OVER (PARTITION BY m.network_id ORDER BY m._seq, l.compound_id,
                                  l.confidence DESC NULLS LAST, l.link_id) AS _seq
        FROM {n['mem']} m JOIN compound_links l ON l.subject_type = m.member_type AND l.subject_id = m.member_id
        WHERE l.is_current IS NOT FALSE""")
    # A node is created by its first event: as a member (phase 0), an edge end (1) or a linked compound (2).
    con.execute(f"""
        CREATE TEMP TABLE {n['nodes']} AS
        WITH ev AS (
            SELECT _node, _net, 0 AS _phase, _seq, 0 AS _sub, 'm' AS _kind, network_id, member_type AS _t, member_id AS _i
            FROM {n['mem']}
            UNION ALL SELECT src_type || ':' || src_id, _net, 1, _seq, 0, 'e', network_id, src_type, src_id FROM {n['edg']}
            UNION ALL SELECT dst_type || ':' || dst_id, _net, 1, _seq, 1, 'e', network_id, dst_type, dst_id FROM {n['edg']}
            UNION ALL SELECT 'compound:' || compound_id, _net, 2, _seq, 0, 'c', _net_id, 'compound', compound_id FROM {n['lnk']}
        ), first AS (
            SELECT *, row_number() OVER (PARTITION BY _node ORDER BY _net, _phase, _seq, _sub) AS _rn FROM ev
        )
        SELECT _node, _kind, network_id AS _first_net, _t, _i,
               row_number() OVER (ORDER BY _net, _phase, _seq, _sub) AS _pos
        FROM first WHERE _rn = 1""")
    return names


def _drop(con, names: dict[str, str]) -> None:
    for name in names.values():
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")


def _node_rows(con, names: dict[str, str], order: str):
    """(node id, attrs) per node, nodes in `order` ('pos' = insertion order, 'id' = sorted by id)."""
    n = names
    sort = "n._pos" if order == "pos" else "n._node"
    reader = con.sql(f"""
        SELECT n._node AS _id, n._kind AS _first, n._first_net, n._t, n._i,
               c.name AS _c_name, c.country AS _c_country, c.confidence AS _c_confidence, {_MEMBER_COLS}
        FROM {n['nodes']} n
        LEFT JOIN {n['mem']} m ON m._node = n._node
        LEFT JOIN compounds c ON n._kind = 'c' AND c.compound_id = n._i
        ORDER BY {sort}, m._net, m._seq""").to_arrow_reader(GRAPHML_BATCH)  # relation API: streams
    current, state, nets = None, None, None
    for batch in reader:
        for r in batch.to_pylist():
            if r["_id"] != current:
                if current is not None:
                    yield current, _with_networks(state, nets)
                current, state, nets = r["_id"], _first_state(r), None
            if r["_node"] is not None:
                state, nets = _member_event(state, nets, r)
    if current is not None:
        yield current, _with_networks(state, nets)


# The member columns a node is made of (the rest of network_members, such as its trafficking facts, is not
# charted), and _node, which says a row has a member.
_MEMBER_COLS = ", ".join(f"m.{c}" for c in (
    "_node", "network_id", "member_type", "member_id", "name", "role", "roles", "rank", "rank_score", "centrality",
    "is_alerted", "alert_ids", "in_usd", "out_usd", "party_type", "kind", "institution", "country", "compound_ids",
    "holder_id"))


def _first_state(r: dict) -> dict | None:
    """The node an edge end or a compound link creates (members: see _member_event)."""
    if r["_first"] == "e":
        t, i = r["_t"], r["_i"]
        return {"label": i, "type": "party" if t == "party" else ("wallet" if is_wallet(i) else "account"),
                "member_id": i, "role": "counterparty", "network_ids": r["_first_net"]}
    if r["_first"] == "c":
        return _clean({"label": r["_c_name"] or r["_i"], "type": "compound", "member_id": r["_i"],
                       "role": "compound", "country": r["_c_country"], "confidence": r["_c_confidence"],
                       "network_ids": r["_first_net"]})
    return None


def _member_attrs(m: dict) -> dict:
    mtype = m["member_type"]
    ntype = "party" if mtype == "party" else ("wallet" if is_wallet(m["member_id"], m.get("kind")) else "account")
    return _clean({
        "label": m.get("name") or m["member_id"], "type": ntype, "member_id": m["member_id"],
        "role": m.get("role"), "roles": m.get("roles"), "rank": m.get("rank"),
        "rank_score": m.get("rank_score"), "centrality": m.get("centrality"),
        "is_alerted": bool(m.get("is_alerted")), "alert_ids": m.get("alert_ids"),
        "in_usd": m.get("in_usd"), "out_usd": m.get("out_usd"), "party_type": m.get("party_type"),
        "kind": m.get("kind"), "institution": m.get("institution"), "country": m.get("country"),
        "compound_ids": m.get("compound_ids"), "holder_id": m.get("holder_id"),
    })


def _member_event(state: dict | None, nets: tuple[set, Any] | None, m: dict) -> tuple[dict, tuple[set, Any] | None]:
    """A member merged into an existing node (or creating it): the node keeps the role where it ranks highest.
    nets: for a node that more than one event made (None until then), the networks so far and the latest one,
    joined by _with_networks: "; "-separated, each earlier value split on "; " (what joining the list at every
    event and splitting it at the next gave). A member's attributes are made only when they replace the node's."""
    if state is None:
        return {"network_ids": m["network_id"], **_member_attrs(m)}, None
    if nets is None:
        seen, latest = set(str(state.get("network_ids", "")).split("; ")), m["network_id"]
        state.setdefault("network_ids", None)   # its place among the node's attributes is taken now
    else:
        seen, latest = nets
        seen.update(str(latest).split("; ") if latest is not None else ())
        latest = m["network_id"]
    rank = _attr(m["rank"])
    if rank is not None and ("rank" not in state or rank < state["rank"]):
        state.update(_member_attrs(m))  # keep the role where the member ranks highest
    return state, (seen, latest)


def _with_networks(state: dict | None, nets: tuple[set, Any] | None) -> dict | None:
    if state is not None and nets is not None:
        seen, latest = nets
        state["network_ids"] = "; ".join(sorted(x for x in seen | {latest} if x))
    return state


def _edge_rows(con, names: dict[str, str]):
    """(source, target, key, attrs) in MultiDiGraph.edges(keys=True) order."""
    n = names
    reader = con.sql(f"""
        WITH u AS (
            SELECT src_type || ':' || src_id AS _src, dst_type || ':' || dst_id AS _dst, _net, 1 AS _phase, _seq,
                   network_id AS _net_id, kind AS f_kind, usd AS f_usd, n_txns AS f_n_txns, first_at AS f_first_at,
                   last_at AS f_last_at, evidence AS f_evidence
            FROM {n['edg']}
            UNION ALL BY NAME
            SELECT subject_type || ':' || subject_id AS _src, 'compound:' || compound_id AS _dst, _net, 2 AS _phase,
                   _seq, _net_id, link_kind AS l_link_kind, confidence AS l_confidence, first_seen_at AS l_first_at,
                   last_seen_at AS l_last_at, evidence_text AS l_evidence, link_id AS l_link_id
            FROM {n['lnk']}
        ), o AS (SELECT *, row_number() OVER (ORDER BY _net, _phase, _seq) AS _ord FROM u)
        SELECT o.*, row_number() OVER (PARTITION BY _src, _dst ORDER BY _ord) - 1 AS _key,
               min(_ord) OVER (PARTITION BY _src, _dst) AS _pair, p._pos AS _src_pos
        FROM o JOIN {n['nodes']} p ON p._node = o._src
        ORDER BY _src_pos, _pair, _ord""").to_arrow_reader(GRAPHML_BATCH)
    for batch in reader:
        for r in batch.to_pylist():
            yield r["_src"], r["_dst"], r["_key"], _edge_attrs(r)


def _edge_attrs(r: dict) -> dict:
    if r["_phase"] == 1:
        label = f"USD {float(r['f_usd']):,.2f}" if r.get("f_usd") is not None else r.get("f_kind")
        return _clean({"label": label, "kind": r.get("f_kind"), "network_id": r["_net_id"], "usd": r.get("f_usd"),
                       "n_txns": r.get("f_n_txns"), "first_at": r.get("f_first_at"), "last_at": r.get("f_last_at"),
                       "evidence": r.get("f_evidence")})
    return _clean({
        "label": f"{r.get('l_link_kind')} ({r.get('l_confidence') or 0:.2f})", "kind": "compound_link",
        "network_id": r["_net_id"], "link_kind": r.get("l_link_kind"), "confidence": r.get("l_confidence"),
        "first_at": r.get("l_first_at"), "last_at": r.get("l_last_at"), "evidence": r.get("l_evidence"),
        "link_id": r.get("l_link_id")})


class _Keys:
    """GraphML <key> declarations as networkx's lxml writer makes them (named ids, newest first)."""

    def __init__(self):
        from networkx.readwrite.graphml import GraphML

        self._types = GraphML()
        self._types.construct_types()
        self.seen: dict[tuple, str] = {}
        self.elements: list = []
        self._known: set[tuple] = set()  # (name, Python type, scope) already declared: most calls stop there

    def declare(self, name: str, value: Any, scope: str) -> None:
        known = (name, type(value), scope)
        if known in self._known:
            return
        xml_type = self._types.get_xml_type(type(value))   # a type GraphML cannot hold raises, every time
        self._known.add(known)
        if (name, xml_type, scope) not in self.seen:
            from lxml import etree

            self.seen[(name, xml_type, scope)] = name
            self.elements.insert(0, etree.Element("key", id=name, **{"for": scope, "attr.name": name,
                                                                     "attr.type": xml_type}))


# Nodes and edges are hundreds of thousands of small elements: they are formatted as text, escaped the way
# libxml2 serialises (what lxml wrote here before; tests/exports compare the two on arbitrary text). Text
# that XML cannot hold goes through lxml, which refuses it with its own message.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TEXT_ESC = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR_ESC = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;",
                           "\t": "&#9;"})


def _element(tag: str, attrs: dict, data: dict, scope: str, keys: _Keys) -> bytes:
    """`<tag a="..">` with one `<data key="k">value</data>` per item, as lxml's pretty-printed tostring."""
    names = [str(k) for k in data]
    texts = [v if type(v) is str else str(v) for v in data.values()]
    for k, v in zip(names, data.values()):
        keys.declare(k, v, scope)
    heads = [str(v) for v in attrs.values()]
    if _NOT_XML.search("\n".join((*names, *texts, *heads))):   # one search: a newline is valid XML
        return _element_lxml(tag, attrs, list(zip(names, data.values(), texts)))
    head = f"<{tag}" + "".join(f' {a}="{v.translate(_ATTR_ESC)}"' for a, v in zip(attrs, heads))
    if not texts:
        return (head + "/>\n").encode("utf-8")
    # one translate for all texts (NUL cannot occur in them: refused above) and one per key name, cached
    escaped = "\x00".join(texts).translate(_TEXT_ESC).split("\x00")
    body = "".join(f'  <data key="{_key_attr(k)}">{t}</data>\n' for k, t in zip(names, escaped))
    return f"{head}>\n{body}</{tag}>\n".encode("utf-8")


@functools.lru_cache(maxsize=1024)
def _key_attr(name: str) -> str:
    return name.translate(_ATTR_ESC)


def _element_lxml(tag: str, attrs: dict, texts: list[tuple[str, Any, str]]) -> bytes:
    from lxml import etree

    el = etree.Element(tag, **attrs)
    for k, _, t in texts:
        etree.SubElement(el, "data", key=k).text = t
    return etree.tostring(el, pretty_print=True, encoding="utf-8", xml_declaration=False)


def _graphml_frame(keys: _Keys) -> tuple[bytes, bytes]:
    """The bytes before and after the nodes and edges, from lxml's incremental writer as networkx uses it."""
    from lxml import etree

    from networkx.readwrite.graphml import GraphML

    buf = io.BytesIO()
    with etree.xmlfile(buf, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element("graphml", {"xmlns": GraphML.NS_GRAPHML, "xmlns:xsi": GraphML.NS_XSI,
                                    "xsi:schemaLocation": GraphML.SCHEMALOCATION}):
            for key in keys.elements:
                xf.write(key, pretty_print=True)
            with xf.element("graph", edgedefault="directed"):
                xf.write(etree.Element("body_placeholder"), pretty_print=True)
    head, tail = buf.getvalue().split(b"<body_placeholder/>\n")
    return head, tail


def _csv_line(w, item: dict, cols: list[str]) -> None:
    values = [item.get(c) for c in cols]
    w.writerow([neutralise("" if v is None else (v if type(v) is str else str(v))) for v in values])


def _write_body(con, names: dict[str, str], body: Path, edges_csv: Path | None, keys: _Keys) -> None:
    """Node and edge elements into body (and the edge list into edges_csv), collecting the keys."""
    with open(body, "wb") as fh, (open(edges_csv, "w", encoding="utf-8-sig", newline="") if edges_csv
                                  else contextlib.nullcontext()) as efh:
        ew = csv.writer(efh, lineterminator="\r\n") if efh else None
        if ew:
            ew.writerow(EDGE_COLS)
        for nid, attrs in _node_rows(con, names, "pos"):
            fh.write(_element("node", {"id": nid}, attrs, "node", keys))
        for u, v, k, attrs in _edge_rows(con, names):
            fh.write(_element("edge", {"source": u, "target": v, "id": str(k)}, attrs, "edge", keys))
            if ew:
                _csv_line(ew, {"source": u, "target": v, **attrs}, EDGE_COLS)


def write_streamed(con, networks_table: str, graphml_path: Path, nodes_path: Path | None = None,
                   edges_path: Path | None = None, network_id: str | None = None,
                   max_members: int | None = GRAPH_MAX_MEMBERS, cut: dict[str, int] | None = None) -> list[Path]:
    """network.graphml (and graph_nodes.csv / graph_edges.csv) of the selected networks, or of one of them,
    holding one batch of rows at a time.

    max_members: a larger network is charted by its max_members best-ranked members (None: no limit); cut,
    when given, gets network id -> its number of members for each network charted so.

    The <key> declarations come first in GraphML but are known only after every node and edge, so the
    nodes and edges go to a temp file beside the output, then header + keys + that file are joined."""
    ensure_dir(graphml_path.parent)
    names = _graph_tables(con, networks_table, network_id, uuid.uuid4().hex, max_members)
    fd, body_name = tempfile.mkstemp(prefix=f".{graphml_path.name}.body.", suffix=".tmp", dir=graphml_path.parent)
    os.close(fd)
    body = Path(body_name)
    try:
        if cut is not None:
            cut.update(con.execute(f"SELECT network_id, any_value(_members) FROM {names['mem']} "
                                   f"WHERE _members > {int(max_members)} GROUP BY network_id ORDER BY min(_net)"
                                   ).fetchall() if max_members else [])
        keys = _Keys()
        with contextlib.ExitStack() as stack:
            edges_tmp = stack.enter_context(atomic_path(edges_path)) if edges_path else None
            _write_body(con, names, body, edges_tmp, keys)
        head, tail = _graphml_frame(keys)
        with atomic_path(graphml_path) as tmp, open(tmp, "wb") as out, open(body, "rb") as src:
            out.write(head)
            shutil.copyfileobj(src, out, 1 << 20)
            out.write(tail)
        written = [graphml_path]
        if nodes_path:
            with atomic_path(nodes_path) as tmp, open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                w = csv.writer(fh, lineterminator="\r\n")
                w.writerow(NODE_COLS)
                for nid, attrs in _node_rows(con, names, "id"):
                    _csv_line(w, {"id": nid, **attrs}, NODE_COLS)
            written += [nodes_path]
        if edges_path:
            written += [edges_path]
    finally:
        body.unlink(missing_ok=True)
        _drop(con, names)
    return written
