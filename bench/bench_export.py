"""Time the export (exports.export) of a bench store: seconds per part, rows, peak RSS.

    python bench/bench_export.py                                    # the cached 1M bench store, every alert
    python bench/bench_export.py --db bench/cache/world_100000000/store/bench.duckdb \\
        --since 2026-11-15 --until 2026-11-16                       # the incremental day's quick export
    python bench/bench_export.py --formats csv,parquet --full --workers 1 --json out.json

The store is opened read-only (an export never writes to it), so it needs no copy; it must hold casework
tables (bench/run.py leaves them after casework). The export goes to a scratch folder that is removed
afterwards (--keep to keep it). Printed: the seconds of each part (select, tables, goaml, graphml, html,
jurisdictions, manifest), the rows of each table, the goAML reports written per second, the peak RSS of
this process and of the largest worker process (goAML workers; --workers, or $SCAMTRACE_EXPORT_WORKERS).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peak_memory import ChildrenPeak, hwm_mb, reset_hwm  # bench/, the script's folder

DEFAULT_DB = ROOT / "bench" / "cache" / "world_1000000" / "store" / "bench.duckdb"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=DEFAULT_DB)
    ap.add_argument("--since", help="alerts whose evidence overlaps [since, until)")
    ap.add_argument("--until")
    ap.add_argument("--status", help="e.g. new,updated (what a batch run exports)")
    ap.add_argument("--min-score", type=float, help="alerts with at least this priority score (the top of a year)")
    ap.add_argument("--formats", default=None, help="default: every format")
    ap.add_argument("--full", action="store_true", help="also the per-network files (reports, jurisdictions)")
    ap.add_argument("--workers", type=int, help="goAML worker processes (default: one per core)")
    ap.add_argument("--memory-limit", default="8GB")
    ap.add_argument("--keep", type=Path, help="write the export here and keep it")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = ap.parse_args()
    if not args.db.is_file():
        sys.exit(f"{args.db}: no such store; run bench/run.py first (it leaves the store after casework)")
    if args.workers:
        os.environ["SCAMTRACE_EXPORT_WORKERS"] = str(args.workers)

    import duckdb
    from loky import get_reusable_executor

    import exports

    out = args.keep or Path(tempfile.mkdtemp(prefix="bench_export_"))
    con = duckdb.connect(str(args.db), read_only=True)
    con.execute(f"SET memory_limit = '{args.memory_limit}'")
    reset_hwm()
    children = ChildrenPeak()
    children.start()
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    try:
        res = exports.export(con, out, formats=args.formats, full=args.full, since=args.since, until=args.until,
                             status=args.status, min_score=args.min_score)
    except exports.ExportError as exc:
        sys.exit(f"{args.db}: {exc} (bench/run.py leaves the casework tables in its store)")
    finally:
        con.close()
        worker_peak = children.stop()
        get_reusable_executor().shutdown(wait=True)
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    seconds = time.perf_counter() - t0
    n_goaml = len(res["goaml"].get("valid", [])) + len(res["goaml"].get("invalid", []))
    fig = {
        "db": str(args.db), "seconds": round(seconds, 1), "parts": res["parts"],
        "counts": {k: v for k, v in res["counts"].items() if isinstance(v, int)},
        "files": len(res["files"]), "goaml_reports": n_goaml,
        "goaml_per_s": round(n_goaml / res["parts"]["goaml"], 1) if res["parts"].get("goaml") else None,
        "peak_mb": round(hwm_mb()),
        "worker_peak_mb": round(worker_peak),
        "workers": os.environ.get("SCAMTRACE_EXPORT_WORKERS") or "default",
        "load": [round(load0, 1), round(os.getloadavg()[0], 1)],
    }
    print(f"export of {args.db}: {fig['seconds']} s, {fig['files']} files, peak RSS {fig['peak_mb']} MB "
          f"(largest worker {fig['worker_peak_mb']} MB), load {fig['load'][0]} -> {fig['load'][1]}")
    for part, s in res["parts"].items():
        print(f"  {part:<14} {s:8.1f} s")
    print("  rows: " + ", ".join(f"{k} {v:,}" for k, v in fig["counts"].items()))
    if n_goaml:
        print(f"  goAML: {n_goaml:,} reports, {fig['goaml_per_s']} per second")
    if args.json:
        args.json.write_text(json.dumps(fig, indent=2))


if __name__ == "__main__":
    main()
