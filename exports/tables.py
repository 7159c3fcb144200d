"""Select what to export (filters) and write tables as CSV, XLSX, Parquet and JSON lines.

Reads only the casework tables (rules/alert_tables.py) and the canonical ones (transforms/schema.py).
Every query takes its values as parameters; ids never reach SQL text or file names unescaped.
"""

from __future__ import annotations

import uuid
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable, Iterator, Sequence

import duckdb
import pyarrow as pa
import pyarrow.ipc  # noqa: F401  (pa.ipc)

from rules.casework import trafficking


TABLE_FORMATS = ("csv", "xlsx", "parquet", "jsonl")
# Rows per Arrow batch read from DuckDB and written out: what a table costs in memory at any time.
BATCH_ROWS = 10_000


# --------------------------------------------------------------------------------------------- frames


@dataclass
class Frame:
    """A query result: an Arrow table (for Parquet) plus its rows as dicts (for the text formats)."""

    table: pa.Table
    json_cols: frozenset[str] = frozenset()

    @property
    def columns(self) -> list[str]:
        return self.table.column_names

    @property
    def rows(self) -> list[dict]:
        if not hasattr(self, "_rows"):
            self._rows = self.table.to_pylist()
        return self._rows

    def __len__(self) -> int:
        return self.table.num_rows


def query(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | dict | None = None) -> Frame:
    cur = con.execute(sql, params or [])
    json_cols = frozenset(d[0] for d in cur.description if str(d[1]) == "JSON")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DuckDB warns that DB-API Arrow output copies: fine at export sizes
        table = cur.to_arrow_table()
    return Frame(table, json_cols)


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | dict | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = 'main'", [name]
        ).fetchall()[0][0]
    )


# --------------------------------------------------------------------------------------------- filters


def _as_list(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    else:
        items = [str(v).strip() for v in value]
    items = [v for v in items if v]
    return items or None


def _as_ts(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    text = str(value).strip()
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass
class Filters:
    """What to export. Lists accept a comma-separated string or an iterable; None means no filter.

    status: alert status (new, updated, unchanged); min_score: alerts.priority_score (0..1, comparable
    across typologies); typology: the alert's typology_id or any of its typologies; network: network_id;
    jurisdiction: ISO country of the alert's subject or among its network's jurisdictions; since / until:
    the alert's evidence activity window overlaps [since, until).
    """

    status: list[str] | None = None
    min_score: float | None = None
    typology: list[str] | None = None
    network: list[str] | None = None
    jurisdiction: list[str] | None = None
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def make(cls, *, status=None, min_score=None, typology=None, network=None, jurisdiction=None, since=None,
             until=None) -> "Filters":
        juris = _as_list(jurisdiction)
        return cls(
            status=_as_list(status),
            min_score=None if min_score is None else float(min_score),
            typology=_as_list(typology),
            network=_as_list(network),
            jurisdiction=[j.upper() for j in juris] if juris else None,
            since=_as_ts(since),
            until=_as_ts(until),
        )

    def is_empty(self) -> bool:
        return all(v is None for v in (self.status, self.min_score, self.typology, self.network, self.jurisdiction,
                                       self.since, self.until))

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}


@dataclass
class Selection:
    """The selected ids, also held in connection-local temp tables that the export's queries join on.

    alerts_table (alert_id, network_id, ord) and networks_table (network_id, ord): ord is the export order,
    so a chunk of alerts is a range of ord. The ids never go into SQL text, only the generated table names.
    evidence_table and network_evidence_table (with_evidence) hold the evidence rows already joined with their
    transactions: the transactions table is scanned once per export, not once per table, chunk or network.
    """

    alert_ids: list[str]
    network_ids: list[str]
    filters: Filters = field(default_factory=Filters)
    alerts_table: str = ""
    networks_table: str = ""
    evidence_table: str = ""
    network_evidence_table: str = ""

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        for name in (self.alerts_table, self.networks_table, self.evidence_table, self.network_evidence_table):
            if name:
                con.execute(f"DROP TABLE IF EXISTS temp.{name}")


def _temp_name(kind: str) -> str:
    return f"_export_{kind}_{uuid.uuid4().hex}"


def _ids_table(con: duckdb.DuckDBPyConnection, name: str, ids: list[str]) -> None:
    """A temp table (network_id, ord) from a Python list, passed as Arrow data (never as SQL text)."""
    data = pa.table({"network_id": pa.array(ids, pa.string()), "ord": pa.array(range(len(ids)), pa.int64())})
    view = f"{name}_src"
    con.register(view, data)
    try:
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT network_id, ord FROM {view}")
    finally:
        con.unregister(view)


def select(con: duckdb.DuckDBPyConnection, filters: Filters) -> Selection:
    """Alert ids matching the filters, and the networks they belong to (call .drop(con) when done)."""
    where, params = ["TRUE"], []
    if filters.status:
        where.append("list_contains(?::VARCHAR[], a.status)")
        params.append(filters.status)
    if filters.min_score is not None:
        where.append("coalesce(a.priority_score, 0) >= ?")
        params.append(filters.min_score)
    if filters.typology:
        where.append("(list_contains(?::VARCHAR[], a.typology_id) OR len(list_intersect(?::VARCHAR[], coalesce(a.typologies, []))) > 0)")
        params += [filters.typology, filters.typology]
    if filters.network:
        where.append("list_contains(?::VARCHAR[], a.network_id)")
        params.append(filters.network)
    if filters.jurisdiction:
        where.append("(list_contains(?::VARCHAR[], upper(a.country)) OR len(list_intersect(?::VARCHAR[], coalesce(n.jurisdictions, []))) > 0)")
        params += [filters.jurisdiction, filters.jurisdiction]
    if filters.since is not None:
        where.append("coalesce(a.last_activity_at, a.updated_at) >= ?")
        params.append(filters.since)
    if filters.until is not None:
        where.append("coalesce(a.first_activity_at, a.updated_at) < ?")
        params.append(filters.until)
    alerts_table, networks_table = _temp_name("alerts"), _temp_name("networks")
    con.execute(f"""
        CREATE TEMP TABLE {alerts_table} AS
        SELECT a.alert_id, a.network_id,
               row_number() OVER (ORDER BY a.priority_score DESC NULLS LAST, a.alert_id) - 1 AS ord
        FROM alerts a LEFT JOIN networks n ON n.network_id = a.network_id
        WHERE {' AND '.join(where)}""", params)
    try:
        alert_ids = [r[0] for r in con.execute(f"SELECT alert_id FROM {alerts_table} ORDER BY ord").fetchall()]
        found = {r[0] for r in con.execute(f"SELECT DISTINCT network_id FROM {alerts_table} WHERE network_id IS NOT NULL").fetchall()}
        if filters.is_empty():
            # Everything: current networks too, even one whose alerts were all filtered to nothing.
            extra = con.execute("SELECT network_id FROM networks WHERE is_current IS NOT FALSE").fetchall()
            found |= {r[0] for r in extra if r[0]}
        elif filters.network:
            found &= set(filters.network)
        network_ids = sorted(found)
        _ids_table(con, networks_table, network_ids)
    except BaseException:
        con.execute(f"DROP TABLE IF EXISTS temp.{alerts_table}")
        raise
    return Selection(alert_ids, network_ids, filters, alerts_table, networks_table)


# --------------------------------------------------------------------------------------------- queries

# Source file of a row: ingested_files may hold one row per (file, target table): take one path per file_id.
_FILES = "(SELECT file_id, min(path) AS path FROM ingested_files GROUP BY file_id)"

EVIDENCE_COLUMNS = """
    e.alert_id, e.txn_id, t.source, t.source_txn_id, e.role, e.direction, e.counterparty_id,
    t.booked_at, t.from_account_id, t.to_account_id, t.from_name, t.to_name,
    t.from_institution, t.to_institution, t.from_country, t.to_country,
    t.amount, t.currency, t.amount_usd, t.channel, t.reference, t.rail,
    t.chain, t.tx_hash, t.block_number, t.token_contract, e.rule_ids,
    t.file_id, f.path AS source_path, t.row_no
"""


@dataclass(frozen=True)
class Query:
    """SQL over the selection's temp tables with its parameters; run whole (frame) or in batches (stream)."""

    sql: str
    params: tuple = ()


def _range(column: str, lo: int | None, hi: int | None) -> tuple[str, tuple]:
    """An ord range [lo, hi) as SQL with parameters (no range: everything)."""
    if lo is None:
        return "TRUE", ()
    return f"{column} >= ? AND {column} < ?", (lo, hi)


def alerts_query(sel: Selection, lo: int | None = None, hi: int | None = None) -> Query:
    """The alerts, with the subject's role in its network and, for a possible trafficking victim, the caution
    every export carries (rules/casework/trafficking.py)."""
    cond, params = _range("s.ord", lo, hi)
    return Query(f"""
        SELECT a.*, m.role AS subject_role,
               CASE WHEN m.role = ? THEN 'Possible victim of trafficking forced into crime: '
                    || array_to_string(coalesce(m.trafficking_facts, []), '; ') || '. ' || ? END AS caution
        FROM alerts a JOIN {sel.alerts_table} s ON s.alert_id = a.alert_id
        LEFT JOIN network_members m ON m.network_id = a.network_id AND m.member_type = a.subject_type
                                   AND m.member_id = a.subject_id
        WHERE {cond}
        ORDER BY a.priority_score DESC NULLS LAST, a.alert_id""", (trafficking.ROLE, trafficking.NON_PUNISHMENT, *params))


def _period(con: duckdb.DuckDBPyConnection, source_sql: str) -> tuple[str, list]:
    """A filter on transactions.booked_at covering the booked_at values of source_sql's rows (TRUE when one
    is missing). alert_evidence.booked_at is the transaction's (casework copies it), and the range lets DuckDB
    skip the transactions table's row groups outside the evidence's period: a day's export reads days."""
    lo, hi, undated = con.execute(f"""
        SELECT min(booked_at), max(booked_at), count(*) FILTER (WHERE booked_at IS NULL)
        FROM ({source_sql})""").fetchall()[0]
    if lo is None or undated:
        return "TRUE", []
    return "booked_at BETWEEN ? AND ?", [lo, hi]


def with_evidence(con: duckdb.DuckDBPyConnection, sel: Selection, *, networks: bool = False) -> Selection:
    """Join the selection's evidence with its transactions once, into temp tables (see Selection).

    networks: also the evidence of every alert of the selected networks (the case reports, goAML per network
    and jurisdiction packages of a full export use it). Queries below read these tables."""
    if not sel.evidence_table:
        name = _temp_name("evidence")
        source = f"SELECT e.* FROM alert_evidence e JOIN {sel.alerts_table} s ON s.alert_id = e.alert_id"
        period, params = _period(con, source)
        con.execute(f"""
            CREATE TEMP TABLE {name} AS
            SELECT s.ord AS _ord, {EVIDENCE_COLUMNS}
            FROM alert_evidence e
            JOIN {sel.alerts_table} s ON s.alert_id = e.alert_id
            LEFT JOIN (SELECT * FROM transactions WHERE {period}) t ON t.txn_id = e.txn_id
            LEFT JOIN {_FILES} f ON f.file_id = t.file_id""", params)
        sel.evidence_table = name
    if networks and not sel.network_evidence_table:
        name = _temp_name("network_evidence")
        source = f"""
            SELECT a.network_id, e.* FROM alert_evidence e JOIN alerts a ON a.alert_id = e.alert_id
            WHERE a.network_id IN (SELECT network_id FROM {sel.networks_table})"""
        period, params = _period(con, source)
        con.execute(f"""
            CREATE TEMP TABLE {name} AS
            WITH ev AS (
                SELECT network_id, txn_id, list(DISTINCT alert_id ORDER BY alert_id) AS alert_ids,
                       list(DISTINCT role ORDER BY role) AS roles
                FROM ({source}) GROUP BY network_id, txn_id
            )
            SELECT ev.network_id, ev.txn_id, ev.alert_ids, ev.roles, t.source, t.source_txn_id, t.booked_at,
                   t.from_account_id, t.to_account_id, t.from_name, t.to_name, t.from_institution, t.to_institution,
                   t.from_country, t.to_country, t.amount, t.currency, t.amount_usd, t.channel, t.reference, t.rail,
                   t.chain, t.tx_hash, t.block_number, t.token_contract, t.value_date,
                   t.file_id, f.path AS source_path, t.row_no
            FROM ev LEFT JOIN (SELECT * FROM transactions WHERE {period}) t ON t.txn_id = ev.txn_id
            LEFT JOIN {_FILES} f ON f.file_id = t.file_id""", params)
        sel.network_evidence_table = name
    return sel


def _needs(table: str, what: str) -> str:
    if not table:
        raise ValueError(f"{what}: call with_evidence(con, selection) first")
    return table


def evidence_counts(con: duckdb.DuckDBPyConnection, sel: Selection) -> list[int]:
    """Evidence rows of each selected alert, by export order (ord)."""
    table = _needs(sel.evidence_table, "evidence_counts")
    counts = [0] * len(sel.alert_ids)
    for ord_, n in con.execute(f"SELECT _ord, count(*) FROM {table} GROUP BY _ord").fetchall():
        counts[ord_] = n
    return counts


def alert_transactions_query(sel: Selection, lo: int | None = None, hi: int | None = None) -> Query:
    cond, params = _range("_ord", lo, hi)
    table = _needs(sel.evidence_table, "alert_transactions_query")
    return Query(f"""
        SELECT * EXCLUDE (_ord) FROM {table}
        WHERE {cond}
        ORDER BY alert_id, booked_at, txn_id""", params)


def capped_evidence(con: duckdb.DuckDBPyConnection, sel: Selection, lo: int, hi: int,
                    cap: int) -> tuple[list[dict], dict[str, dict]]:
    """The evidence rows of the alerts in [lo, hi) for goAML reports that hold at most `cap` transactions.

    An alert with more than `cap` evidence rows gets only the rows of its `cap` largest transactions (by USD,
    then txn_id: goaml.cap_transactions' choice), plus facts about all of them: n_rows, n_txns, total_usd and
    roles (counterparty -> the role of its first evidence row). A year's top alerts hold thousands of rows
    each, and fetching them all into Python cost more than the reports. Rows in alert_transactions_query's order."""
    table = _needs(sel.evidence_table, "capped_evidence")
    cond, params = _range("_ord", lo, hi)
    name = _temp_name("goaml_heavy")
    con.execute(f"""
        CREATE TEMP TABLE {name} AS
        SELECT alert_id, count(*) AS n_rows FROM {table} WHERE {cond} GROUP BY alert_id HAVING count(*) > ?""",
                [*params, cap])
    try:
        heavy = f"(SELECT alert_id FROM {name})"
        txns = f"""
            SELECT DISTINCT alert_id, txn_id, coalesce(amount_usd, 0) AS usd FROM {table}
            WHERE {cond} AND alert_id IN {heavy} AND txn_id <> '' AND booked_at IS NOT NULL"""
        rows_ = query(con, f"""
            WITH kept AS (
                SELECT alert_id, txn_id FROM ({txns})
                QUALIFY row_number() OVER (PARTITION BY alert_id ORDER BY usd DESC, txn_id) <= ?
            )
            SELECT * EXCLUDE (_ord) FROM {table}
            WHERE {cond} AND (alert_id NOT IN {heavy} OR (alert_id, txn_id) IN (SELECT (alert_id, txn_id) FROM kept))
            ORDER BY alert_id, booked_at, txn_id""", [*params, cap, *params]).rows
        facts: dict[str, dict] = {a: {"n_rows": n, "n_txns": 0, "total_usd": Decimal(0), "roles": {}}
                                  for a, n in con.execute(f"SELECT alert_id, n_rows FROM {name}").fetchall()}
        for a, n, usd in con.execute(f"SELECT alert_id, count(*), sum(usd) FROM ({txns}) GROUP BY alert_id",
                                     list(params)).fetchall():
            facts[a].update(n_txns=n, total_usd=usd)
        for a, cp, role in con.execute(f"""
                SELECT alert_id, counterparty_id, first(role ORDER BY booked_at, txn_id) FROM {table}
                WHERE {cond} AND alert_id IN {heavy} AND counterparty_id <> '' AND role <> ''
                GROUP BY ALL""", list(params)).fetchall():
            facts[a]["roles"][cp] = role
    finally:
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")
    return rows_, facts


def network_alerts_query(sel: Selection, network_id: str) -> Query:
    """The selected alerts of one network, in export order."""
    return Query(f"""
        SELECT a.* FROM alerts a JOIN {sel.alerts_table} s ON s.alert_id = a.alert_id
        WHERE s.network_id = ?
        ORDER BY a.priority_score DESC NULLS LAST, a.alert_id""", (network_id,))


def _networks_cond(sel: Selection, column: str, network_id: str | None) -> tuple[str, tuple]:
    """Rows of every selected network, or of one of them."""
    if network_id is None:
        return f"{column} IN (SELECT network_id FROM {sel.networks_table})", ()
    return f"{column} = ?", (network_id,)


def networks_query(sel: Selection) -> Query:
    cond, params = _networks_cond(sel, "network_id", None)
    return Query(f"SELECT * FROM networks WHERE {cond} ORDER BY score DESC NULLS LAST, network_id", params)


def network_members_query(sel: Selection, network_id: str | None = None) -> Query:
    cond, params = _networks_cond(sel, "network_id", network_id)
    return Query(f"""
        SELECT * FROM network_members WHERE {cond}
        ORDER BY network_id, rank NULLS LAST, member_type, member_id""", params)


# The order of a network's edges in every export. Two edges can share kind and ends (two shared IPs of the same
# pair of accounts): the rest of the row breaks the tie, so the same store always gives the same files.
EDGE_ORDER = "kind, src_id, dst_id, src_type, dst_type, evidence, first_at, last_at, n_txns, usd"


def network_edges_query(sel: Selection, network_id: str | None = None) -> Query:
    cond, params = _networks_cond(sel, "network_id", network_id)
    return Query(f"SELECT * FROM network_edges WHERE {cond} ORDER BY network_id, {EDGE_ORDER}", params)


def _exported_subjects(sel: Selection) -> str:
    """CTE `subjects (st, sid)`: the exported alerts' subjects and the exported networks' members."""
    return f"""
        WITH subjects AS (
            SELECT subject_type AS st, subject_id AS sid FROM alerts
            WHERE alert_id IN (SELECT alert_id FROM {sel.alerts_table})
            UNION
            SELECT member_type, member_id FROM network_members
            WHERE network_id IN (SELECT network_id FROM {sel.networks_table})
        )"""


def compound_links_query(sel: Selection) -> Query:
    """Current links of the exported alerts' subjects and the exported networks' members."""
    return Query(f"""{_exported_subjects(sel)}
        SELECT l.* FROM compound_links l
        WHERE l.is_current IS NOT FALSE
          AND EXISTS (SELECT 1 FROM subjects s WHERE s.st = l.subject_type AND s.sid = l.subject_id)
        ORDER BY l.compound_id, l.confidence DESC NULLS LAST, l.link_id""")


def watchlist_matches_query(sel: Selection) -> Query:
    """Current watch-list matches of the exported alerts' subjects and networks' members (rules/screening)."""
    return Query(f"""{_exported_subjects(sel)}
        SELECT w.* FROM watchlist_matches w
        WHERE w.is_current AND EXISTS (SELECT 1 FROM subjects s WHERE s.st = w.subject_type AND s.sid = w.subject_id)
        ORDER BY w.score DESC, w.subject_type, w.subject_id, w.entity_id""")


def network_matches_query(network_id: str) -> Query:
    """Current watch-list matches of one network's members, member by member in rank order."""
    return Query("""
        SELECT w.* FROM network_members m
        JOIN watchlist_matches w ON w.subject_type = m.member_type AND w.subject_id = m.member_id
        WHERE m.network_id = ? AND w.is_current
        ORDER BY m.rank NULLS LAST, m.member_type, m.member_id, w.score DESC, w.entity_id""", (network_id,))


def network_links_query(sel: Selection, network_id: str) -> Query:
    """Current links of one network's members, member by member (the order the graph and report use)."""
    return Query("""
        SELECT l.* FROM network_members m
        JOIN compound_links l ON l.subject_type = m.member_type AND l.subject_id = m.member_id
        WHERE m.network_id = ? AND l.is_current IS NOT FALSE
        ORDER BY m.rank NULLS LAST, m.member_type, m.member_id,
                 l.compound_id, l.confidence DESC NULLS LAST, l.link_id""", (network_id,))


def network_evidence_query(sel: Selection, network_id: str | None = None) -> Query:
    """Distinct evidence transactions of every alert in each network, with the alerts and roles citing them."""
    table = _needs(sel.network_evidence_table, "network_evidence_query")
    cond, params = ("TRUE", ()) if network_id is None else ("network_id = ?", (network_id,))
    return Query(f"SELECT * FROM {table} WHERE {cond} ORDER BY network_id, booked_at, txn_id", params)


def frame(con: duckdb.DuckDBPyConnection, q: Query) -> Frame:
    """A query's whole result in memory: only for results bounded by one chunk or one network."""
    return query(con, q.sql, list(q.params))


@dataclass
class Stream:
    """A query's result as Arrow record batches of at most batch_rows rows, read as they are written."""

    schema: pa.Schema
    json_cols: frozenset[str]
    batches: Iterator[pa.RecordBatch]


def stream(con: duckdb.DuckDBPyConnection, q: Query, batch_rows: int | None = None) -> Stream:
    """Run q and read it batch by batch. Run no other query on con until the batches are consumed:
    DuckDB closes an open result when the connection executes something else."""
    rel = con.sql(q.sql, params=list(q.params))
    json_cols = frozenset(c for c, t in zip(rel.columns, rel.types) if str(t) == "JSON")
    reader = rel.to_arrow_reader(batch_rows or BATCH_ROWS)  # the relation API streams; DB-API output is copied
    return Stream(reader.schema, json_cols, iter(reader))


def frame_stream(f: Frame, batch_rows: int | None = None) -> Stream:
    return Stream(f.table.schema, f.json_cols, iter(f.table.to_batches(max_chunksize=batch_rows or BATCH_ROWS)))


def count(con: duckdb.DuckDBPyConnection, q: Query) -> int:
    return con.execute(f"SELECT count(*) FROM ({q.sql})", list(q.params)).fetchall()[0][0]
