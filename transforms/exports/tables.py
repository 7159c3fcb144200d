"""Select what to export (filters) and write tables as CSV, XLSX, Parquet and JSON lines.

Reads only the casework tables (rules/alert_tables.py) and the canonical ones (transforms/schema.py).
Every query takes its values as parameters; ids never reach SQL text or file names unescaped.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Sequence

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.exports.safe import atomic_path, atomic_write, neutralise

TABLE_FORMATS = ("csv", "xlsx", "parquet", "jsonl")


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
    alert_ids: list[str]
    network_ids: list[str]
    filters: Filters = field(default_factory=Filters)


def select(con: duckdb.DuckDBPyConnection, filters: Filters) -> Selection:
    """Alert ids matching the filters, and the networks they belong to."""
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
    sql = f"""
        SELECT a.alert_id, a.network_id
        FROM alerts a LEFT JOIN networks n ON n.network_id = a.network_id
        WHERE {' AND '.join(where)}
        ORDER BY a.priority_score DESC NULLS LAST, a.alert_id
    """
    found = con.execute(sql, params).fetchall()
    alert_ids = [r[0] for r in found]
    network_ids = sorted({r[1] for r in found if r[1]})
    if filters.is_empty():
        # Everything: current networks too, even one whose alerts were all filtered to nothing.
        extra = con.execute("SELECT network_id FROM networks WHERE is_current IS NOT FALSE").fetchall()
        network_ids = sorted(set(network_ids) | {r[0] for r in extra if r[0]})
    elif filters.network:
        network_ids = [n for n in network_ids if n in set(filters.network)]
    return Selection(alert_ids, network_ids, filters)


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


def alerts_frame(con, alert_ids: list[str]) -> Frame:
    return query(con, """
        SELECT a.* FROM alerts a WHERE list_contains(?::VARCHAR[], a.alert_id)
        ORDER BY a.priority_score DESC NULLS LAST, a.alert_id""", [alert_ids])


def alert_transactions_frame(con, alert_ids: list[str]) -> Frame:
    return query(con, f"""
        SELECT {EVIDENCE_COLUMNS}
        FROM alert_evidence e
        LEFT JOIN transactions t ON t.txn_id = e.txn_id
        LEFT JOIN {_FILES} f ON f.file_id = t.file_id
        WHERE list_contains(?::VARCHAR[], e.alert_id)
        ORDER BY e.alert_id, t.booked_at, e.txn_id""", [alert_ids])


def networks_frame(con, network_ids: list[str]) -> Frame:
    return query(con, """
        SELECT * FROM networks WHERE list_contains(?::VARCHAR[], network_id)
        ORDER BY score DESC NULLS LAST, network_id""", [network_ids])


def network_members_frame(con, network_ids: list[str]) -> Frame:
    return query(con, """
        SELECT * FROM network_members WHERE list_contains(?::VARCHAR[], network_id)
        ORDER BY network_id, rank NULLS LAST, member_type, member_id""", [network_ids])


def network_edges_frame(con, network_ids: list[str]) -> Frame:
    return query(con, """
        SELECT * FROM network_edges WHERE list_contains(?::VARCHAR[], network_id)
        ORDER BY network_id, kind, src_id, dst_id""", [network_ids])


def compound_links_frame(con, alert_ids: list[str], network_ids: list[str]) -> Frame:
    """Current links of the exported alerts' subjects and the exported networks' members."""
    return query(con, """
        WITH subjects AS (
            SELECT subject_type AS st, subject_id AS sid FROM alerts WHERE list_contains(?::VARCHAR[], alert_id)
            UNION
            SELECT member_type, member_id FROM network_members WHERE list_contains(?::VARCHAR[], network_id)
        )
        SELECT l.* FROM compound_links l
        WHERE l.is_current IS NOT FALSE
          AND EXISTS (SELECT 1 FROM subjects s WHERE s.st = l.subject_type AND s.sid = l.subject_id)
        ORDER BY l.compound_id, l.confidence DESC NULLS LAST, l.link_id""", [alert_ids, network_ids])


def network_evidence_frame(con, network_ids: list[str]) -> Frame:
    """Distinct evidence transactions of every alert in each network, with the alerts and roles citing them."""
    return query(con, f"""
        WITH ev AS (
            SELECT a.network_id, e.txn_id, list(DISTINCT e.alert_id ORDER BY e.alert_id) AS alert_ids,
                   list(DISTINCT e.role ORDER BY e.role) AS roles
            FROM alert_evidence e JOIN alerts a ON a.alert_id = e.alert_id
            WHERE list_contains(?::VARCHAR[], a.network_id)
            GROUP BY a.network_id, e.txn_id
        )
        SELECT ev.network_id, ev.txn_id, ev.alert_ids, ev.roles, t.source, t.source_txn_id, t.booked_at,
               t.from_account_id, t.to_account_id, t.from_name, t.to_name, t.from_institution, t.to_institution,
               t.from_country, t.to_country, t.amount, t.currency, t.amount_usd, t.channel, t.reference, t.rail,
               t.chain, t.tx_hash, t.block_number, t.token_contract, t.value_date,
               t.file_id, f.path AS source_path, t.row_no
        FROM ev LEFT JOIN transactions t ON t.txn_id = ev.txn_id
        LEFT JOIN {_FILES} f ON f.file_id = t.file_id
        ORDER BY ev.network_id, t.booked_at, ev.txn_id""", [network_ids])


# --------------------------------------------------------------------------------------------- writers


def _plain(value: Any) -> Any:
    """A value for the text formats: decimals without exponent or trailing zeros, ISO times."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
            return value.strftime("%Y-%m-%dT%H:%M:%S") + ("." + f"{value.microsecond:06d}" if value.microsecond else "") + "Z"
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def cell_text(value: Any) -> str:
    """Text of one CSV / XLSX cell: lists joined with '; ', JSON kept as its text, formulas neutralised."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        text = "; ".join("" if v is None else str(_plain(v)) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(_plain(value))
    return neutralise(text)


def write_csv(frame: Frame, path: Path) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in frame.columns])
    for row in frame.rows:
        writer.writerow([cell_text(row[c]) for c in frame.columns])
    # BOM: Excel opens UTF-8 CSV (Thai, Chinese, Khmer names) correctly only with it.
    return atomic_write(path, buf.getvalue().encode("utf-8-sig"))


def write_xlsx(frames: dict[str, Frame], path: Path) -> Path:
    """One workbook, one sheet per frame. Every text cell is written as a string, never as a formula."""
    import xlsxwriter

    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                                            "strings_to_numbers": False, "constant_memory": True})
        bold = wb.add_format({"bold": True})
        for sheet_name, frame in frames.items():
            ws = wb.add_worksheet(sheet_name[:31])
            for j, col in enumerate(frame.columns):
                ws.write_string(0, j, neutralise(col), bold)
            for i, row in enumerate(frame.rows, start=1):
                for j, col in enumerate(frame.columns):
                    value = row[col]
                    if value is None:
                        continue
                    if isinstance(value, bool):
                        ws.write_boolean(i, j, value)
                    elif isinstance(value, (int, float)) and not isinstance(value, bool):
                        ws.write_number(i, j, value)
                    else:
                        # Decimals stay text so no precision is lost (18-decimal token amounts).
                        ws.write_string(i, j, cell_text(value))
            ws.freeze_panes(1, 0)
        wb.close()
    return path


def write_parquet(frame: Frame, path: Path) -> Path:
    with atomic_path(path) as tmp:
        pq.write_table(frame.table, str(tmp), compression="zstd")
    return path


def _json_value(value: Any, is_json: bool) -> Any:
    if is_json and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, (list, tuple)):
        return [_json_value(v, False) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v, False) for k, v in value.items()}
    return _plain(value)


def write_jsonl(frame: Frame, path: Path) -> Path:
    lines = []
    for row in frame.rows:
        obj = {c: _json_value(row[c], c in frame.json_cols) for c in frame.columns}
        lines.append(json.dumps(obj, ensure_ascii=False, default=str))
    return atomic_write(path, ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8"))


def write_table(frame: Frame, folder: Path, name: str, formats: Iterable[str]) -> list[Path]:
    """Write one table in each requested table format; returns the paths written."""
    written = []
    for fmt in formats:
        if fmt == "csv":
            written.append(write_csv(frame, folder / f"{name}.csv"))
        elif fmt == "xlsx":
            written.append(write_xlsx({name: frame}, folder / f"{name}.xlsx"))
        elif fmt == "parquet":
            written.append(write_parquet(frame, folder / f"{name}.parquet"))
        elif fmt == "jsonl":
            written.append(write_jsonl(frame, folder / f"{name}.jsonl"))
    return written


def subset(frame: Frame, keep: list[bool]) -> Frame:
    """Rows of a frame where keep is true (same columns and types)."""
    mask = pa.array(keep, type=pa.bool_())
    return Frame(frame.table.filter(mask), frame.json_cols)
