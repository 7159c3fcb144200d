"""Benchmark the synthetic world generator: rows per second and peak memory.

    python bench/bench_synth.py                       # scale "small", both formats
    python bench/bench_synth.py --scale 1m --format parquet
    python bench/bench_synth.py --scale 1m --format extracts --keep /tmp/world1m

Each run happens in its own process so that peak RSS (ru_maxrss) belongs to that run alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's code, also from a worktree


def one_run(out: str, scale: str, fmt: str, seed: int) -> dict:
    from worlds.synth import generate_world

    t = time.perf_counter()
    s = generate_world(Path(out), seed=seed, scale=scale, fmt=fmt)
    secs = time.perf_counter() - t
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    return {
        "scale": scale, "format": fmt, "seconds": round(secs, 2), "transactions": s["transactions"],
        "rows": s["extract_rows"], "tx_per_s": round(s["transactions"] / secs), "rows_per_s": round(s["extract_rows"] / secs),
        "peak_rss_mb": round(rss_mb), "bytes": s["bytes"], "files": s["files"], "patterns": s["patterns"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="small")
    ap.add_argument("--format", choices=("extracts", "parquet", "both"), default="both")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", help="write the world here instead of a temporary folder (one format only)")
    ap.add_argument("--_child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._child:
        out, scale, fmt = args._child
        print(json.dumps(one_run(out, scale, fmt, args.seed)))
        return
    fmts = ("extracts", "parquet") if args.format == "both" else (args.format,)
    for fmt in fmts:
        tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix=f"synth-{fmt}-"))
        try:
            res = subprocess.run([sys.executable, __file__, "--seed", str(args.seed), "--_child", str(tmp), args.scale, fmt],
                                 check=True, capture_output=True, text=True)
            r = json.loads(res.stdout.strip().splitlines()[-1])
            print(f"{r['scale']:>7} {r['format']:>8}: {r['transactions']:>11,} transactions ({r['rows']:,} rows) in "
                  f"{r['seconds']:.1f} s = {r['tx_per_s']:,} tx/s, {r['rows_per_s']:,} rows/s; peak RSS {r['peak_rss_mb']} MB; "
                  f"{r['bytes'] / 1e6:.1f} MB in {r['files']} files")
        finally:
            if not args.keep:
                shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
