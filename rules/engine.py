"""Run the rule catalogue on DuckDB over a time range, apply bands, score typologies.

detect(con, since=, until=, config_path=, run_id=) is the public entry point (the CLI and flows call it):
  1. load rule folders and typologies, apply the deployment config (parameters, bands, weights, thresholds)
  2. refresh `listed_addresses` (compounds registry + sanctions files named by the config), and
     `compound_events` / `relocations` (rules/presence.py: where accounts were used from)
  3. build the narrow tables the selected rules read (rules/transfers.py: transfers, other_moves), once
  4. per rule: check the data it requires (skip with a note if absent), run its SQL (named parameters only) or
     its rule.py, check the output columns, keep rows whose window ends inside [since, until), put the value in a
     band, write scored rows to `rule_hits` and a line to `rule_runs`
  5. per typology and subject: sum of weight x best band score -> `typology_scores` with is_alert
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import tempfile
import time
import os
import uuid
import weakref
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb

from rules import lists, presence, tables, transfers
from rules.dialect import DIALECT
from rules.spec import (
    STANDARD_OUTPUT,
    ResolvedRule,
    SpecError,
    load_catalog,
    load_config,
    load_typologies,
    resolve,
    resolve_typologies,
    sql_param_names,
)
from transforms import store

log = logging.getLogger(__name__)

# Cheap existence checks behind `requires` in rule.yml.
_REQUIREMENT_SQL = {
    "transactions": "SELECT 1 FROM transactions LIMIT 1",
    "crypto": "SELECT 1 FROM transactions WHERE rail = 'crypto' LIMIT 1",
    "cash": "SELECT 1 FROM transactions WHERE channel = 'cash_deposit' LIMIT 1",
    "accounts": "SELECT 1 FROM accounts LIMIT 1",
    "accounts_kind": "SELECT 1 FROM accounts WHERE kind IS NOT NULL LIMIT 1",
    "parties": "SELECT 1 FROM parties LIMIT 1",
    "events": "SELECT 1 FROM events LIMIT 1",
    "listed_addresses": "SELECT 1 FROM listed_addresses LIMIT 1",
    "relocations": "SELECT 1 FROM relocations LIMIT 1",
    "compound_events": "SELECT 1 FROM compound_events LIMIT 1",
}
_REQUIREMENT_TEXT = {
    "transactions": "no transactions loaded",
    "crypto": "no crypto transactions loaded",
    "cash": "no cash deposits loaded",
    "accounts": "no accounts (KYC) loaded",
    "accounts_kind": "no account kinds (KYC / VASP registry) loaded",
    "parties": "no parties (KYC) loaded",
    "events": "no login / device events loaded",
    "listed_addresses": "no listed wallets or accounts (compounds registry / sanctions lists)",
    "relocations": "no account moved into a compound (events located in a registry compound after events elsewhere)",
    "compound_events": "no events located inside a registry compound",
}


# connection -> the name its scratch database of shared tables is attached under (DuckDBRunner.derive)
_SCRATCH: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class DuckDBRunner:
    """Where the rules run: here, the store itself. rules/spark_engine.py has the Spark counterpart (same methods):
    the rules' data and queries go there, and each rule's output comes back to the store as `_st_out`."""

    name = "duckdb"
    errors: tuple[type[BaseException], ...] = ()  # the engine's own errors that fail one rule (duckdb.Error always does)

    def prepare(self, con: duckdb.DuckDBPyConnection) -> None:
        """Nothing to hand over: the rules read the store itself."""

    def present(self, con: duckdb.DuckDBPyConnection, sql: str) -> bool:
        return bool(con.execute(sql).fetchall())

    def scalar_rows(self, con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
        return con.execute(sql, params or []).fetchall()

    def derive(self, con: duckdb.DuckDBPyConnection, name: str, sql: str, params: dict) -> None:
        """A table the rules of one run share (rules/transfers.py). It is written to a scratch database file in
        DuckDB's temp directory, not kept as a temporary table: pages of a file are dropped from memory when the
        buffer pool is full, and the rules' Python steps (polars) need that memory (at 100M a temporary table
        kept about 4 GB resident through the run). A view of its name points at it. Its row keys are DuckDB row
        ids: a checkpoint, once when the scratch file is attached, first writes out pending deletes, so that no
        checkpoint during the run moves rows (and their ids) to compact them. A build that fails leaves nothing
        behind."""
        try:
            scratch_db = self._attach_scratch(con)
            con.execute(f"CREATE OR REPLACE TABLE {scratch_db}.{name} AS {sql}", {k: params[k] for k in sql_param_names(sql)})
            con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {scratch_db}.{name}")
        except BaseException:
            try:
                self.drop_derived(con, name)
            except (duckdb.Error, OSError) as exc:  # the build's own error is the one to report
                log.warning("could not clean up after building %s: %s", name, exc)
            raise

    def _attach_scratch(self, con: duckdb.DuckDBPyConnection) -> str:
        """The connection's scratch database (one per connection: connections to one store share its catalogue)."""
        scratch_db = _SCRATCH.get(con)
        if scratch_db is not None:
            return scratch_db
        try:
            con.execute("CHECKPOINT")
        except duckdb.Error as exc:  # another transaction is open: deletes of earlier loads may still be pending
            log.warning("no checkpoint before building the shared tables (%s): row ids could move if one runs during"
                        " the rules", str(exc).strip().splitlines()[0])
        scratch_db = f"st_shared_{uuid.uuid4().hex[:8]}"
        setting = con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]
        folder = Path(setting) if setting else Path(tempfile.mkdtemp(prefix="scamtrace-"))  # '': spilling is off
        folder.mkdir(parents=True, exist_ok=True)
        store_path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                                 ).fetchall()[0][0] or f":memory:{os.getpid()}"
        prefix = f"scamtrace-shared-{hashlib.sha256(str(store_path).encode()).hexdigest()[:12]}-"
        live = {str(r[0]) for r in con.execute("SELECT path FROM duckdb_databases() WHERE path IS NOT NULL").fetchall()}
        for stale in folder.glob(prefix + "*"):  # left by a killed run on this store (whose write lock this process
            if str(stale).removesuffix(".wal") not in live:   # holds), not one a connection here still uses
                stale.unlink(missing_ok=True)
        con.execute(f"ATTACH ? AS {scratch_db}", [str(folder / f"{prefix}{uuid.uuid4().hex}.duckdb")])
        _SCRATCH[con] = scratch_db
        return scratch_db

    def drop_derived(self, con: duckdb.DuckDBPyConnection, name: str) -> None:
        """Drop the view and its table; the scratch file goes with the last of them."""
        con.execute(f"DROP VIEW IF EXISTS {name}")
        scratch_db = _SCRATCH.get(con)
        if scratch_db is None:
            return
        rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = ?", [scratch_db]).fetchall()
        if not rows:  # detached already
            del _SCRATCH[con]
            return
        con.execute(f"DROP TABLE IF EXISTS {scratch_db}.{name}")
        if not con.execute("SELECT 1 FROM duckdb_tables() WHERE database_name = ?", [scratch_db]).fetchall():
            con.execute(f"DETACH {scratch_db}")
            del _SCRATCH[con]
            for f in (Path(rows[0][0]), Path(rows[0][0] + ".wal")):
                f.unlink(missing_ok=True)

    def produce(self, con: duckdb.DuckDBPyConnection, spec, values: dict) -> str:
        """Run one rule; its output rows in the temporary table _st_out. Returns a note ('' when nothing to say)."""
        if spec.kind == "sql":
            sql = spec.sql().strip().rstrip(";")
            con.execute(f"CREATE OR REPLACE TEMP TABLE _st_out AS {sql}", {k: values[k] for k in sql_param_names(sql)})
        else:
            _release_cache(con)
            frame_to_out(con, load_py_rule(spec.py_path).run(con, dict(values)))
        return ""


def _release_cache(con: duckdb.DuckDBPyConnection) -> None:
    """Hand the pages DuckDB keeps cached back before a Python rule, whose polars steps need memory of their own:
    the buffer pool fills up to memory_limit with pages earlier rules read (the store's and the shared tables'),
    and the process's peak is that plus the rule's frames (at 100M: 12 GB + 7 GB in round_cut). Lowering the limit
    for a moment evicts them (they are on disk). Only a limit that transforms.store.connect set is touched: it is
    set back to that exact value (DuckDB shows it rounded); a limit someone else set is left alone."""
    shown = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    limit = store.MEMORY_LIMITS_SET.get(shown)
    if limit is None:
        return
    try:
        con.execute("SET memory_limit = '256MB'")
    except duckdb.Error:  # pinned pages (an open result) keep more: the limit stays as it was
        pass
    finally:
        con.execute("SET memory_limit = ?", [limit])


def frame_to_out(con: duckdb.DuckDBPyConnection, frame) -> None:
    """A rule's output frame (polars, pandas or Arrow) as the temporary table _st_out."""
    DIALECT.register(con, "_st_frame", frame)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE _st_out AS SELECT * FROM _st_frame")
    finally:
        DIALECT.unregister(con, "_st_frame")


DUCKDB = DuckDBRunner()


@dataclass
class RuleRun:
    rule_id: str
    version: str
    status: str  # ok | skipped | disabled | failed
    note: str = ""
    candidates: int = 0
    hits: int = 0
    seconds: float = 0.0
    param_hash: str = ""


@dataclass
class DetectSummary:
    run_id: str
    since: datetime | None
    until: datetime | None
    rules: list[RuleRun] = field(default_factory=list)
    typologies: dict[str, dict[str, int]] = field(default_factory=dict)  # id -> {subjects, alerts}
    listed_addresses: int = 0
    no_usd: dict[str, int] = field(default_factory=dict)  # currency -> transactions in the period without amount_usd
    shared_seconds: float = 0.0  # building the tables the rules share (rules/transfers.py); 0 when kept from before
    seconds: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        return {r.rule_id: r.hits for r in self.rules if r.status == "ok"}

    @property
    def skipped(self) -> dict[str, str]:
        return {r.rule_id: r.note for r in self.rules if r.status in ("skipped", "disabled")}

    @property
    def failed(self) -> dict[str, str]:
        return {r.rule_id: r.note for r in self.rules if r.status == "failed"}

    @property
    def timings(self) -> dict[str, float]:
        return {r.rule_id: r.seconds for r in self.rules}

    @property
    def alerts(self) -> int:
        return sum(t["alerts"] for t in self.typologies.values())

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["since"] = self.since.isoformat() if self.since else None
        d["until"] = self.until.isoformat() if self.until else None
        return d


def as_utc(value: datetime | date | str | None, *, end: bool = False) -> datetime | None:
    """since/until from the CLI or callers: datetimes (naive = UTC), dates (until: the end of that day), ISO text."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    start = datetime.combine(value, dtime.min, tzinfo=timezone.utc)
    return start + timedelta(days=1) if end else start


def load_rules(config_path: Path | str | None = None, catalog_dir: Path | None = None, typology_dir: Path | None = None):
    """Catalogue + typologies with the deployment config applied. Raises SpecError naming the bad file."""
    cfg = load_config(config_path)
    specs = load_catalog(catalog_dir) if catalog_dir else load_catalog()
    typ = load_typologies(typology_dir, specs) if typology_dir else load_typologies(rules=specs)
    return cfg, resolve(specs, cfg), resolve_typologies(typ, cfg)


def _data_range(con: duckdb.DuckDBPyConnection, runner=DUCKDB) -> tuple[datetime | None, datetime | None]:
    lo, hi = runner.scalar_rows(
        con,
        "SELECT min(t), max(t) FROM (SELECT min(booked_at) AS t FROM transactions UNION ALL"
        " SELECT max(booked_at) FROM transactions UNION ALL SELECT min(occurred_at) FROM events UNION ALL"
        " SELECT max(occurred_at) FROM events)"
    )[0]
    start, end = as_utc(lo), as_utc(hi)
    if start is None or end is None:
        return None, None
    return start, end + timedelta(microseconds=1)


def load_py_rule(path: Path):
    mod_spec = importlib.util.spec_from_file_location(f"scamtrace_rule_{path.parent.name}", path)
    if mod_spec is None or mod_spec.loader is None:
        raise SpecError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    if not hasattr(module, "run"):
        raise SpecError(f"{path}: defines no run(con, params) function")
    return module


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]


def run_rule(
    con: duckdb.DuckDBPyConnection,
    rule: ResolvedRule,
    *,
    run_id: str,
    since: datetime,
    until: datetime,
    requirement_cache: dict[str, bool] | None = None,
    shared: dict | None = None,
    runner=DUCKDB,
) -> RuleRun:
    """Run one resolved rule and write its scored rows to rule_hits. Never raises for data problems."""
    spec = rule.spec
    rr = RuleRun(spec.id, spec.version, "ok", param_hash=rule.param_hash)
    if not rule.enabled:
        rr.status, rr.note = "disabled", "disabled by the deployment config"
        return rr
    cache = requirement_cache if requirement_cache is not None else {}

    def present(req: str) -> bool:
        if req not in cache:
            cache[req] = runner.present(con, _REQUIREMENT_SQL[req])
        return cache[req]

    missing = [r for r in spec.requires if not present(r)]
    if spec.requires_any and not any(present(r) for r in spec.requires_any):
        missing.append(" and ".join(_REQUIREMENT_TEXT[r] for r in spec.requires_any))
    if missing:
        rr.status = "skipped"
        rr.note = "skipped: " + "; ".join(_REQUIREMENT_TEXT.get(m, m) for m in missing)
        return rr

    t0 = time.perf_counter()
    builtins = {"since": since, "until": until, "window_start": since - spec.lookback_td,
                "history_start": since - spec.history_td,
                "shared": shared if shared is not None else {}}
    values = {**rule.params, **builtins}
    try:
        rr.note = runner.produce(con, spec, values)
        cols = _columns(con, "_st_out")
        missing_cols = [c for c in (*STANDARD_OUTPUT, *spec.evidence) if c not in cols]
        if missing_cols:
            raise SpecError(f"rule {spec.id}: output lacks declared columns {missing_cols}")
        rr.candidates = con.execute("SELECT count(*) FROM _st_out").fetchall()[0][0]
        rr.hits = _write_hits(con, rule, run_id, since, until, has_members="member_ids" in cols)
    except (duckdb.Error, SpecError, ValueError, TypeError, KeyError, *runner.errors) as exc:
        rr.status, rr.note = "failed", f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
        log.warning("rule %s failed: %s", spec.id, rr.note)
    finally:
        con.execute("DROP TABLE IF EXISTS _st_out")
        rr.seconds = round(time.perf_counter() - t0, 3)
    return rr


def _write_hits(con, rule: ResolvedRule, run_id: str, since: datetime, until: datetime, *, has_members: bool) -> int:
    spec = rule.spec
    con.execute("CREATE OR REPLACE TEMP TABLE _st_bands (band INTEGER, lower DOUBLE, upper DOUBLE, score DOUBLE, reason VARCHAR)")
    con.executemany(
        "INSERT INTO _st_bands VALUES (?, ?, ?, ?, ?)",
        [[i, b.lower, b.upper, b.score, rule.reason(b)] for i, b in enumerate(rule.bands)],
    )
    members = "CAST(o.member_ids AS VARCHAR[])" if has_members else "CAST(NULL AS VARCHAR[])"
    evidence = DIALECT.json_object(list(spec.evidence), alias="o")
    # reason: {value} and {evidence_column} filled per row (parameters were filled in rule.reason)
    reason = """replace(b.reason, '{value}',
                       CASE WHEN CAST(o.value AS DOUBLE) = round(CAST(o.value AS DOUBLE))
                            THEN CAST(CAST(o.value AS BIGINT) AS VARCHAR)
                            ELSE CAST(round(CAST(o.value AS DOUBLE), 2) AS VARCHAR) END)"""
    for col in spec.evidence:  # names checked by the spec (lower_snake_case)
        if any("{" + col + "}" in b.reason for b in rule.bands):
            reason = f"replace({reason}, '{{{col}}}', coalesce(CAST(o.{col} AS VARCHAR), ''))"
    sql = f"""
        INSERT INTO rule_hits
        SELECT $run_id, $rule_id, $version, $param_hash, $typology, $subject_type,
               CAST(o.subject_id AS VARCHAR),
               CAST(o.value AS DOUBLE),
               b.band,
               b.score,
               {reason},
               CAST(o.txn_ids AS VARCHAR[]),
               {members},
               CAST(o.window_start AS TIMESTAMPTZ),
               CAST(o.window_end AS TIMESTAMPTZ),
               {evidence}
        FROM _st_out o
        JOIN _st_bands b
          ON (b.lower IS NULL OR CAST(o.value AS DOUBLE) >= b.lower)
         AND (b.upper IS NULL OR CAST(o.value AS DOUBLE) < b.upper)
        WHERE b.score > 0
          AND o.subject_id IS NOT NULL
          AND CAST(o.window_end AS TIMESTAMPTZ) >= $since
          AND CAST(o.window_start AS TIMESTAMPTZ) < $until
    """
    before = con.execute("SELECT count(*) FROM rule_hits WHERE run_id = ? AND rule_id = ?", [run_id, spec.id]).fetchall()[0][0]
    with store.transaction(con):
        con.execute(
            sql,
            {
                "run_id": run_id,
                "rule_id": spec.id,
                "version": spec.version,
                "param_hash": rule.param_hash,
                "typology": spec.typology,
                "subject_type": spec.subject,
                "since": since,
                "until": until,
            },
        )
    after = con.execute("SELECT count(*) FROM rule_hits WHERE run_id = ? AND rule_id = ?", [run_id, spec.id]).fetchall()[0][0]
    return after - before


def score_typologies(con: duckdb.DuckDBPyConnection, run_id: str, typologies: dict) -> dict[str, dict[str, int]]:
    """typology_scores for one run: per typology and subject, sum of weight x best band score of each rule."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _st_weights (typology_id VARCHAR, typology_version VARCHAR, rule_id VARCHAR,"
        " weight DOUBLE, threshold DOUBLE, config_hash VARCHAR)"
    )
    rows = []
    for t in typologies.values():
        chash = _hash({"rules": t.rules, "threshold": t.threshold})
        rows += [[t.id, t.version, rid, w, t.threshold, chash] for rid, w in t.rules.items()]
    if rows:
        con.executemany("INSERT INTO _st_weights VALUES (?, ?, ?, ?, ?, ?)", rows)
    with store.transaction(con):
        con.execute(
            """
            INSERT INTO typology_scores
            WITH best AS (  -- best outcome per typology, rule and subject in this run
                SELECT w.typology_id, w.typology_version, w.threshold, w.config_hash, w.rule_id,
                       h.subject_type, h.subject_id,
                       w.weight * max(h.score) AS weighted,           -- contribution to the typology score
                       max(h.score) AS score,                          -- best band score of this rule
                       st_collect(h.reason) AS reasons,                -- reason sentences
                       st_flatten_ids(st_collect(h.txn_ids)) AS txn_ids,
                       st_flatten_ids(st_collect(coalesce(h.member_ids, st_empty_ids()))) AS member_ids,
                       min(h.window_start) AS window_start,
                       max(h.window_end) AS window_end
                FROM rule_hits h
                JOIN _st_weights w ON w.rule_id = h.rule_id
                WHERE h.run_id = $run_id AND w.weight > 0
                GROUP BY w.typology_id, w.typology_version, w.threshold, w.config_hash, w.rule_id, w.weight,
                         h.subject_type, h.subject_id
            )
            SELECT $run_id, typology_id, typology_version, subject_type, subject_id,
                   sum(weighted) AS score,
                   threshold,
                   sum(weighted) >= threshold - 1e-9 AS is_alert,
                   st_json_pairs(rule_id, score) AS rule_scores,
                   st_flatten_ids(st_collect(reasons)) AS reasons,
                   st_flatten_ids(st_collect(txn_ids)) AS txn_ids,
                   st_flatten_ids(st_collect(member_ids)) AS member_ids,
                   min(window_start), max(window_end), config_hash
            FROM best
            GROUP BY typology_id, typology_version, subject_type, subject_id, threshold, config_hash
            """,
            {"run_id": run_id},
        )
    out = {tid: {"subjects": 0, "alerts": 0} for tid in typologies}
    for tid, n, a in con.execute(
        "SELECT typology_id, count(*), count(*) FILTER (WHERE is_alert) FROM typology_scores WHERE run_id = ? GROUP BY 1",
        [run_id],
    ).fetchall():
        out[tid] = {"subjects": n, "alerts": a}
    con.execute("DROP TABLE IF EXISTS _st_weights")
    return out


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def detect(
    con: duckdb.DuckDBPyConnection,
    *,
    since: datetime | date | str | None = None,
    until: datetime | date | str | None = None,
    config_path: Path | str | None = None,
    run_id: str | None = None,
    only: list[str] | None = None,
    runner=DUCKDB,
    shared: dict | None = None,
) -> DetectSummary:
    """Run the rule pack over [since, until) and score typologies. Returns counts, skips and timings.

    since/until default to the span of the loaded transactions and events; a date `until` means the end of that day.
    Each rule also reads its `lookback` before `since`. With run_id=None a `runs` row is written here; with a
    run_id the caller owns the run log row. `only` limits the run to some rule ids (tests, replays). `runner`
    is where the rules run (DUCKDB, or a rules.spark_engine.SparkRunner); hits, scores and runs are written here.
    `shared` holds intermediates that several rules build alike (rules/forwards.py, rules/transfers.py); a caller
    that runs one rule per call over unchanged data and range (bench/bench_rules.py) passes the same dict, and the
    same connection, to each call, and drops the shared tables at the end (rules.transfers.drop).
    """
    t0 = time.perf_counter()
    cfg, rules, typologies = load_rules(config_path)
    # the shared narrow tables span the longest history of the enabled rules that read them, whichever run
    readers = [r.spec for r in rules.values() if r.enabled and r.spec.reads]
    shared_start = max((sp.history_td for sp in readers), default=timedelta(0))
    if only is not None:
        unknown = sorted(set(only) - set(rules))
        if unknown:
            raise SpecError(f"unknown rules {unknown}")
        rules = {k: v for k, v in rules.items() if k in only}
    tables.ensure_tables(con)
    DIALECT.install(con)

    s, u = as_utc(since), as_utc(until, end=True)
    lo, hi = _data_range(con, runner)
    s = s or lo or datetime.now(timezone.utc)
    u = u or hi or s + timedelta(microseconds=1)
    own_run = run_id is None
    if run_id is None:
        run_id = store.start_run(con, "detect", {"since": s, "until": u, "config": str(config_path) if config_path else None})
    summary = DetectSummary(run_id=run_id, since=s, until=u)
    status = "failed"
    own_shared = shared is None
    shared = {} if shared is None else shared  # intermediates several rules build alike: built once
    try:
        summary.listed_addresses = lists.refresh_listed_addresses(con, cfg)
        presence.refresh_presence(con)
        runner.prepare(con)  # tables only the store derives (listed_addresses, presence) go to the engine
        summary.no_usd = _without_usd(con, s, u, runner)
        cache: dict[str, bool] = {}
        wanted = {t for r in rules.values() if r.enabled for t in r.spec.reads}
        unbuilt: dict[str, str] = {}  # shared table -> why it is missing: its readers fail with it, the rest runs
        if wanted:
            t_shared = time.perf_counter()
            unbuilt = transfers.build(con, runner, wanted, s - shared_start, u, shared)
            for why in unbuilt.values():
                log.warning("%s", why)
            summary.shared_seconds = round(time.perf_counter() - t_shared, 3)
        for rule in rules.values():
            missing_tables = [unbuilt[t] for t in rule.spec.reads if t in unbuilt]
            if rule.enabled and missing_tables:
                rr = RuleRun(rule.spec.id, rule.spec.version, "failed", note=missing_tables[0],
                             param_hash=rule.param_hash)
            else:
                rr = run_rule(con, rule, run_id=run_id, since=s, until=u, requirement_cache=cache, shared=shared,
                              runner=runner)
            summary.rules.append(rr)
            con.execute(
                "INSERT INTO rule_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, rr.rule_id, rr.version, rr.param_hash, rule.params_json(), rr.status, rr.note,
                 rr.candidates, rr.hits, rr.seconds, s, u],
            )
        active = {tid: t for tid, t in typologies.items() if only is None or set(t.rules) & set(rules)}
        summary.typologies = score_typologies(con, run_id, active)
        status = "failed" if summary.failed else "ok"
    finally:
        if own_shared:  # a caller that passed `shared` runs more rules on it, and drops them (bench/bench_rules.py)
            try:
                transfers.drop(con, runner, shared)
            except (duckdb.Error, OSError, *runner.errors) as exc:  # the run's own outcome is what to report
                log.warning("could not drop the shared tables: %s", exc)
        summary.seconds = round(time.perf_counter() - t0, 3)
        if own_run:
            store.finish_run(con, run_id, status, summary.to_dict())
    return summary


def _without_usd(con: duckdb.DuckDBPyConnection, since: datetime, until: datetime, runner=DUCKDB) -> dict[str, int]:
    """Transactions of the period loaded without a rate: the rules that measure USD skip them (NULL amounts take
    part in no sum or threshold), the count-based ones still see them."""
    return dict(runner.scalar_rows(
        con, "SELECT currency, count(*) FROM transactions WHERE amount_usd IS NULL AND booked_at >= ? AND booked_at < ? "
        "GROUP BY currency ORDER BY 2 DESC", [since, until]))


def new_run_id() -> str:
    return str(uuid.uuid4())
