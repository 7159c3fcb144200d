"""What the workbench pages read from the serving snapshot (DuckDB, read-only), joined with the case states.

Case states (status, assignee, due date) come from the case store as a small Arrow table registered on the cursor:
only touched cases have a row, an untouched alert is `new`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pyarrow as pa

from transforms.store import has_table
from workbench.casestore import utc

OPEN = ("new", "in_review", "escalated")
AGES = {"lt1": "created_at >= now() - INTERVAL 1 DAY", "lt7": "created_at >= now() - INTERVAL 7 DAY",
        "gt7": "created_at < now() - INTERVAL 7 DAY", "gt30": "created_at < now() - INTERVAL 30 DAY"}
PAGE = 50
MAX_PAGE = 500

CASE_SCHEMA = pa.schema([("case_id", pa.string()), ("wf_status", pa.string()), ("assignee", pa.string()),
                         ("due_at", pa.timestamp("us", "UTC")), ("decided_by", pa.string()),
                         ("approved_by", pa.string())])


def case_table(rows: list[dict]) -> pa.Table:
    return pa.table({"case_id": [r["case_id"] for r in rows], "wf_status": [r["status"] for r in rows],
                     "assignee": [r["assignee"] for r in rows], "due_at": [utc(r["due_at"]) for r in rows],
                     "decided_by": [r["decided_by"] for r in rows], "approved_by": [r["approved_by"] for r in rows]},
                    schema=CASE_SCHEMA)


@dataclass
class QueueFilter:
    status: list[str] = field(default_factory=lambda: list(OPEN))
    priority: str | None = None
    typology: str | None = None
    compound: str | None = None
    jurisdiction: str | None = None
    assignee: str | None = None
    age: str | None = None
    limit: int = PAGE
    offset: int = 0

    def where(self) -> tuple[str, list]:
        clauses, params = ["a.status <> 'suppressed' OR c.wf_status IS NOT NULL"], []
        if self.status:
            clauses.append(f"coalesce(c.wf_status, 'new') IN ({', '.join('?' for _ in self.status)})")
            params += self.status
        if self.priority:
            clauses.append("a.priority = ?")
            params.append(self.priority)
        if self.typology:
            clauses.append("(a.typology_id = ? OR list_contains(a.typologies, ?))")
            params += [self.typology, self.typology]
        if self.compound:
            clauses.append("list_contains(a.compound_ids, ?)")
            params.append(self.compound)
        if self.jurisdiction:
            clauses.append("a.country = ?")
            params.append(self.jurisdiction.upper())
        if self.assignee == "-":
            clauses.append("c.assignee IS NULL")
        elif self.assignee:
            clauses.append("c.assignee = ?")
            params.append(self.assignee)
        if self.age in AGES:
            clauses.append("a." + AGES[self.age])
        return " AND ".join(f"({c})" for c in clauses), params


QUEUE_COLUMNS = """a.alert_id, a.subject_type, a.subject_id, a.subject_name, a.typology_id, a.priority, a.priority_score,
       a.score, a.model_score, a.total_usd, a.n_transactions, a.country, a.network_id, a.compound_ids, a.created_at,
       a.last_activity_at, a.status AS alert_status, coalesce(c.wf_status, 'new') AS status, c.assignee, c.due_at,
       c.due_at IS NOT NULL AND c.due_at < now() AND coalesce(c.wf_status, 'new') IN ('new', 'in_review', 'escalated') AS overdue"""


def queue(cur: duckdb.DuckDBPyConnection, cases: pa.Table, f: QueueFilter) -> tuple[list[dict], int]:
    cur.register("_cases", cases)
    where, params = f.where()
    base = f"FROM alerts a LEFT JOIN _cases c ON c.case_id = a.alert_id WHERE {where}"
    total = _scalar(cur, f"SELECT count(*) {base}", params)
    rows = _dicts(cur.execute(
        f"SELECT {QUEUE_COLUMNS} {base} ORDER BY a.priority_score DESC NULLS LAST, a.alert_id LIMIT ? OFFSET ?",
        [*params, min(max(f.limit, 1), MAX_PAGE), max(f.offset, 0)]))
    return rows, int(total)


def next_candidates(cur: duckdb.DuckDBPyConnection, cases: pa.Table, limit: int = 200) -> list[tuple[str, str, str]]:
    """Unassigned open alerts, highest priority first: what "next alert" tries to lock."""
    cur.register("_cases", cases)
    return [(r[0], "alert", r[1]) for r in cur.execute(
        """SELECT a.alert_id, a.subject_id FROM alerts a LEFT JOIN _cases c ON c.case_id = a.alert_id
           WHERE a.status <> 'suppressed' AND coalesce(c.wf_status, 'new') = 'new' AND c.assignee IS NULL
           ORDER BY a.priority_score DESC NULLS LAST, a.alert_id LIMIT ?""", [limit]).fetchall()]


def facets(cur: duckdb.DuckDBPyConnection) -> dict:
    """Values for the queue's filter menus."""
    return {
        "typologies": [r[0] for r in cur.execute("SELECT DISTINCT typology_id FROM alerts ORDER BY 1").fetchall()],
        "compounds": [r[0] for r in cur.execute(
            "SELECT DISTINCT unnest(compound_ids) FROM alerts ORDER BY 1").fetchall() if r[0]],
        "jurisdictions": [r[0] for r in cur.execute(
            "SELECT DISTINCT country FROM alerts WHERE country IS NOT NULL ORDER BY 1").fetchall()],
    }


def _dicts(res) -> list[dict]:
    cols = [d[0] for d in res.description]
    return [dict(zip(cols, r)) for r in res.fetchall()]


def _scalar(cur, sql: str, params: list):
    row = cur.execute(sql, params).fetchone()
    return row[0] if row else None


def alert(cur: duckdb.DuckDBPyConnection, alert_id: str) -> dict | None:
    rows = _dicts(cur.execute("SELECT * FROM alerts WHERE alert_id = ?", [alert_id]))
    return rows[0] if rows else None


def rule_values(cur: duckdb.DuckDBPyConnection, a: dict) -> list[dict]:
    if not has_table(cur, "rule_hits"):
        return []
    return _dicts(cur.execute(
        """SELECT rule_id, measured_value, band, score, reason, window_start, window_end FROM rule_hits
           WHERE run_id = ? AND subject_id = ? AND list_contains(?, rule_id) ORDER BY score DESC, rule_id""",
        [a["run_id"], a["subject_id"], list(a["rule_ids"] or [])]))


def evidence(cur: duckdb.DuckDBPyConnection, alert_id: str, limit: int = 1000) -> tuple[list[dict], int]:
    total = _scalar(cur, "SELECT count(*) FROM alert_evidence WHERE alert_id = ?", [alert_id])
    rows = _dicts(cur.execute(
        """SELECT e.txn_id, e.role, e.direction, e.counterparty_id, e.amount_usd, e.booked_at, e.rule_ids,
                  t.amount, t.currency, t.from_account_id, t.to_account_id, t.source, t.row_no, f.path AS source_file
           FROM alert_evidence e LEFT JOIN transactions t USING (txn_id) LEFT JOIN ingested_files f ON f.file_id = t.file_id
           WHERE e.alert_id = ? ORDER BY e.booked_at, e.txn_id LIMIT ?""", [alert_id, limit]))
    return rows, int(total)


def network(cur: duckdb.DuckDBPyConnection, network_id: str) -> dict | None:
    rows = _dicts(cur.execute("SELECT * FROM networks WHERE network_id = ?", [network_id]))
    return rows[0] if rows else None


def members(cur: duckdb.DuckDBPyConnection, network_id: str, limit: int = 500) -> list[dict]:
    return _dicts(cur.execute(
        "SELECT * FROM network_members WHERE network_id = ? ORDER BY rank, member_id LIMIT ?", [network_id, limit]))


def trafficked_members(cur: duckdb.DuckDBPyConnection, network_id: str) -> list[dict]:
    """Every possible trafficking victim of a network (members() stops at its limit, and they rank last)."""
    from rules.casework.trafficking import ROLE

    return _dicts(cur.execute("SELECT * FROM network_members WHERE network_id = ? AND list_contains(roles, ?)"
                              " ORDER BY rank, member_id", [network_id, ROLE]))


def compound_links(cur: duckdb.DuckDBPyConnection, subject_ids: list[str]) -> list[dict]:
    if not subject_ids or not has_table(cur, "compound_links"):
        return []
    return _dicts(cur.execute(
        """SELECT compound_id, subject_type, subject_id, link_kind, evidence_text, confidence, first_seen_at, last_seen_at
           FROM compound_links WHERE list_contains(?, subject_id) ORDER BY confidence DESC, compound_id""",
        [subject_ids]))


def watchlist_matches(cur: duckdb.DuckDBPyConnection, subject_ids: list[str]) -> list[dict]:
    """Watch-list matches of these subjects (rules/screening), best first."""
    if not subject_ids or not has_table(cur, "watchlist_matches"):
        return []
    return _dicts(cur.execute(
        """SELECT subject_type, subject_id, subject_name, list_name, entity_id, entity_name, programs, listed_at, score,
                  features, conflicts, evidence_text
           FROM watchlist_matches WHERE list_contains(?, subject_id) ORDER BY score DESC, subject_id, entity_id""",
        [subject_ids]))


def graph(cur: duckdb.DuckDBPyConnection, network_id: str, max_members: int = 300) -> dict:
    """Nodes and edges for the network view (best-ranked members when the network is large)."""
    ms = members(cur, network_id, max_members)
    keep = {(m["member_type"], m["member_id"]) for m in ms}
    nodes = [{"id": f"{m['member_type']}:{m['member_id']}", "member_id": m["member_id"], "type": m["member_type"],
              "label": m["name"] or m["member_id"], "role": m["role"], "rank": m["rank"],
              "alerted": bool(m["is_alerted"]), "compounds": list(m["compound_ids"] or [])} for m in ms]
    edges = []
    for e in _dicts(cur.execute(
            "SELECT src_type, src_id, dst_type, dst_id, kind, usd, n_txns FROM network_edges WHERE network_id = ?",
            [network_id])):
        if (e["src_type"], e["src_id"]) in keep and (e["dst_type"], e["dst_id"]) in keep:
            edges.append({"source": f"{e['src_type']}:{e['src_id']}", "target": f"{e['dst_type']}:{e['dst_id']}",
                          "kind": e["kind"], "usd": float(e["usd"]) if e["usd"] is not None else None,
                          "n_txns": e["n_txns"]})
    return {"nodes": nodes, "edges": edges}


def account(cur: duckdb.DuckDBPyConnection, account_id: str) -> dict:
    """An account or party: KYC, identifiers, alerts, networks and recent transactions."""
    acc = _dicts(cur.execute("SELECT * FROM accounts WHERE account_id = ?", [account_id])) if has_table(cur, "accounts") else []
    holder_id = acc[0]["holder_id"] if acc else None
    party_ids = [p for p in (holder_id, account_id) if p]
    parties = _dicts(cur.execute("SELECT * FROM parties WHERE list_contains(?, party_id)", [party_ids])) if has_table(cur, "parties") else []
    idents = []
    if has_table(cur, "events"):
        idents = _dicts(cur.execute(
            """SELECT kind, ip, device_id, phone, min(occurred_at) AS first_at, max(occurred_at) AS last_at, count(*) AS n
               FROM events WHERE account_id = ? OR list_contains(?, party_id) GROUP BY ALL ORDER BY last_at DESC LIMIT 100""",
            [account_id, party_ids]))
    alerts = _dicts(cur.execute(
        """SELECT alert_id, typology_id, priority, status, subject_id = ? AS is_subject FROM alerts
           WHERE subject_id = ? OR list_contains(member_ids, ?) OR list_contains(?, subject_id)
           ORDER BY priority_score DESC LIMIT 200""", [account_id, account_id, account_id, party_ids]))
    networks = _dicts(cur.execute(
        """SELECT m.network_id, m.role, m.rank, n.n_accounts, n.priority FROM network_members m
           JOIN networks n USING (network_id) WHERE m.member_id = ? OR list_contains(?, m.member_id) ORDER BY m.rank""",
        [account_id, party_ids]))
    txns = _dicts(cur.execute(
        """SELECT t.txn_id, t.booked_at, t.from_account_id, t.to_account_id, t.amount, t.currency, t.amount_usd,
                  t.source, t.row_no, f.path AS source_file
           FROM transactions t LEFT JOIN ingested_files f ON f.file_id = t.file_id
           WHERE t.from_account_id = ? OR t.to_account_id = ? ORDER BY t.booked_at DESC LIMIT 200""",
        [account_id, account_id]))
    return {"account_id": account_id, "account": acc[0] if acc else None, "parties": parties, "identifiers": idents,
            "alerts": alerts, "networks": networks, "transactions": txns}


def search(cur: duckdb.DuckDBPyConnection, q: str, limit: int = 50) -> list[dict]:
    """Accounts, wallets, names, phones, alert and network ids matching q (ids exactly or by prefix, names and
    phones by substring, case-insensitively)."""
    q = q.strip()
    if not q:
        return []
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    prefix = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    hits: list[dict] = []
    hits += _dicts(cur.execute("SELECT 'alert' AS kind, alert_id AS id, subject_name AS label FROM alerts "
                               "WHERE alert_id ILIKE ? ESCAPE '\\' OR subject_name ILIKE ? ESCAPE '\\' "
                               "OR subject_id ILIKE ? ESCAPE '\\' LIMIT ?", [prefix, like, like, limit]))
    hits += _dicts(cur.execute("SELECT 'network' AS kind, network_id AS id, top_member_id AS label FROM networks "
                               "WHERE network_id ILIKE ? ESCAPE '\\' LIMIT ?", [prefix, limit]))
    accounts_sql = ("SELECT DISTINCT 'account' AS kind, member_id AS id, name AS label FROM network_members "
                    "WHERE member_type = 'account' AND (member_id ILIKE ? ESCAPE '\\' OR name ILIKE ? ESCAPE '\\')")
    hits += _dicts(cur.execute(accounts_sql + " LIMIT ?", [like, like, limit]))
    if has_table(cur, "accounts"):
        hits += _dicts(cur.execute("SELECT 'account' AS kind, account_id AS id, label FROM accounts "
                                   "WHERE account_id ILIKE ? ESCAPE '\\' LIMIT ?", [like, limit]))
    if has_table(cur, "parties"):
        hits += _dicts(cur.execute(
            """SELECT 'party' AS kind, party_id AS id, name AS label FROM parties
               WHERE name ILIKE ? ESCAPE '\\' OR phone ILIKE ? ESCAPE '\\' OR email ILIKE ? ESCAPE '\\'
                  OR id_number ILIKE ? ESCAPE '\\' OR party_id ILIKE ? ESCAPE '\\' LIMIT ?""",
            [like, like, like, like, like, limit]))
    if has_table(cur, "events"):
        hits += _dicts(cur.execute(
            "SELECT DISTINCT 'account' AS kind, account_id AS id, phone AS label FROM events "
            "WHERE phone ILIKE ? ESCAPE '\\' AND account_id IS NOT NULL LIMIT ?", [like, limit]))
    seen, out = set(), []
    for h in hits:
        key = (h["kind"], h["id"])
        if key not in seen and h["id"]:
            seen.add(key)
            out.append(h)
    return out[:limit]


def iso(value) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value
