"""Fast small commands: what a user waits for on a small file, start-up included.

    python bench/bench_small_commands.py            # 5 repetitions each, median and worst

Times `scamtrace --help`, ingesting a 2-row rates file, ingesting a 50-row bank extract with its mapping,
`scamtrace status`, and `scamtrace mapping suggest` on that extract, each as a new process (as a user runs them).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAPPING = ('name: small\nfiles: ["small_*.csv"]\n'
           "columns: {booked_at: t, account: acct, counterparty_account: cp, amount: amt, currency: ccy, txn_id: ref}\n")


def _cli(*args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "flows.cli", *args], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = str(folder / "s.duckdb")
        times: dict[str, list[float]] = {}
        for i in range(args.repeat):
            rates = folder / f"rates_{i}.csv"
            rates.write_text(f"date,currency,usd_per_unit\n2026-03-0{i + 1},THB,0.028\n2026-03-0{i + 1},MYR,0.21\n")
            bank = folder / f"b{i}"
            bank.mkdir()
            (bank / "small.mapping.yml").write_text(MAPPING)
            (bank / f"small_{i}.csv").write_text("ref,t,acct,cp,amt,ccy\n" + "".join(
                f"R{i}_{k},2026-03-02 1{k % 10}:00:00,A{k % 7},B{k % 5},-{k + 1}.50,THB\n" for k in range(50)))
            for name, argv in (("--help", ["--help"]),
                               ("ingest 2-row rates file", ["ingest", str(rates), "--db", db, "-q"]),
                               ("ingest 50-row bank extract", ["ingest", str(bank), "--db", db, "-q"]),
                               ("status", ["status", "--db", db]),
                               ("mapping suggest (50 rows)", ["mapping", "suggest", str(bank / f"small_{i}.csv")])):
                times.setdefault(name, []).append(_cli(*argv))
        for name, t in times.items():
            print(f"{name:28s} median {statistics.median(t):5.2f} s   worst {max(t):5.2f} s")


if __name__ == "__main__":
    main()
