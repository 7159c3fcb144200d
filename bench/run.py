"""National-scale benchmark: one command, synthetic worlds of 1M..100M transactions, every stage timed.

    python bench/run.py                          # 1M and 10M (the default sizes)
    python bench/run.py --sizes 1M,10M,30M,100M  # all four; results of earlier runs are kept and merged
    python bench/run.py --sizes 100M --daily 1M  # also the incremental day of 1M rows on top of the history
    python bench/run.py --sizes 100M --daily 1M --resume   # a run that stopped after casework: export, then the day
    python bench/run.py --report-only            # rewrite BENCHMARKS.md from bench/cache/results/*.json
    python bench/run.py --sizes 10M --formats real   # the year as banks send it (see below)

Per size: the world is generated once (worlds/canonical.py, cached under bench/cache/world_<N>/, git-ignored),
then a child process (so that its peak RSS is measured alone) runs on a fresh store:
  ingest (canonical Parquet + KYC accounts + events + FX rates, with Great Expectations validation)
  -> floor (one DuckDB scan with a group-by over the transactions: the cost of touching the data once)
  -> detect (every rule of the pack, timed per rule) -> casework (alerts, networks, compound links) -> export
  -> optionally the incremental day: ingest 1 day of new rows, detect over it (with each rule's lookback),
     casework, quick export.
After each detect, the planted accounts of the world (truth.json) are looked up among the hits of the rules meant
to find them: "planted found" in the table, with the number of accounts those rules hit in all.
Prefect's start-up is not included (the flow calls these same functions). Results go to
bench/cache/results/<N>.json; the table is printed and BENCHMARKS.md written with the machine, versions, the ratio
of each stage to the floor and each stage's scaling exponent (log t2/t1 / log n2/n1, smallest to largest size).

--formats real: the world is the synthetic generator's (worlds/synth, preset 1m / 10m / 100m, fmt="extracts",
cached under bench/cache/real_<N>/): delimited extracts in five layouts and encodings with their mapping files,
camt.053, MT940, Tronscan and Etherscan exports, KYC, events, FX rates. The child ingests that folder as a user
would (`scamtrace ingest DIR`) and runs the same stages; the ingest is also reported per reader (rows, seconds per
step, rows/s and the ratio to the floor: the floor's time for that reader's share of the rows). Results go to
bench/cache/results/real_<N>.json and to their own table.

Settings: SCAMTRACE_MEMORY_LIMIT (DuckDB's buffer pool, default 2GB in transforms/store.py; --memory-limit sets it
for the child).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / "cache"
RESULTS = CACHE / "results"
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))  # this checkout's code, also when run from a worktree of another commit

from peak_memory import ChildrenPeak, hwm_mb, peak_mb, reset_hwm

STAGES = ["ingest", "validate", "floor", "detect", "casework", "export", "end_to_end"]


def parse_size(text: str) -> int:
    t = text.strip().upper()
    mult = {"K": 1_000, "M": 1_000_000, "G": 1_000_000_000}.get(t[-1], 1)
    return int(float(t[:-1] if t[-1] in "KMG" else t) * mult)


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n / 1e6:g}M"


# ---------------------------------------------------------------------------------------------- the child process


class Watched:
    """A DuckDB connection whose statements are interrupted after `budget` seconds each (--statement-budget): a
    rule or casework step that does not finish at some size is recorded as such, and the run goes on."""

    def __init__(self, con, budget: float | None):
        import threading

        self._con, self._budget, self._started = con, budget, None
        self.interrupted: list[str] = []
        self._lock = threading.Lock()
        if budget:
            threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        while True:
            time.sleep(1)
            with self._lock:
                started = self._started
            if started and time.perf_counter() - started[0] > self._budget:
                self.interrupted.append(started[1])
                with self._lock:
                    self._started = None
                self._con.interrupt()

    def execute(self, sql, *args):
        with self._lock:
            self._started = (time.perf_counter(), " ".join(str(sql).split())[:120])
        try:
            return self._con.execute(sql, *args)
        finally:
            with self._lock:
                self._started = None

    def fetch_polars(self, sql: str, params: dict | None = None):
        """What rules.dialect gives a Python rule on a plain DuckDB connection (this wrapper is not one)."""
        return self._con.sql(sql, params=params or {}).pl()

    def __getattr__(self, name):
        return getattr(self._con, name)


def child(world: Path, db: Path, out: Path, daily: bool, export_full: bool, budget: float | None = None,
          ingest_only: bool = False, resume: bool = False, skip_export: bool = False, real: bool = False) -> None:
    t_all = time.perf_counter()
    res: dict = {"stages": {}, "stage_peak_mb": {}, "rules": {}, "casework": {}, "counts": {}, "failed": {}}
    if resume:  # the store already holds ingest, detect and casework: keep their figures, run what is missing
        res = json.loads(out.read_text())
        res["resumed_at"] = "export"  # export and the day ran in a second process (their figures are their own)
        res["failed"].pop("export", None)

    def stage(name: str, fn, may_fail: bool = False):
        reset_hwm()
        children = ChildrenPeak()  # the export's worker processes
        children.start()
        t = time.perf_counter()
        try:
            value = fn()
        except Exception as exc:  # noqa: BLE001 - recorded, the figures of the other stages still count
            if not may_fail:
                raise
            res["failed"][name] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"
            print(f"  {name}: FAILED {res['failed'][name]}", flush=True)
            value = None
        res["stages"][name] = round(time.perf_counter() - t, 3)
        res["stage_peak_mb"][name] = round(hwm_mb())
        worker_mb = children.stop()
        if worker_mb:
            res.setdefault("stage_worker_peak_mb", {})[name] = round(worker_mb)
        res.setdefault("stage_load", {})[name] = round(os.getloadavg()[0], 1)
        res["peak_rss_mb"] = round(peak_mb())
        out.write_text(json.dumps(res, indent=2, default=str))  # partial results survive a kill
        print(f"  {name}: {res['stages'][name]:.1f} s, peak {res['stage_peak_mb'][name]:.0f} MB", flush=True)
        return value

    def startup():
        import great_expectations  # noqa: F401  (imported by the validator; a fixed cost of any ingest)

        import rules.engine  # noqa: F401
        import exports  # noqa: F401

    if resume:
        startup()  # imported again, not timed: the first run's start-up figure stands
    else:
        stage("startup", startup)

    from rules import casework
    from rules.engine import detect
    import exports
    from transforms import store
    from transforms.ingest import ingest_paths, new_data_period

    if not resume:  # a resumed run starts at the export
        inputs = [world] if real else [world / "reference", world / "kyc", world / "transactions", world / "events"]
        reports = stage("ingest", lambda: ingest_paths(db, inputs))
        res["by_reader"] = by_reader(reports)
        tx = [r for r in reports if r.table == "transactions"]
        bad = [r for r in reports if r.status not in ("loaded", "skipped")]
        if bad:
            raise SystemExit(f"ingest refused files: {[(r.path, r.message) for r in bad]}")
        sums: dict[str, float] = {}
        for r in tx:
            for k, v in r.seconds.items():
                sums[k] = sums.get(k, 0) + v
        res["ingest_parts"] = {k: round(v, 3) for k, v in sums.items()}
        res["stages"]["validate"] = round(sums.get("validate", 0), 3)
        res["counts"]["rows_read"] = sum(r.rows_read for r in tx)
        res["counts"]["rows_loaded"] = sum(r.rows_loaded for r in tx)
        res["counts"]["rows_quarantined"] = sum(r.rows_quarantined for r in tx)
        res["counts"]["rows_duplicate"] = sum(r.rows_duplicate for r in tx)
        res["counts"]["reconciles"] = all(r.reconciles for r in reports)

    con = Watched(store.connect(db), budget)
    try:
        if not resume:
            floor_sql = ("SELECT count(*), sum(n), sum(usd) FROM (SELECT to_account_id, count(*) AS n, "
                         "sum(amount_usd) AS usd FROM transactions GROUP BY to_account_id)")
            stage("floor", lambda: con.execute(floor_sql).fetchall())
            if ingest_only:
                res["not_run"] = "detect, casework, export (--ingest-only)"
                out.write_text(json.dumps(res, indent=2, default=str))
                if daily:
                    day_files = sorted((world / "daily").glob("*.parquet"))
                    con.close()
                    stage("daily_ingest", lambda: ingest_paths(db, day_files))
                return
            summary = stage("detect", lambda: detect(con))
            res["rules"] = {r.rule_id: {"seconds": r.seconds, "status": r.status, "hits": r.hits, "note": r.note}
                            for r in summary.rules}
            res["counts"]["alerts_typology"] = summary.alerts
            res["planted_found"] = planted_found(con, world, summary.run_id, "history")
            cw = stage("casework", lambda: casework.build(con, summary.run_id), may_fail=True) or {}
            res["casework"] = cw.get("timings", {})
            res["counts"]["alerts"] = cw.get("alerts")
            res["counts"]["networks"] = cw.get("networks")
        if skip_export:
            res["not_run"] = "export of the history (--skip-export)"
        else:
            out_dir = db.parent / "export"
            shutil.rmtree(out_dir, ignore_errors=True)
            ex = stage("export", lambda: exports.export(con, out_dir, full=export_full), may_fail=True) or {}
            res["counts"]["export_files"] = len(ex.get("files", []) or [])
            res["export_parts"] = ex.get("parts", {})
            res["export_full"] = export_full
        res["interrupted"] = con.interrupted
    finally:
        con.close()
    if "export" in res["stages"]:
        res["stages"]["end_to_end"] = round(sum(res["stages"][s] for s in ("startup", "ingest", "detect", "casework", "export")), 3)

    if daily:
        day_files = sorted((world / "daily").glob("*.parquet"))
        t_day = time.perf_counter()
        d_reports = stage("daily_ingest", lambda: ingest_paths(db, day_files))
        ids = [r.file_id for r in d_reports if r.status == "loaded"]
        since, until = new_data_period(db, ids)
        con = Watched(store.connect(db), budget)
        try:
            d_sum = stage("daily_detect", lambda: detect(con, since=since, until=until))
            res["daily_rules"] = {r.rule_id: r.seconds for r in d_sum.rules}
            res["daily_planted_found"] = planted_found(con, world, d_sum.run_id, "daily")
            d_cw = stage("daily_casework", lambda: casework.build(con, d_sum.run_id), may_fail=True) or {}
            res["daily_casework"] = d_cw.get("timings", {})
            d_out = db.parent / "export_daily"
            shutil.rmtree(d_out, ignore_errors=True)
            d_ex = stage("daily_export", lambda: exports.export(con, d_out, full=False, since=since, until=until),
                         may_fail=True) or {}
            res["daily_export_parts"] = d_ex.get("parts", {})
            res["daily_interrupted"] = con.interrupted
        finally:
            con.close()
        res["stages"]["daily_total"] = round(time.perf_counter() - t_day, 3)
        res["counts"]["daily_rows"] = sum(r.rows_read for r in d_reports)
        res["counts"]["daily_loaded"] = sum(r.rows_loaded for r in d_reports)

    res["peak_rss_mb"] = round(peak_mb())
    res["wall_seconds"] = round(time.perf_counter() - t_all, 1)
    res["db_bytes"] = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    out.write_text(json.dumps(res, indent=2, default=str))


def by_reader(reports) -> dict:
    """Ingest figures per reader (delimited layouts by mapping): files, rows and seconds per step."""
    out: dict = {}
    for r in reports:
        if r.status != "loaded":
            continue
        d = out.setdefault(r.source, {"table": r.table, "files": 0, "rows_read": 0, "rows_loaded": 0,
                                      "rows_quarantined": 0, "rows_duplicate": 0, "seconds": {}})
        d["files"] += 1
        for k in ("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate"):
            d[k] += getattr(r, k)
        for k, v in r.seconds.items():
            d["seconds"][k] = round(d["seconds"].get(k, 0) + v, 3)
    return out


# Which rules should find each planted pattern of gen_canonical.py (truth.json)
PLANTED_RULES = {"fan_in": ["fan_in_24h", "fan_in_7d"], "structuring": ["structuring_cash"],
                 "scatter_gather": ["scatter_gather"]}


def planted_found(con, world: Path, run_id: str, span: str) -> dict:
    """For each planted pattern: how many plants its rules hit (as subject or member), and of how many. The share
    of hits that fall on plants tells how much of the alert volume the background makes."""
    truth_path = world / "truth.json"
    if not truth_path.exists():
        return {}
    found: dict = {}
    for kind, ids in json.loads(truth_path.read_text()).get(span, {}).items():
        rule_ids = PLANTED_RULES.get(kind, [])
        if not ids or not rule_ids:
            continue
        hits = con.execute(
            "WITH hit AS (SELECT subject_id AS id FROM rule_hits WHERE run_id = $run AND list_contains($rules, rule_id) "
            "UNION SELECT unnest(member_ids) FROM rule_hits WHERE run_id = $run AND list_contains($rules, rule_id)) "
            "SELECT count(DISTINCT p.id) FROM unnest($ids::VARCHAR[]) AS p(id) SEMI JOIN hit ON hit.id = p.id",
            {"run": run_id, "rules": rule_ids, "ids": sorted(set(ids))}).fetchone()[0]
        subjects = con.execute("SELECT count(DISTINCT subject_id) FROM rule_hits WHERE run_id = $run AND "
                               "list_contains($rules, rule_id)", {"run": run_id, "rules": rule_ids}).fetchone()[0]
        found[kind] = {"planted": len(set(ids)), "found": hits, "rules": rule_ids, "subjects_hit": subjects}
    return found


# ---------------------------------------------------------------------------------------------- the parent


def run_size(n: int, daily_rows: int, memory_limit: str | None, threads: int | None, export_full: bool,
             hubs: bool = False, timeout: float | None = None, budget: float | None = None,
             ingest_only: bool = False, resume: bool = False, skip_export: bool = False, real: bool = False) -> dict:
    t = time.perf_counter()
    if real:
        world = CACHE / f"real_{n}"
        manifest = real_world(n, world)
    else:
        from worlds.canonical import generate

        world = CACHE / (f"world_hubs_{n}" if hubs else f"world_{n}")
        # the hubs stress world keeps the uniform background: unlabelled hubs paid by strangers
        manifest = generate(n, world, daily=daily_rows, hubs=hubs, background="uniform" if hubs else "regular")
    gen_seconds = time.perf_counter() - t
    # the real-formats world is ingested as a folder: its store lives beside it, not in it
    db = (CACHE / f"real_{n}_store" if real else world / "store") / "bench.duckdb"
    out = db.parent / "result.json"
    if resume:
        done = json.loads(out.read_text()).get("stages", {}) if out.exists() else {}
        if not db.exists() or "casework" not in done or "daily_ingest" in done:
            raise SystemExit(f"--resume needs {db} from a run that got past casework and has not ingested its day: "
                             "run this size again without --resume")
    else:
        shutil.rmtree(db.parent, ignore_errors=True)
        db.parent.mkdir(parents=True)
    env = dict(os.environ)
    if memory_limit:
        env["SCAMTRACE_MEMORY_LIMIT"] = memory_limit
    if threads:
        env["SCAMTRACE_THREADS"] = str(threads)
    load_before = os.getloadavg()
    print(f"[{label(n)}] world ready ({gen_seconds:.0f} s), running the pipeline (load {load_before[0]:.1f}) ...", flush=True)
    cmd = [sys.executable, __file__, "--child", str(world), str(db), str(out)]
    cmd += ["--with-daily"] if daily_rows else []
    cmd += ["--export-full"] if export_full else []
    cmd += ["--statement-budget", str(budget)] if budget else []
    cmd += ["--ingest-only"] if ingest_only else []
    cmd += ["--resume"] if resume else []
    cmd += ["--skip-export"] if skip_export else []
    cmd += ["--formats", "real"] if real else []
    with open(db.parent / "run.log", "a" if resume else "w") as log:
        try:
            subprocess.run(cmd, check=True, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout)
        except (subprocess.TimeoutExpired, subprocess.CalledProcessError) as exc:
            print(f"[{label(n)}] the run did not finish ({type(exc).__name__}); keeping its partial figures", flush=True)
    res = json.loads(out.read_text())
    res.setdefault("stages", {}).setdefault("end_to_end", None)
    res["db_bytes"] = sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.is_file())
    res.update(
        size=n,
        label=label(n),
        world=manifest,
        memory_limit=env.get("SCAMTRACE_MEMORY_LIMIT", "2GB (default)"),
        load_avg_before=[round(x, 2) for x in load_before],
        load_avg_after=[round(x, 2) for x in os.getloadavg()],
        finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        world_bytes=(sum(p.stat().st_size for p in world.rglob("*") if p.is_file() and "truth" not in p.parts) if real
                     else sum(p.stat().st_size for p in (world / "transactions").rglob("*.parquet"))),
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = (f"real_{n}.json" if real else f"hubs_{n}.json" if hubs else f"ingest_{n}.json" if ingest_only else f"{n}.json")
    (RESULTS / name).write_text(json.dumps(res, indent=2, default=str))
    return res


REAL_PRESETS = {1_000_000: "1m", 10_000_000: "10m", 100_000_000: "100m"}


def real_world(n: int, world: Path) -> dict:
    """The synthetic generator's world in the formats banks send, generated once (manifest.json marks it done)."""
    if n not in REAL_PRESETS:
        raise SystemExit(f"--formats real has worlds of {', '.join(label(k) for k in REAL_PRESETS)} only")
    manifest = world.with_name(world.name + ".manifest.json")  # outside the folder that is ingested
    if manifest.exists() and world.exists():
        return json.loads(manifest.read_text())
    from worlds.synth import generate_world

    shutil.rmtree(world, ignore_errors=True)
    t = time.perf_counter()
    summary = generate_world(world, seed=7, scale=REAL_PRESETS[n], fmt="extracts")
    info = {"generator": "worlds.synth", "preset": REAL_PRESETS[n], "seconds": round(time.perf_counter() - t, 1),
            "summary": summary}
    manifest.write_text(json.dumps(info, indent=2, default=str))
    return info


def formats_table() -> str:
    """The --formats real runs: the pipeline's stages, and the ingest per reader with its ratio to the floor."""
    runs = sorted((json.loads(p.read_text()) for p in RESULTS.glob("real_*.json")), key=lambda r: r["size"])
    if not runs:
        return ""
    lines = ["Ingest from the formats banks send (`--formats real`; stage seconds, x = ratio to the floor):", "",
             "| world | rows read | floor | ingest | detect | casework | export | end to end | peak RSS | load |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        st, floor = r.get("stages", {}), r.get("stages", {}).get("floor") or 0
        def cell(k):
            v = st.get(k)
            return "-" if v is None else f"{v:.1f}" + (f" ({v / floor:.0f}x)" if floor else "")
        lines.append(f"| {r['label']} | {r.get('counts', {}).get('rows_read', 0):,} | {floor:.2f} | {cell('ingest')} | "
                     f"{cell('detect')} | {cell('casework')} | {cell('export')} | {cell('end_to_end')} | "
                     f"{r.get('peak_rss_mb', 0) / 1024:.1f} GB | {r.get('load_avg_before', [0])[0]} |")
    for r in runs:
        readers = r.get("by_reader", {})
        total = sum(d["rows_read"] for d in readers.values() if d["table"] == "transactions") or 1
        floor = r.get("stages", {}).get("floor") or 0
        lines += ["", f"{r['label']}, per reader (transactions):", "",
                  "| reader | files | rows read | read / derive / validate / commit s | rows/s | x floor share |",
                  "|---|---|---|---|---|---|"]
        for name, d in sorted(readers.items(), key=lambda kv: -kv[1]["rows_read"]):
            if d["table"] != "transactions":
                continue
            sec = d["seconds"]
            tot = sum(sec.values())
            share = floor * d["rows_read"] / total
            parts = " / ".join(f"{sec.get(k, 0):.1f}" for k in ("read", "derive", "validate", "commit"))
            ratio = f"{tot / share:.0f}x" if share else "-"
            lines.append(f"| {name} | {d['files']:,} | {d['rows_read']:,} | {parts} | {d['rows_read'] / tot:,.0f} | {ratio} |"
                         if tot else f"| {name} | {d['files']:,} | {d['rows_read']:,} | {parts} | - | - |")
    return "\n".join(lines)


def _found(f: dict | None) -> str | None:
    return f"{f['found']:,} / {f['planted']:,} ({f['subjects_hit']:,})" if f else None


def ingest_table() -> str:
    """The ingest-only series (--ingest-only): ingest, floor and the day's ingest, run back to back."""
    rs = sorted((json.loads(p.read_text()) for p in RESULTS.glob("ingest_*.json")), key=lambda r: r["size"])
    if not rs:
        return ""
    heads = [r["label"] for r in rs]
    out = ["Ingest series (`--ingest-only`: ingest, floor, then the day's 1M-row ingest on top; 1M world: 100k rows):", "",
           "| figure | " + " | ".join(heads) + f" | exponent {heads[0]}->{heads[-1]} |", "|---|" + "---|" * len(heads) + "---|"]

    def row(name, get, digits=1, exp=True):
        vals = [get(r) for r in rs]
        e = exponent(rs[0], rs[-1], get) if exp else None
        out.append(f"| {name} | " + " | ".join(_f(v, digits) for v in vals) + f" | {_f(e, 2)} |")

    row("floor (s)", lambda r: r["stages"].get("floor"), 2)
    row("ingest (s)", lambda r: r["stages"].get("ingest"))
    for part in ("read", "derive", "validate", "commit"):
        row(f"  {part} (s)", lambda r, p=part: r.get("ingest_parts", {}).get(p))
    row("ingest rows/s", lambda r: r["counts"]["rows_read"] / r["stages"]["ingest"], 0, exp=False)
    row("ingest / floor", lambda r: r["stages"]["ingest"] / r["stages"]["floor"], 0, exp=False)
    row("peak RSS during ingest (MB)", lambda r: r.get("stage_peak_mb", {}).get("ingest"), 0, exp=False)
    row("store size (GB)", lambda r: (r.get("db_bytes") or 0) / 1e9, 2)
    row("daily ingest (s)", lambda r: r["stages"].get("daily_ingest"), 1, exp=False)
    out.append("| load average before / after | " + " | ".join(
        f"{r['load_avg_before'][0]:.1f} / {r['load_avg_after'][0]:.1f}" for r in rs) + " | |")
    return "\n".join(out)


def load_results() -> list[dict]:
    return sorted((json.loads(p.read_text()) for p in RESULTS.glob("[0-9]*.json")), key=lambda r: r["size"])


def exponent(r1: dict, r2: dict, get) -> float | None:
    a, b = get(r1), get(r2)
    if not a or not b or a <= 0 or b <= 0 or r1["size"] == r2["size"]:
        return None
    return math.log(b / a) / math.log(r2["size"] / r1["size"])


def _f(x, digits=1) -> str:
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def tables(results: list[dict]) -> str:
    if not results:
        return "(no results)"
    heads = [r["label"] for r in results]
    lines: list[str] = []
    first, last = results[0], results[-1]
    span = f"{first['label']}->{last['label']}"

    def row(name, get, digits=1, exp=True, ratio=True, stage=None, optional=False):
        vals = [get(r) for r in results]
        if optional and all(v is None for v in vals):
            return  # a figure that runs before it did not record
        cells = [_f(v, digits) for v in vals]
        if stage:  # a stage that failed, or ran on the output of one that failed, has no figure to compare
            for i, r in enumerate(results):
                bad = _invalid(r, stage)
                if bad:
                    cells[i] = f"{bad}" + (f" after {vals[i]:,.0f} s" if vals[i] and stage in r.get("failed", {}) else "")
                    vals[i] = None
        if ratio:
            floors = [r["stages"].get("floor") for r in results]
            cells = [f"{c} ({v / fl:,.0f}x)" if v and fl else c for c, v, fl in zip(cells, vals, floors)]
        ok = [(r, v) for r, v in zip(results, vals) if v]
        e = exponent(ok[0][0], ok[-1][0], lambda r: dict((id(a), b) for a, b in ok)[id(r)]) if exp and len(ok) > 1 else None
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {_f(e, 2)} |")

    lines.append("| stage (seconds; x = ratio to the floor) | " + " | ".join(heads) + f" | exponent {span} |")
    lines.append("|---|" + "---|" * len(heads) + "---|")
    st = lambda k: (lambda r: r["stages"].get(k))  # noqa: E731
    row("floor: one scan + group-by", st("floor"), 2, ratio=False)
    row("start-up (imports: GX, rules, exports)", st("startup"), exp=False)
    row("ingest (read, derive, validate, commit)", st("ingest"), stage="ingest")
    for part in ("read", "derive", "validate", "commit"):
        row(f"  ingest: {part} (transaction files)", lambda r, p=part: r.get("ingest_parts", {}).get(p))
    row("detect (all rules + typology scores)", st("detect"), stage="detect")
    rule_ids = sorted({k for r in results for k in r.get("rules", {})})
    for rid in rule_ids:
        row(f"  rule {rid}", lambda r, k=rid: (r.get("rules", {}).get(k) or {}).get("seconds"), 2)
    row("casework (alerts, networks, compound links)", st("casework"), stage="casework")
    cw = sorted({k for r in results for k in r.get("casework", {})})
    for k in cw:
        row(f"  casework: {k}", lambda r, k=k: r.get("casework", {}).get(k), 2)
    row("export", st("export"), stage="export")
    row("end to end (start-up + ingest + detect + casework + export)", st("end_to_end"), stage="end_to_end")
    lines.append("")
    lines.append("| figure | " + " | ".join(heads) + f" | exponent {span} |")
    lines.append("|---|" + "---|" * len(heads) + "---|")
    row("ingest rows/s (transactions)", lambda r: r["counts"]["rows_read"] / r["stages"]["ingest"], 0, exp=False, ratio=False)
    # the high-water mark is reset at each stage (peak_memory.reset_hwm): the run's peak is the largest stage's
    row("peak RSS, whole run (MB)", lambda r: max(r.get("stage_peak_mb", {}).values(), default=r.get("peak_rss_mb")),
        0, ratio=False)
    for k in ("ingest", "detect", "casework", "export"):
        row(f"  peak RSS during {k} (MB)", lambda r, k=k: r.get("stage_peak_mb", {}).get(k), 0, exp=False, ratio=False)
    row("  export: largest worker process (MB)", lambda r: r.get("stage_worker_peak_mb", {}).get("export"), 0,
        exp=False, ratio=False, optional=True)
    for part in ("select", "tables", "goaml", "graphml", "xlsx_wait", "manifest"):
        row(f"  export: {part} (s)", lambda r, p=part: r.get("export_parts", {}).get(p), exp=False, ratio=False,
            optional=True)
    row("store size (GB)", lambda r: r.get("db_bytes", 0) / 1e9, 2, ratio=False)
    row("Parquet input (GB)", lambda r: r.get("world_bytes", 0) / 1e9, 2, ratio=False)
    row("rows loaded", lambda r: r["counts"].get("rows_loaded"), 0, exp=False, ratio=False)
    row("rule hits -> alerts", lambda r: r["counts"].get("alerts"), 0, exp=False, ratio=False)
    row("networks", lambda r: r["counts"].get("networks"), 0, exp=False, ratio=False)
    for key, when in (("planted_found", "history"), ("daily_planted_found", "day")):
        for kind, rule_ids in PLANTED_RULES.items():
            cells = [_found(r.get(key, {}).get(kind)) for r in results]
            if any(cells):  # runs before this figure existed have none
                lines.append(f"| planted {kind.replace('_', '-')} ({when}) found by {' / '.join(rule_ids)}: found / "
                             "planted (subjects hit) | " + " | ".join(c or "-" for c in cells) + " | - |")
    if any("daily_ingest" in r["stages"] for r in results):
        for k in ("daily_ingest", "daily_detect", "daily_casework", "daily_export", "daily_total"):
            row(f"incremental day: {k.removeprefix('daily_')}", st(k), exp=False, ratio=False, stage=k)
        row("incremental day: rows", lambda r: r["counts"].get("daily_rows"), 0, exp=False, ratio=False)
        for part in ("select", "tables", "goaml", "graphml", "xlsx_wait"):
            row(f"incremental day: export {part} (s)", lambda r, p=part: r.get("daily_export_parts", {}).get(p),
                exp=False, ratio=False, optional=True)
    lines.append("")
    lines.append("| run | " + " | ".join(heads) + " |")
    lines.append("|---|" + "---|" * len(heads))
    lines.append("| load average before / after | " + " | ".join(
        f"{r['load_avg_before'][0]:.1f} / {r['load_avg_after'][0]:.1f}" for r in results) + " |")
    lines.append("| DuckDB memory_limit | " + " | ".join(str(r.get("memory_limit")) for r in results) + " |")
    lines.append("| finished (UTC) | " + " | ".join(r.get("finished_at", "") for r in results) + " |")
    return "\n".join(lines)


def _invalid(r: dict, stage: str) -> str:
    failed = r.get("failed", {})
    order = ["ingest", "detect", "casework", "export"]
    if stage in failed:
        return "not finished" if failed[stage].startswith("not finished") else "failed"
    if stage == "end_to_end":
        return "incomplete" if any(s in failed or s not in r["stages"] for s in order) else ""
    if stage in order and any(s in failed for s in order[: order.index(stage)]):
        return "n/a (earlier stage failed)"
    if stage.startswith("daily_") and stage in ("daily_casework", "daily_export", "daily_total") and stage not in r["stages"]:
        return "not finished" if "daily_detect" in r["stages"] else "not run"
    if stage not in r["stages"]:
        return "not run"
    return ""


def machine() -> str:
    import duckdb
    import polars
    import pyarrow

    try:
        import great_expectations as gx

        gxv = gx.__version__
    except Exception:  # pragma: no cover
        gxv = "?"
    mem = 0
    try:
        mem = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1]) // 1024 // 1024
    except Exception:
        pass
    cpu = ""
    try:
        cpu = next(l for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")).split(":", 1)[1].strip()
    except Exception:
        pass
    return (f"{os.cpu_count()} cores ({cpu}), {mem} GB RAM, {platform.system()} {platform.release()}; Python "
            f"{platform.python_version()}, DuckDB {duckdb.__version__}, polars {polars.__version__}, pyarrow "
            f"{pyarrow.__version__}, Great Expectations {gxv}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1M,10M", help="comma-separated: 1M,10M,30M,100M")
    ap.add_argument("--daily", default="0", help="rows of the incremental day run on top of each size (e.g. 1M; 0 = none)")
    ap.add_argument("--memory-limit", help="DuckDB memory_limit for the run (SCAMTRACE_MEMORY_LIMIT), e.g. 8GB")
    ap.add_argument("--threads", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--export-full", action="store_true", help="full export (HTML case reports, per-network files)")
    ap.add_argument("--hubs", action="store_true", help="stress world: 0.1 %% of accounts are merchant hubs (results kept apart)")
    ap.add_argument("--timeout", type=float, help="give up a size after this many seconds")
    ap.add_argument("--statement-budget", type=float, help="interrupt any one SQL statement after this many seconds")
    ap.add_argument("--ingest-only", action="store_true", help="ingest and floor only (and the day's ingest with --daily)")
    ap.add_argument("--resume", action="store_true",
                    help="continue a run that stopped after casework (e.g. killed in the export): export and the day")
    ap.add_argument("--skip-export", action="store_true",
                    help="no export of the history (the day's quick export still runs with --daily)")
    ap.add_argument("--formats", choices=("canonical", "real"), default="canonical",
                    help="real: the synthetic world as bank extracts, statements and explorer exports (results kept apart)")
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--with-daily", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        world, db, out = map(Path, args.child)
        child(world, db, out, args.with_daily, args.export_full, args.statement_budget, args.ingest_only, args.resume,
              args.skip_export, args.formats == "real")
        return
    if not args.report_only:
        for s in args.sizes.split(","):
            run_size(parse_size(s), parse_size(args.daily), args.memory_limit, args.threads, args.export_full,
                     args.hubs, args.timeout, args.statement_budget, args.ingest_only, args.resume, args.skip_export,
                     args.formats == "real")
    if args.formats == "real":  # its own table; BENCHMARKS.md is left as it is
        print(formats_table())
        return
    results = load_results()
    text = tables(results) + "\n\n" + ingest_table() + "\n\n" + formats_table()
    print(text)
    write_benchmarks_md(results, text)


def write_benchmarks_md(results: list[dict], text: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    notes_path = ROOT / "bench" / "BENCHMARKS.notes.md"
    notes = notes_path.read_text() if notes_path.exists() else ""
    body = [
        "# Benchmarks at national scale",
        "",
        "Generated by `python bench/run.py` (see [docs/benchmarks.md](docs/benchmarks.md)); edit "
        "`bench/BENCHMARKS.notes.md` for the commentary below the figures.",
        "",
        f"Machine: {machine()}. The machine was shared with other jobs during the runs: the load average is given "
        "with each size (2 cores: a load of 4 roughly halves the speed of everything).",
        "",
        "World: worlds/canonical.py (canonical-transaction Parquet, one file per month over 365 days, account "
        "activity log-normally skewed, each account paying mostly its own book of regular payees, 1.5 % of accounts "
        "merchants, planted fan-in / pass-through / structuring / scatter-gather), plus KYC for up to 50k accounts "
        "and every merchant, up to 200k login events and daily FX rates. Export: "
        + ("full." if any(r.get("export_full") for r in results) else
           "tables, goAML per alert, network.graphml and manifest (`full=False`, the batch export); "
           "see the notes for the full export."),
        "",
        text,
        "",
        notes,
    ]
    path.write_text("\n".join(body).rstrip() + "\n")


if __name__ == "__main__":
    main()
