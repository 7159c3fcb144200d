"""Time the rule pack (or some rules) on an ingested store, with a digest of each rule's hits.

    python bench/bench_rules.py                                   # whole pack on the cached 10M bench store
    python bench/bench_rules.py --db bench/cache/world_1000000/store/bench.duckdb --rules fan_in_7d,fan_out_8h
    python bench/bench_rules.py --memory-limit 6GB --json out.json
    python bench/bench_rules.py --with-daily --since 2026-11-15      # the incremental day on top of the history

The store is copied to a scratch file first, so the cached bench store (bench/run.py) stays as it was. Per rule it
prints seconds, hits, the process's peak RSS so far, and a digest of the hits (subject, value, band, evidence ids,
window, evidence columns with floats rounded to 9 significant digits): two versions of a rule.sql that give the
same digest found the same hits with the same evidence. Run `python bench/run.py` first to build the stores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peak_memory import hwm_mb  # bench/, the script's folder


def _round(v):
    if isinstance(v, float):
        return float(f"{v:.9g}")
    if isinstance(v, dict):
        return {k: _round(x) for k, x in sorted(v.items())}
    if isinstance(v, list):
        return [_round(x) for x in v]
    return v


def digest(con, run_id: str, rule_id: str) -> str:
    rows = con.execute(
        """SELECT subject_id, measured_value, band, txn_ids, member_ids, window_start, window_end, evidence
           FROM rule_hits WHERE run_id = ? AND rule_id = ? ORDER BY subject_id, window_start, measured_value""",
        [run_id, rule_id],
    ).fetchall()
    h = hashlib.sha256()
    for subj, value, band, txns, members, ws, we, ev in rows:
        item = [subj, _round(float(value)), band, sorted(txns or []), sorted(members or []), str(ws), str(we),
                _round(json.loads(ev)) if ev else None]
        h.update(json.dumps(item, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=str(ROOT / "bench/cache/world_10000000/store/bench.duckdb"))
    ap.add_argument("--rules", help="comma-separated rule ids (default: the whole pack)")
    ap.add_argument("--memory-limit", help="DuckDB memory_limit (SCAMTRACE_MEMORY_LIMIT), e.g. 6GB")
    ap.add_argument("--max-temp", default="20GB",
                    help="cap on DuckDB's spill (max_temp_directory_size): a runaway rule fails instead of filling the disk")
    ap.add_argument("--with-daily", action="store_true", help="keep the incremental day bench/run.py added")
    ap.add_argument("--since", help="detect over [since, end of data) only, as the daily batch does (with --with-daily: "
                                    "the day bench/run.py added, e.g. 2026-11-15)")
    ap.add_argument("--dump", help="write each rule's hits to DIR/<rule>.parquet (to diff two versions)")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    if args.memory_limit:
        os.environ["SCAMTRACE_MEMORY_LIMIT"] = args.memory_limit
    src = Path(args.db)
    if not src.exists():
        sys.exit(f"{src}: no such store; build it with `python bench/run.py --sizes 10M` first")

    from rules.engine import DUCKDB, detect
    from rules.transfers import drop
    from transforms.store import connect, delete_facts

    # a killed run removes its scratch copy, once the statement running in DuckDB returns (kill -9 leaves it behind)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    scratch = Path(tempfile.mkdtemp(prefix="bench-rules-", dir=str(src.parent)))
    try:
        db = scratch / "store.duckdb"
        shutil.copyfile(src, db)
        con = connect(db)
        from rules import tables

        tables.ensure_tables(con)
        con.execute(f"SET max_temp_directory_size = '{args.max_temp}'")
        con.execute("DELETE FROM rule_hits")  # the bench store may hold an earlier run's hits
        if not args.with_daily:  # bench/run.py adds its incremental day to the cached store: measure the history
            delete_facts(con, "transactions",  # transactions_keys too (see transforms/store.py)
                         "file_id IN (SELECT file_id FROM ingested_files WHERE path LIKE '%/daily/%')")
            con.execute("CHECKPOINT")  # rules then read a compacted table, not one carrying the delete
        n = con.execute("SELECT count(*) FROM transactions").fetchone()[0]
        t = time.perf_counter()
        floor_t = time.perf_counter()
        con.execute("SELECT to_account_id, count(*), sum(amount_usd) FROM transactions GROUP BY ALL").fetchall()
        floor = time.perf_counter() - floor_t
        only = args.rules.split(",") if args.rules else None
        results = {}
        rule_ids = only
        if rule_ids is None:
            from rules.engine import load_rules
            rule_ids = sorted(load_rules(None)[1])
        print(f"{n:,} transactions; floor (one scan with a group-by) {floor:.2f} s")
        total = 0.0
        shared: dict = {}  # what rules build alike is built once, as in one detect run (rules/forwards.py)
        for rid in rule_ids:  # one rule per detect call, so each peak RSS is read right after its rule
            s = detect(con, only=[rid], run_id=f"bench-{rid}", since=args.since, shared=shared)
            r = s.rules[0]
            d = digest(con, f"bench-{rid}", rid)
            if args.dump:
                Path(args.dump).mkdir(parents=True, exist_ok=True)
                con.execute(f"COPY (SELECT * EXCLUDE (run_id) FROM rule_hits WHERE run_id = 'bench-{rid}' "
                            f"ORDER BY subject_id) TO '{Path(args.dump) / rid}.parquet' (FORMAT parquet)")
            results[rid] = {"seconds": round(r.seconds, 2), "hits": r.hits, "status": r.status,
                            "peak_rss_mb": round(hwm_mb()), "digest": d}
            if s.shared_seconds >= 0.01:  # the tables the rules share (rules/transfers.py), built when first read
                built = results.setdefault("(shared tables)", {"seconds": 0.0})
                built["seconds"] = round(built["seconds"] + s.shared_seconds, 2)
                total += s.shared_seconds
                print(f"{'(shared tables)':<20} {s.shared_seconds:8.2f} s", flush=True)
            total += r.seconds
            print(f"{rid:<20} {r.seconds:8.2f} s  {r.hits:>7} hits  {r.status:<8} peak {hwm_mb():7.0f} MB  {d}",
                  flush=True)
        drop(con, DUCKDB, shared)  # the shared tables the calls kept
        print(f"{'pack':<20} {total:8.2f} s  ({total / floor:.0f}x the floor)  peak {hwm_mb():.0f} MB; "
              f"wall {time.perf_counter() - t:.1f} s")
        if args.json:
            Path(args.json).write_text(json.dumps({"transactions": n, "floor": floor, "rules": results,
                                                   "pack_seconds": total, "peak_rss_mb": hwm_mb()}, indent=2))
        con.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
