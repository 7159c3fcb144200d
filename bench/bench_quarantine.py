"""Quarantine at load speed: a delimited extract whose rows all fail a check, against the same file valid.

    python bench/bench_quarantine.py            # 1,000,000 rows each
    python bench/bench_quarantine.py --rows 200000

Both files have the same layout and size (a mapping file, USD amounts); the bad one has amount 0 on every row, so
every row is quarantined by a Great Expectations check. Prints the seconds of each `scamtrace ingest`, start-up
included, and the ratio.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAPPING = ('name: simple\nfiles: ["s_*.csv"]\n'
           "columns: {booked_at: t, account: acct, counterparty_account: cp, amount: amt, currency: ccy, txn_id: ref}\n")


def write(folder: Path, rows: int, amount: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "simple.mapping.yml").write_text(MAPPING)
    with open(folder / "s_1.csv", "w") as f:
        f.write("ref,t,acct,cp,amt,ccy\n")
        for i in range(rows):
            f.write(f"R{i},2026-03-02 {i % 24:02d}:{i % 60:02d}:00,A{i % 5000},B{i % 7000},{amount},USD\n")
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        seconds = {}
        for name, amount in (("valid", "5"), ("all quarantined", "0")):
            folder = write(Path(tmp) / name.replace(" ", "_"), args.rows, amount)
            t0 = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "flows.cli", "ingest", str(folder), "--db", str(folder / "s.duckdb"),
                                   "--quiet"], cwd=Path(__file__).resolve().parents[1])
            if done.returncode != (0 if amount != "0" else 1):  # nothing loaded ends with exit code 1 (docs/guarantees.md)
                raise SystemExit(f"ingest of the {name} file ended with exit code {done.returncode}")
            seconds[name] = time.perf_counter() - t0
            print(f"{name:16s} {args.rows:>10,} rows  {seconds[name]:7.1f} s  {args.rows / seconds[name]:>9,.0f} rows/s")
        print(f"all quarantined / valid: {seconds['all quarantined'] / seconds['valid']:.2f}")


if __name__ == "__main__":
    main()
