"""Ingest benchmark: generate a delimited bank extract of N rows, ingest it, print rows/s, peak RSS and the ratio to
the polars floor (polars reads the same file with the same separators and groups it by account: what touching the
data once costs).

    python bench/bench_ingest.py --rows 1000000 [--rows 10000000]
    python bench/bench_ingest.py --rows 2000000 --style eu    # semicolons, decimal commas, dd/mm/yyyy HH:MM
    python bench/bench_ingest.py --rows 2000000 --style tronscan   # a Tronscan USDT token-transfer export
    python bench/bench_ingest.py --rows 200000 --style tronscan --files 4000   # the same rows in 4,000 exports

The extract is generated once per size (cached under bench/cache/). Ingest runs in a child process so that its
peak RSS is measured alone (ru_maxrss of the child). Prefect start-up is not included: this measures
transforms.ingest.ingest_paths, which the flow calls.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's code, also when run from a worktree of another commit
CACHE = ROOT / "bench" / "cache"

MAPPING = """name: bench_bank
files: ["bench_*.csv"]
delimiter: ","
timezone: Asia/Bangkok
datetime_formats: ["%Y-%m-%d %H:%M:%S"]
constants: {institution: BENCHBK, country: TH, currency: THB}
columns: {txn_id: ref, booked_at: booked, account: account, counterparty_account: counterparty, counterparty_name: cp_name, amount: amount, channel: channel, reference: memo}
"""


MAPPING_EU = """name: bench_bank_eu
files: ["bench_*.csv"]
delimiter: ";"
decimal: ","
thousands: "."
timezone: Asia/Bangkok
datetime_formats: ["%d/%m/%Y %H:%M"]
constants: {institution: BENCHBK, country: TH, currency: THB}
columns: {txn_id: ref, booked_at: booked, account: account, counterparty_account: counterparty, counterparty_name: cp_name, amount: amount, channel: channel, reference: memo}
"""


TRONSCAN_NAME = "TRON-tokenTransfer-TBenchAddress--{rows}.csv"


def make_explorer_export(rows: int, folder: Path) -> Path:
    """A Tronscan token-transfer export (the header of ../shared/reference/explorer_exports/HEADERS.md) of USDT
    transfers among 200,000 addresses."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / TRONSCAN_NAME.format(rows=rows)
    if path.exists():
        return path
    rng = np.random.default_rng(1)
    start = np.datetime64("2026-01-01T00:00:00")
    chunk = 2_000_000
    with open(path, "wb") as fh:
        for offset in range(0, rows, chunk):
            n = min(chunk, rows - offset)
            utc = start + rng.integers(0, 60 * 86400, n).astype("timedelta64[s]")
            frame = pl.DataFrame({
                "Tx Hash": [f"{offset + i:064x}" for i in range(n)],
                "blockHeight": (60_000_000 + offset + np.arange(n)).astype(str),
                "blockTime(UTC+8)": (utc + np.timedelta64(8, "h")).astype("datetime64[s]").astype(str),
                "blockTime(UTC)": utc.astype("datetime64[s]").astype(str),
                "from": [f"T{a:033d}" for a in rng.integers(0, 200_000, n)],
                "to": [f"T{a:033d}" for a in rng.integers(0, 200_000, n)],
                "value": np.round(rng.lognormal(5, 1.5, n), 6).astype(str),
                "symbol": ["USDT"] * n,
                "tokenAddress": ["TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"] * n,
                "isConfirm": ["true"] * n,
            }).with_columns(pl.col("blockTime(UTC+8)", "blockTime(UTC)").str.replace("T", " ").str.replace_all("-", "/"))
            frame.write_csv(fh, include_header=offset == 0)
    return path


def make_explorer_files(rows: int, files: int, folder: Path) -> list[Path]:
    """The export of make_explorer_export cut into `files` exports of about equal size, one per investigated
    address (how an investigator receives them: thousands of small files in a year)."""
    done = folder.parent / f"{folder.name}.done"  # beside the folder: the ingest reads every file in it
    if done.exists():
        return sorted(folder.glob("TRON-tokenTransfer-*.csv"))
    whole = pl.read_csv(make_explorer_export(rows, folder.parent / f"{folder.name}_whole"), infer_schema=False)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, part in enumerate(whole.with_row_index("_i").with_columns(pl.col("_i") % files).partition_by("_i", maintain_order=True)):
        path = folder / f"TRON-tokenTransfer-TBenchAddr{i:06d}--20260301000000.csv"
        part.drop("_i").write_csv(path)
        out.append(path)
    done.write_text("")
    return out


def make_extract(rows: int, folder: Path, style: str = "plain") -> Path:
    if style == "tronscan":
        return make_explorer_export(rows, folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench_{rows}.csv"
    if path.exists():
        return path
    rng = np.random.default_rng(1)
    chunk = 2_000_000
    start = np.datetime64("2026-01-01T00:00:00")
    with open(path, "wb") as fh:
        for offset in range(0, rows, chunk):
            n = min(chunk, rows - offset)
            secs = rng.integers(0, 60 * 86400, n)
            frame = pl.DataFrame(
                {
                    "ref": [f"R{offset + i:010d}" for i in range(n)],
                    "booked": (start + secs.astype("timedelta64[s]")).astype("datetime64[s]").astype(str),
                    "account": rng.integers(1_000_000, 1_200_000, n).astype(str),
                    "counterparty": rng.integers(2_000_000, 3_000_000, n).astype(str),
                    "cp_name": np.array(["Somchai", "Aung Kyaw", "Li Wei", "Maria Santos"])[rng.integers(0, 4, n)],
                    "amount": np.round(rng.lognormal(7, 1.2, n) * np.where(rng.random(n) < 0.5, -1, 1), 2).astype(str),
                    "channel": np.array(["transfer", "cash_deposit", "card"])[rng.integers(0, 3, n)],
                    "memo": np.array(["rent", "food", "invest", ""])[rng.integers(0, 4, n)],
                }
            ).with_columns(pl.col("booked").str.replace("T", " "))
            if style == "eu":  # 31/01/2026 13:45 and 1.234,56
                frame = frame.with_columns(
                    pl.col("booked").str.to_datetime("%Y-%m-%d %H:%M:%S").dt.strftime("%d/%m/%Y %H:%M"),
                    pl.col("amount").str.replace(r"\.", ","))
            frame.write_csv(fh, include_header=offset == 0, separator=";" if style == "eu" else ",")
    (folder / "bench.mapping.yml").write_text(MAPPING_EU if style == "eu" else MAPPING)
    (folder / "fx.csv").write_text(
        "date,currency,usd_per_unit\n" + "2025-12-31,THB,0.028\n" + "".join(f"2026-{m:02d}-{d:02d},THB,0.028\n" for m in (1, 2, 3) for d in range(1, 29))
    )
    return path


def polars_floor(path: Path | list[Path], style: str) -> float:
    """Seconds for polars to read the file(s) (strings, same separators) and group it by account."""
    t0 = time.perf_counter()
    if isinstance(path, list):
        frame = pl.concat([pl.read_csv(p, infer_schema=False) for p in path])
    else:
        frame = pl.read_csv(path, separator=";" if style == "eu" else ",", infer_schema=False)
    if style == "tronscan":
        frame.group_by("from").agg(pl.len(), pl.col("value").cast(pl.Float64).sum())
        return time.perf_counter() - t0
    amount = pl.col("amount").str.replace(",", ".", literal=True) if style == "eu" else pl.col("amount")
    frame.group_by("account").agg(pl.len(), amount.cast(pl.Float64).sum())
    return time.perf_counter() - t0


def child(folder: str, db: str) -> None:
    from transforms.ingest import ingest_paths

    t0 = time.perf_counter()
    reports = ingest_paths(Path(db), [Path(folder)])
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_mb, "reports": [r.as_dict() for r in reports]}))


def ingest_in_child(folder: Path, db: Path) -> tuple[dict, float]:
    """Ingest the folder in a child process (its peak RSS alone); the child's result and the wall seconds,
    start-up (imports) included."""
    wall0 = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--child", str(folder), str(db)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1]), time.perf_counter() - wall0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, action="append", help="rows per extract (repeatable)")
    ap.add_argument("--style", choices=("plain", "eu", "tronscan"), default="plain",
                    help="plain: commas, ISO times; eu: semicolons, decimal commas, dd/mm/yyyy HH:MM; "
                         "tronscan: a Tronscan USDT token-transfer export")
    ap.add_argument("--files", type=int, default=1, help="tronscan: cut the export into this many files")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.files > 1:
        if args.style != "tronscan":
            raise SystemExit("--files is for --style tronscan (explorer exports come one file per address)")
        for rows in args.rows or [200_000]:
            many_files(rows, args.files)
        return
    print(f"{'rows':>12} {'file MB':>8} {'seconds':>8} {'rows/s':>10} {'floor s':>8} {'x floor':>8} {'peak RSS MB':>12}  reconciliation")
    for rows in args.rows or [1_000_000]:
        folder = CACHE / (f"ingest_{rows}" if args.style == "plain" else f"ingest_{args.style}_{rows}")
        extract = make_extract(rows, folder, args.style)
        floor = polars_floor(extract, args.style)
        db = folder / "bench.duckdb"
        for p in folder.glob("bench.duckdb*"):
            p.unlink()
        result, wall = ingest_in_child(folder, db)
        big = [r for r in result["reports"] if r["path"].endswith(extract.name)][0]
        ok = big["rows_read"] == big["rows_loaded"] + big["rows_quarantined"] + big["rows_duplicate"]
        print(
            f"{rows:>12,} {extract.stat().st_size / 1e6:>8.0f} {result['seconds']:>8.1f} {rows / result['seconds']:>10,.0f} "
            f"{floor:>8.2f} {wall / floor:>8.1f} "
            f"{result['peak_rss_mb']:>12,.0f}  read {big['rows_read']:,} loaded {big['rows_loaded']:,} "
            f"quarantined {big['rows_quarantined']:,} duplicate {big['rows_duplicate']:,} {'ok' if ok else 'BROKEN'}"
        )
        print(f"{'':>12} stage seconds: {big['seconds']}; process wall {wall:.1f} s (start-up included; x floor uses it)")


def many_files(rows: int, files: int) -> None:
    """Ingest `files` explorer exports holding `rows` rows in all; per-file costs dominate such a folder."""
    folder = CACHE / f"ingest_tronscan_{rows}_{files}files"
    paths = make_explorer_files(rows, files, folder)
    floor = polars_floor(paths, "tronscan")
    db = folder.parent / f"{folder.name}.duckdb"
    for p in folder.parent.glob(f"{folder.name}.duckdb*"):
        p.unlink()
    result, wall = ingest_in_child(folder, db)
    reports = result["reports"]
    n = {k: sum(r[k] for r in reports) for k in ("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate")}
    ok = all(r["rows_read"] == r["rows_loaded"] + r["rows_quarantined"] + r["rows_duplicate"] for r in reports)
    stages = {k: round(sum(r["seconds"].get(k, 0) for r in reports), 1) for k in ("read", "derive", "validate", "commit")}
    print(f"{len(reports):,} files, {n['rows_read']:,} rows: ingest {result['seconds']:.1f} s "
          f"({1000 * result['seconds'] / len(reports):.1f} ms per file, {n['rows_read'] / result['seconds']:,.0f} rows/s), "
          f"floor {floor:.2f} s, x floor {wall / floor:.1f} (process wall {wall:.1f} s), peak RSS "
          f"{result['peak_rss_mb']:,.0f} MB; stages {stages}; loaded {n['rows_loaded']:,} quarantined "
          f"{n['rows_quarantined']:,} duplicate {n['rows_duplicate']:,} {'ok' if ok else 'BROKEN'}")


if __name__ == "__main__":
    main()
