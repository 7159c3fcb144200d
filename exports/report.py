"""Self-contained HTML case report per network: summary, network picture, money timeline, compound links,
members, alerts and the evidence table citing each transaction's source file and row.

No scripts, fonts, images or links to anything outside the file (investigators work offline, and a
Content-Security-Policy forbids any fetch); the network picture and the timeline are inline SVG drawn here.
Every value from the data is HTML-escaped: names and references come from hostile inputs.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal
from html import escape
from typing import Any

import networkx as nx

from rules.casework import trafficking

ROLE_COLOURS = {
    "organiser": "#7b1fa2",
    "beneficial_owner": "#6a1b9a",
    "legal_person": "#ad1457",
    "consolidator": "#c62828",
    "compound_linked": "#e65100",
    "off_ramp": "#f9a825",
    "mule": "#1565c0",
    "victim": "#2e7d32",
    "possible_trafficking_victim": "#558b2f",
    "account_holder": "#00838f",
    "counterparty": "#78909c",
    "compound": "#212121",
}
DEFAULT_COLOUR = "#90a4ae"
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI','Noto Sans','Noto Sans CJK SC','Noto Sans Thai','Noto Sans Khmer',sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;font-size:12px;width:100%} th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3} td.num{text-align:right;font-variant-numeric:tabular-nums} .muted{color:#666}
.kv{display:grid;grid-template-columns:170px 1fr 170px 1fr;gap:2px 12px;font-size:13px} .kv div:nth-child(odd){color:#555}
.legend span{display:inline-block;margin-right:14px;font-size:12px} .legend i{display:inline-block;width:11px;height:11px;border-radius:6px;margin-right:4px;vertical-align:middle}
svg{background:#fff;border:1px solid #e3e3e3;max-width:100%;height:auto} code{font-size:11px;word-break:break-all}
.wrap{overflow-x:auto;max-width:100%} td{overflow-wrap:anywhere}
"""


def e(value: Any) -> str:
    """HTML-escape anything from the data (None -> empty)."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = "; ".join("" if v is None else str(v) for v in value)
    elif isinstance(value, datetime):
        value = value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if value.tzinfo else value.isoformat()
    elif isinstance(value, Decimal):
        value = format(value.normalize(), "f")
    return escape(str(value), quote=True)


def money(value: Any) -> str:
    if value is None:
        return ""
    try:
        return f"{float(value):,.2f}"
    except (TypeError, ValueError):
        return e(value)


def short(text: Any, n: int = 22) -> str:
    s = "" if text is None else str(text)
    return s if len(s) <= n else s[: n - 1] + "…"


# --------------------------------------------------------------------------------------------- pictures


def network_svg(members: list[dict], edges: list[dict], links: list[dict], compounds: dict[str, dict],
                width: int = 960, height: int = 620, seed: int = 7) -> str:
    """Members as circles sized by rank and coloured by role, flows as arrows, compounds as squares."""
    g = nx.Graph()
    info: dict[str, dict] = {}
    max_rank = max([m.get("rank") or 0 for m in members] + [1])
    for m in members:
        nid = f"{m['member_type']}:{m['member_id']}"
        g.add_node(nid)
        info[nid] = {"label": m.get("name") or m["member_id"], "role": m.get("role") or "counterparty",
                     "rank": m.get("rank"), "shape": "circle", "id": m["member_id"]}
    for ed in edges:
        a, b = f"{ed['src_type']}:{ed['src_id']}", f"{ed['dst_type']}:{ed['dst_id']}"
        for n, i in ((a, ed["src_id"]), (b, ed["dst_id"])):
            if n not in info:
                g.add_node(n)
                info[n] = {"label": i, "role": "counterparty", "rank": None, "shape": "circle", "id": i}
        g.add_edge(a, b)
    for link in links:
        a = f"{link['subject_type']}:{link['subject_id']}"
        c = f"compound:{link['compound_id']}"
        if c not in info:
            comp = compounds.get(link["compound_id"], {})
            info[c] = {"label": comp.get("name") or link["compound_id"], "role": "compound", "rank": None,
                       "shape": "square", "id": link["compound_id"]}
            g.add_node(c)
        if a not in info:
            info[a] = {"label": link["subject_id"], "role": "compound_linked", "rank": None, "shape": "circle",
                       "id": link["subject_id"]}
            g.add_node(a)
        g.add_edge(a, c)
    if not g.number_of_nodes():
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="80"><text x="10" y="40">No members.</text></svg>'
    pos = nx.spring_layout(g, seed=seed, k=1.6 / math.sqrt(max(g.number_of_nodes(), 1)), iterations=200)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    pad = 70

    def sx(x: float) -> float:
        span = (max(xs) - min(xs)) or 1.0
        return pad + (x - min(xs)) / span * (width - 2 * pad)

    def sy(y: float) -> float:
        span = (max(ys) - min(ys)) or 1.0
        return pad + (y - min(ys)) / span * (height - 2 * pad)

    def radius(n: str) -> float:
        r = info[n].get("rank")
        if r is None:
            return 9.0
        return 9.0 + 17.0 * (1.0 - (r - 1) / max(max_rank - 1, 1))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" id="network-picture" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="network picture">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="12" markerHeight="12" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>']
    max_usd = max([float(ed["usd"]) for ed in edges if ed.get("usd") is not None] + [1.0])
    for ed in edges:
        a, b = f"{ed['src_type']}:{ed['src_id']}", f"{ed['dst_type']}:{ed['dst_id']}"
        x1, y1, x2, y2 = sx(pos[a][0]), sy(pos[a][1]), sx(pos[b][0]), sy(pos[b][1])
        dx, dy = x2 - x1, y2 - y1
        dist = math.hypot(dx, dy) or 1.0
        rb, ra = radius(b) + 2, radius(a)
        x1e, y1e = x1 + dx / dist * ra, y1 + dy / dist * ra
        x2e, y2e = x2 - dx / dist * rb, y2 - dy / dist * rb
        if ed.get("kind") == "flow":
            w = 1.2 + 5.0 * math.sqrt(float(ed.get("usd") or 0) / max_usd)
            title = f"{ed['src_id']} → {ed['dst_id']}: USD {money(ed.get('usd'))} in {ed.get('n_txns') or 0} txns"
            out.append(f'<line x1="{x1e:.1f}" y1="{y1e:.1f}" x2="{x2e:.1f}" y2="{y2e:.1f}" stroke="#555" '
                       f'stroke-width="{w:.1f}" stroke-opacity="0.75" marker-end="url(#arrow)"><title>{e(title)}</title></line>')
        else:
            title = f"{ed.get('kind')}: {ed['src_id']} – {ed['dst_id']}"
            out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#999" '
                       f'stroke-width="1.5" stroke-dasharray="5,4"><title>{e(title)}</title></line>')
    for link in links:
        a = f"{link['subject_type']}:{link['subject_id']}"
        c = f"compound:{link['compound_id']}"
        out.append(f'<line x1="{sx(pos[a][0]):.1f}" y1="{sy(pos[a][1]):.1f}" x2="{sx(pos[c][0]):.1f}" '
                   f'y2="{sy(pos[c][1]):.1f}" stroke="#e65100" stroke-width="2" stroke-dasharray="2,3">'
                   f'<title>{e(link.get("evidence_text"))}</title></line>')
    for n, (x, y) in pos.items():
        d = info[n]
        colour = ROLE_COLOURS.get(d["role"], DEFAULT_COLOUR)
        cx, cy, r = sx(x), sy(y), radius(n)
        title = f"{d['label']} ({d['id']}) – {d['role']}" + (f", rank {d['rank']}" if d.get("rank") else "")
        if d["shape"] == "square":
            out.append(f'<rect x="{cx - 13:.1f}" y="{cy - 13:.1f}" width="26" height="26" fill="{colour}">'
                       f'<title>{e(title)}</title></rect>')
        else:
            out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{colour}" stroke="#fff" '
                       f'stroke-width="1.5"><title>{e(title)}</title></circle>')
        if len(pos) > 40 and d["shape"] != "square" and (d.get("rank") is None or d["rank"] > 25):
            continue  # large pictures: label the 25 highest-ranked members and compounds; the rest on hover
        label = short(d["label"])
        out.append(f'<text x="{cx:.1f}" y="{cy + r + 13:.1f}" font-size="11" text-anchor="middle" '
                   f'fill="#222">{e(label)}</text>')
    out.append("</svg>")
    return "\n".join(out)


MAX_PICTURE_NODES = 150


def picture_subset(members: list[dict], edges: list[dict], links: list[dict], limit: int = MAX_PICTURE_NODES):
    """The highest-ranked members (and the edges among them) when a network is too large to draw legibly."""
    if len(members) <= limit:
        return members, edges, links, ""
    top = sorted(members, key=lambda m: (m.get("rank") is None, m.get("rank") or 0, m["member_id"]))[:limit]
    keep = {(m["member_type"], m["member_id"]) for m in top}
    sub_edges = [ed for ed in edges if (ed["src_type"], ed["src_id"]) in keep and (ed["dst_type"], ed["dst_id"]) in keep]
    sub_links = [l for l in links if (l["subject_type"], l["subject_id"]) in keep]
    note = (f'<p class="muted">The picture shows the {limit} highest-ranked of {len(members)} members and the '
            f"links among them; the tables below list every member and transaction.</p>")
    return top, sub_edges, sub_links, note


def legend() -> str:
    items = "".join(f'<span><i style="background:{c}"></i>{escape(r)}</span>' for r, c in ROLE_COLOURS.items())
    return f'<div class="legend">{items}<span class="muted">circle size = rank (1 largest); arrows = money flows; dashed = holder / shared identifier / compound link</span></div>'


def timeline(evidence: list[dict], width: int = 960, height: int = 220) -> tuple[str, list[tuple[str, int, float]]]:
    """USD per day as an SVG bar chart, and the same numbers as rows (day, transactions, USD)."""
    by_day: dict[str, list[float]] = defaultdict(list)
    for t in evidence:
        if t.get("booked_at") is None:
            continue
        day = t["booked_at"].astimezone(timezone.utc).strftime("%Y-%m-%d") if t["booked_at"].tzinfo else t["booked_at"].strftime("%Y-%m-%d")
        by_day[day].append(float(t.get("amount_usd") or 0))
    days = sorted(by_day)
    rows = [(d, len(by_day[d]), sum(by_day[d])) for d in days]
    if not rows:
        return "<p class='muted'>No dated evidence.</p>", rows
    peak = max(r[2] for r in rows) or 1.0
    pad_l, pad_b, pad_t = 60, 40, 16
    bw = (width - pad_l - 10) / len(rows)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="timeline" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="money per day">',
             f'<line x1="{pad_l}" y1="{height - pad_b}" x2="{width - 10}" y2="{height - pad_b}" stroke="#999"/>',
             f'<text x="4" y="{pad_t + 4}" font-size="10" fill="#555">USD {peak:,.0f}</text>']
    for i, (day, n, usd) in enumerate(rows):
        h = (height - pad_b - pad_t) * usd / peak
        x = pad_l + i * bw + bw * 0.1
        parts.append(f'<rect x="{x:.1f}" y="{height - pad_b - h:.1f}" width="{bw * 0.8:.1f}" height="{h:.1f}" '
                     f'fill="#1565c0"><title>{e(day)}: USD {usd:,.2f} in {n} transactions</title></rect>')
        if len(rows) <= 31 or i % max(len(rows) // 15, 1) == 0:
            parts.append(f'<text x="{x + bw * 0.4:.1f}" y="{height - pad_b + 14}" font-size="10" '
                         f'text-anchor="middle" fill="#333">{e(day[5:])}</text>')
    parts.append("</svg>")
    return "\n".join(parts), rows


# --------------------------------------------------------------------------------------------- page


def _reasons_with_model(alert: dict) -> list[str]:
    """The rule reasons, then the model's explanation (when not already among them) and the analyst's decision."""
    out = list(alert.get("reasons") or [])
    if alert.get("model_explanation") and alert["model_explanation"] not in out:
        out.append(alert["model_explanation"])
    if alert.get("disposition"):
        out.append(f"Analyst decision: {alert['disposition']}" + (f" by {alert['disposed_by']}" if alert.get("disposed_by") else ""))
    return out


def _table(headers: list[str], body: list[list[str]], num_cols: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    rows = []
    for r in body:
        cells = "".join(f'<td class="num">{c}</td>' if i in num_cols else f"<td>{c}</td>" for i, c in enumerate(r))
        rows.append(f"<tr>{cells}</tr>")
    if not rows:
        rows.append(f'<tr><td colspan="{len(headers)}" class="muted">none</td></tr>')
    return f"<div class=\"wrap\"><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"


def render(network: dict, members: list[dict], edges: list[dict], links: list[dict], alerts: list[dict],
           evidence: list[dict], compounds: dict[str, dict], generated_at: datetime,
           matches: list[dict] | None = None) -> str:
    nid = network["network_id"]
    summary = [
        ("Network", network.get("network_id")), ("Status", network.get("status")),
        ("Priority", f"{e(network.get('priority'))} (score {e(network.get('score'))})"),
        ("Alerts", f"{e(network.get('n_alerts'))}: {e((network.get('alert_ids') or [])[:5])}"
                   + (" … (all in the Alerts table)" if len(network.get("alert_ids") or []) > 5 else "")),
        ("Accounts / parties", f"{e(network.get('n_accounts'))} / {e(network.get('n_parties'))}"),
        ("Total USD (evidence)", money(network.get("total_usd"))),
        ("Activity", f"{e(network.get('first_activity_at'))} – {e(network.get('last_activity_at'))}"),
        ("Highest-ranked member", f"{e(network.get('top_member_type'))} {e(network.get('top_member_id'))}"),
        ("Typologies", e(network.get("typologies"))), ("Connected by", e(network.get("link_kinds"))),
        ("Jurisdictions", e(network.get("jurisdictions"))), ("Institutions", e(network.get("institutions"))),
        ("VASPs / OTC / P2P", e(network.get("vasps"))), ("Compounds", e(network.get("compound_ids"))),
        ("Legal persons", e(network.get("legal_persons"))), ("Detect run", e(network.get("run_id"))),
    ]
    kv = "".join(f"<div>{escape(k)}</div><div>{v if k in _PRE_ESCAPED else e(v)}</div>" for k, v in summary)
    pic_members, pic_edges, pic_links, pic_note = picture_subset(members, edges, links)
    svg = network_svg(pic_members, pic_edges, pic_links, compounds)
    tl_svg, tl_rows = timeline(evidence)
    member_rows = [[e(m.get("rank")), e(trafficking.LABEL if m.get("role") == trafficking.ROLE else m.get("role"))
                    + (" (designated)" if m.get("watchlist_ids") else ""), e(m.get("member_type")), f"<code>{e(m['member_id'])}</code>",
                    e(m.get("name")), e(m.get("institution")), e(m.get("country")), money(m.get("in_usd")),
                    money(m.get("out_usd")), e(m.get("compound_ids"))] for m in members]
    link_rows = [[e(l.get("compound_id")), e((compounds.get(l.get("compound_id")) or {}).get("name")),
                  f"{e(l.get('subject_type'))} <code>{e(l.get('subject_id'))}</code>", e(l.get("link_kind")),
                  f"{float(l['confidence']):.2f}" if l.get("confidence") is not None else "",
                  e(l.get("evidence_text")), f"<code>{e(_json_text(l.get('evidence')))}</code>",
                  e(l.get("first_seen_at")), e(l.get("n_facts"))] for l in links]
    alert_rows = [[f"<code>{e(a['alert_id'])}</code>", e(a.get("status")), e(a.get("typology_id")),
                   f"{e(a.get('subject_type'))} <code>{e(a.get('subject_id'))}</code> {e(a.get('subject_name'))}",
                   e(a.get("score")), e(a.get("priority")), money(a.get("total_usd")),
                   "<br>".join(e(r) for r in _reasons_with_model(a))] for a in alerts]
    ev_rows = [[f"<code>{e(t.get('txn_id'))}</code>", e(t.get("booked_at")), f"<code>{e(t.get('from_account_id'))}</code> {e(t.get('from_name'))}",
                f"<code>{e(t.get('to_account_id'))}</code> {e(t.get('to_name'))}", e(t.get("amount")), e(t.get("currency")),
                money(t.get("amount_usd")), e(t.get("channel")), e(t.get("roles")), e(t.get("reference")),
                e(t.get("source")), f"<code>{e(t.get('source_txn_id'))}</code>",
                f"<code>{e(t.get('source_path'))}</code>", e(t.get("row_no")),
                f"<code title=\"{e(t.get('file_id'))}\">{e(short(t.get('file_id'), 17))}</code>"] for t in evidence]
    day_rows = [[e(d), str(n), money(u)] for d, n, u in tl_rows]
    match_rows = [[f"{e(w.get('subject_type'))} <code>{e(w.get('subject_id'))}</code> {e(w.get('subject_name'))}",
                   e(w.get("list_name")), f"<code>{e(w.get('entity_id'))}</code> {e(w.get('entity_name'))}",
                   e(w.get("programs")), e(w.get("listed_at")), f"{float(w['score']):.2f}", e(w.get("features")),
                   e(w.get("evidence_text"))] for w in matches or []]
    victims_section = ("<h2>Possible victims of trafficking</h2>\n<p>These members are kept apart from the suspects "
                       "(ranked below them, never as organisers).</p>\n<ul class=\"trafficking\">"
                       + "".join(f"<li>{e(t)}</li>" for t in trafficking.member_sentences(members)) + "</ul>"
                       if any(trafficking.is_trafficked(m) for m in members) else "")
    listed_section = (f"""<h2>Designated members (watch-list matches)</h2>
<p>A member matched to a sanctions or watch list ranks first in this network. Confirm each match on the list's own
entry before acting on it.</p>
{_table(["member", "list", "listed entity", "programmes", "listed on", "score", "agreed", "evidence"], match_rows)}"""
                      if match_rows else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="referrer" content="no-referrer">
<title>Case report {e(nid)}</title><style>{CSS}</style></head>
<body>
<h1>Case report: network {e(nid)}</h1>
<p class="muted">Generated {e(generated_at)} by scamtrace. Every transaction below cites its source file and row.</p>
<h2>Summary</h2><div class="kv">{kv}</div>
<h2>Network picture</h2>{legend()}{pic_note}
{svg}
<h2>Timeline of the money</h2>
{tl_svg}
{_table(["day", "transactions", "USD"], day_rows, {1, 2})}
{listed_section}
{victims_section}
<h2>Compound links</h2>
{_table(["compound", "name", "subject", "kind", "confidence", "evidence", "facts", "first seen", "n facts"], link_rows)}
<h2>Members</h2>
{_table(["rank", "role", "type", "id", "name", "institution", "country", "in USD", "out USD", "compounds"], member_rows, {7, 8})}
<h2>Alerts</h2>
{_table(["alert", "status", "typology", "subject", "score", "priority", "USD", "reasons"], alert_rows, {6})}
<h2>Evidence</h2>
{_table(["txn_id", "booked (UTC)", "from", "to", "amount", "currency", "USD", "channel", "roles", "reference", "source", "source txn id", "source file", "row", "file sha256"], ev_rows, {4, 6, 13})}
</body></html>
"""


_PRE_ESCAPED = {"Alerts", "Activity", "Highest-ranked member", "Typologies", "Connected by", "Jurisdictions",
                "Institutions", "VASPs / OTC / P2P", "Compounds", "Legal persons", "Detect run", "Total USD (evidence)",
                "Accounts / parties", "Priority"}


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def index_page(entries: list[tuple[str, str, dict]], generated_at: datetime) -> str:
    """report/index.html: one line per network report (relative links only)."""
    rows = [[f'<a href="{escape(href, quote=True)}">{e(n.get("network_id"))}</a>', e(n.get("priority")),
             e(n.get("status")), e(n.get("n_alerts")), money(n.get("total_usd")), e(n.get("jurisdictions")),
             e(n.get("compound_ids"))] for _, href, n in entries]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>scamtrace case reports</title><style>{CSS}</style></head><body>
<h1>Case reports</h1><p class="muted">Generated {e(generated_at)}.</p>
{_table(["network", "priority", "status", "alerts", "USD", "jurisdictions", "compounds"], rows, {4})}
</body></html>
"""
