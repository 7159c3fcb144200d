"""Time the casework stage (rules.casework.build: parties, compound links, alerts, networks) on a bench store.

    python bench/bench_casework.py                                            # the cached 1M bench store
    python bench/bench_casework.py --db bench/cache/world_10000000/store/bench.duckdb --memory-limit 6GB
    python bench/bench_casework.py --db bench/cache/world_hubs_1000000/store/bench.duckdb --daily
    python bench/bench_casework.py --samples                                  # data/samples (ingested here)
    python bench/bench_casework.py --json out.json --keep-digest digests.json

The bench stores of bench/run.py hold ingested data only (and the run's incremental day). The first call for a
store runs the rule pack once on a scratch copy of it, with the incremental day set aside in a table of its own,
and keeps that copy as `<store dir>/casework_base.duckdb` (the detect run's id in table bench_casework_meta), so
every later casework run starts from the same rule outputs, whatever the rules do meanwhile (`--redetect`
rebuilds it). The cached bench store itself is never written.

Each run copies the base to a scratch file, calls rules.casework.build on the detect run, and prints the seconds of
each casework step, the process's peak RSS (VmHWM) and the load average, then a digest per output table (alerts,
alert_evidence, networks, network_members, network_edges, compound_links, party_clusters; columns that name the
run or the wall clock left out, doubles rounded to 10 decimals; an order-free sum of DuckDB row hashes): two
versions of the casework that give the same digests built the same cases. `--daily` then puts the day back, detects over it (as bench/run.py's daily
batch does) on top of a first build, keeps that as `<store dir>/casework_daily_base.duckdb`, and times the build
of the day from it (once that base exists, `--daily` times the day only). Scratch copies and DuckDB temp files are
removed; DuckDB's spill is capped (--max-temp).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peak_memory import hwm_mb, reset_hwm  # bench/, the script's folder

DIGEST_TABLES = ("alerts", "alert_evidence", "networks", "network_members", "network_edges", "compound_links",
                 "party_clusters")
NOT_DIGESTED = {"run_id", "first_run_id", "created_at", "updated_at"}


def digests(con) -> dict[str, str]:
    """Per casework output table: rows and an order-free digest (sum of DuckDB row hashes) over the columns that
    do not name the run or the wall clock, doubles rounded to 10 decimals. Computed in SQL: millions of evidence
    rows or edges digest in seconds."""
    out = {}
    for t in DIGEST_TABLES:
        cols = [(r[0], r[1]) for r in con.execute(f"DESCRIBE {t}").fetchall() if r[0] not in NOT_DIGESTED]
        sel = ", ".join(f'round("{c}", 10)' if ty == "DOUBLE" else f'"{c}"' for c, ty in cols)
        n, h = con.execute(f"SELECT count(*), sum(hash({sel})::HUGEINT) % 18446744073709551616 FROM {t}").fetchall()[0]
        out[t] = f"{n}:{int(h or 0):016x}"
    return out


def _daily_filter() -> str:
    return "file_id IN (SELECT file_id FROM ingested_files WHERE path LIKE '%/daily/%')"


def _build_base(src: Path, base: Path, samples: bool) -> None:
    """Scratch copy of the store (or an ingest of data/samples), the day set aside, the rule pack run once."""
    from rules.engine import detect
    from transforms.store import connect, delete_facts

    tmp = base.with_suffix(".tmp.duckdb")
    tmp.unlink(missing_ok=True)
    t = time.perf_counter()
    if samples:
        from transforms.ingest import ingest_paths

        world = ROOT / "data/samples"
        ingest_paths(tmp, [world])
    else:
        shutil.copyfile(src, tmp)
    con = connect(tmp)
    con.execute("SET max_temp_directory_size = '20GB'")
    try:
        con.execute("CREATE OR REPLACE TABLE bench_casework_day AS SELECT * FROM transactions WHERE " + _daily_filter())
        delete_facts(con, "transactions", _daily_filter())  # transactions_keys too (see transforms/store.py)
        s = detect(con)
        con.execute("CREATE OR REPLACE TABLE bench_casework_meta AS SELECT ? AS run_id, ? AS detect_seconds",
                    [s.run_id, s.seconds])
        print(f"base: detect {s.seconds:.1f} s, {s.alerts} typology alerts -> {base}", flush=True)
    finally:
        con.close()
    tmp.rename(base)
    print(f"base built in {time.perf_counter() - t:.1f} s", flush=True)


def _build(con, run_id: str, label: str) -> dict:
    from rules import casework

    reset_hwm()
    load = os.getloadavg()[0]
    t = time.perf_counter()
    s = casework.build(con, run_id)
    wall = time.perf_counter() - t
    peak = hwm_mb()
    steps = "  ".join(f"{k} {v:.2f}" for k, v in s["timings"].items())
    print(f"{label}: {wall:.1f} s  peak {peak:.0f} MB  load {load:.1f}->{os.getloadavg()[0]:.1f}  "
          f"alerts {s.get('alerts')} networks {s.get('networks')} members {s.get('network_members')}", flush=True)
    print(f"  steps (s): {steps}", flush=True)
    return {"seconds": round(wall, 2), "peak_rss_mb": round(peak), "load": [round(load, 1), round(os.getloadavg()[0], 1)],
            "timings": s["timings"], "alerts": s.get("alerts"), "networks": s.get("networks"),
            "network_members": s.get("network_members")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=str(ROOT / "bench/cache/world_1000000/store/bench.duckdb"))
    ap.add_argument("--samples", action="store_true", help="data/samples instead of a bench store")
    ap.add_argument("--memory-limit", help="DuckDB memory_limit (SCAMTRACE_MEMORY_LIMIT), e.g. 6GB")
    ap.add_argument("--daily", action="store_true", help="also time the casework of the incremental day")
    ap.add_argument("--redetect", action="store_true", help="rebuild the cached detect base")
    ap.add_argument("--no-digest", action="store_true", help="skip the output digests")
    ap.add_argument("--max-temp", default="20GB", help="DuckDB max_temp_directory_size (default 20GB)")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--compare", help="a --json file of an earlier run: say which digests differ")
    args = ap.parse_args()
    if args.memory_limit:
        os.environ["SCAMTRACE_MEMORY_LIMIT"] = args.memory_limit
    if args.samples:
        src = ROOT / "data/samples"
        base = ROOT / "bench/cache/samples_casework_base.duckdb"
    else:
        src = Path(args.db)
        if not src.exists():
            sys.exit(f"{src}: no such store; build it with `python bench/run.py --sizes 1M --ingest-only` first")
        base = src.parent / "casework_base.duckdb"
    if args.redetect:
        base.unlink(missing_ok=True)
    if not base.exists():
        _build_base(src, base, args.samples)

    from transforms.store import connect

    scratch = Path(tempfile.mkdtemp(prefix="bench-casework-", dir=str(base.parent)))
    res: dict = {"db": str(src), "memory_limit": os.environ.get("SCAMTRACE_MEMORY_LIMIT", "default")}
    daily_base = base.parent / base.name.replace("casework_base", "casework_daily_base")

    def open_copy(path: Path):
        db = scratch / "store.duckdb"
        shutil.copyfile(path, db)
        con = connect(db)
        con.execute("SET temp_directory = ?", [str(scratch / "tmp")])
        con.execute("SET max_temp_directory_size = ?", [args.max_temp])  # a runaway spill fails, not the disk
        return con

    def alerts_of(con, run_id: str):
        return con.execute("SELECT count(*) FILTER (WHERE is_alert), count(DISTINCT subject_id) FILTER (WHERE is_alert)"
                           " FROM typology_scores WHERE run_id = ?", [run_id]).fetchall()[0]

    try:
        if not (args.daily and daily_base.exists()):
            con = open_copy(base)
            run_id = con.execute("SELECT run_id FROM bench_casework_meta").fetchall()[0][0]
            n = con.execute("SELECT count(*) FROM transactions").fetchall()[0][0]
            ta = alerts_of(con, run_id)
            print(f"{src}: {n:,} transactions, {ta[0]:,} typology alerts on {ta[1]:,} subjects", flush=True)
            res.update(transactions=n, typology_alerts=ta[0])
            res["full"] = _build(con, run_id, "casework")
            if not args.no_digest:
                res["digests"] = digests(con)
                for k, v in res["digests"].items():
                    print(f"  {k:<16} {v}")
            if args.daily and not con.execute("SELECT count(*) FROM bench_casework_day").fetchall()[0][0]:
                print("daily: the store has no incremental day")
            elif args.daily:  # the day detected once on top of this build, kept as the daily base
                from rules.engine import detect
                from transforms.store import insert_facts

                day = con.execute("SELECT min(booked_at), max(booked_at), count(*) FROM bench_casework_day").fetchall()[0]
                insert_facts(con, "transactions", "SELECT * FROM bench_casework_day")  # and transactions_keys
                t = time.perf_counter()
                d = detect(con, since=day[0], until=day[1] + timedelta(microseconds=1))
                print(f"daily: {day[2]:,} transactions, detect {time.perf_counter() - t:.1f} s, {d.alerts} typology"
                      f" alerts -> {daily_base}", flush=True)
                con.execute("CREATE OR REPLACE TABLE bench_casework_daily AS SELECT ? AS run_id", [d.run_id])
                con.execute("CHECKPOINT")
                con.close()
                shutil.copyfile(scratch / "store.duckdb", daily_base)
            con.close()
        if args.daily and daily_base.exists():
            con = open_copy(daily_base)
            run_id = con.execute("SELECT run_id FROM bench_casework_daily").fetchall()[0][0]
            ta = alerts_of(con, run_id)
            print(f"daily: {ta[0]:,} typology alerts on {ta[1]:,} subjects", flush=True)
            res["daily"] = _build(con, run_id, "daily casework")
            if not args.no_digest:
                res["daily_digests"] = digests(con)
                for k, v in res["daily_digests"].items():
                    print(f"  {k:<16} {v}")
            con.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.compare:
        old = json.loads(Path(args.compare).read_text())
        for key in ("digests", "daily_digests"):
            for t, v in res.get(key, {}).items():
                o = old.get(key, {}).get(t)
                print(f"{key}.{t}: {'same' if o == v else f'DIFFERS (was {o}, now {v})'}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2, default=str))


if __name__ == "__main__":
    main()
