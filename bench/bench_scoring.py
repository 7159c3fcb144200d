"""Time the scoring stage (features in SQL, training, scoring every account, learned alerts) on a bench store.

    python bench/bench_scoring.py                      # the cached 10M bench store (python bench/run.py builds it)
    python bench/bench_scoring.py --db other.duckdb --decisions 2000

The store is copied to a scratch file. One detect run gives the rule outputs; then `--decisions` of the run's
alert subjects are decided (confirmed or false positive by a seeded hash: this measures speed, not quality; the
quality is measured by `scamtrace eval --train-share` and bench/detection.py) and ingested as a dispositions
file. Prints seconds per step and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peak_memory import hwm_mb  # bench/, the script's folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=ROOT / "bench" / "cache" / "world_10000000" / "store" / "bench.duckdb")
    ap.add_argument("--decisions", type=int, default=1000, help="alert subjects to decide")
    ap.add_argument("--memory-limit", default="4GB")
    a = ap.parse_args()
    import os

    os.environ["SCAMTRACE_MEMORY_LIMIT"] = a.memory_limit
    import scoring
    from rules.engine import detect
    from scoring.features import build_features
    from transforms.ingest import ingest_paths
    from transforms.store import connect

    with tempfile.TemporaryDirectory(prefix="bench-scoring-", dir=ROOT / "bench" / "cache") as tmp:
        db = Path(tmp) / "store.duckdb"
        shutil.copy(a.db, db)
        con = connect(db)
        n_txn = con.execute("SELECT count(*) FROM transactions").fetchone()[0]
        t = time.perf_counter()
        run_id = detect(con).run_id
        print(f"transactions {n_txn:,}; detect {time.perf_counter() - t:.1f} s (rule outputs for the features)")
        subjects = [r[0] for r in con.execute(
            "SELECT DISTINCT subject_id FROM typology_scores WHERE run_id = ? AND is_alert AND subject_type = 'account'"
            " ORDER BY 1", [run_id]).fetchall()][: a.decisions]
        con.close()
        now = datetime.now(timezone.utc).isoformat()
        folder = Path(tmp) / "decisions"
        folder.mkdir()
        lines = ["subject_id,disposition,decided_at,analyst,note"]
        for s in subjects:
            d = "confirmed" if int(hashlib.sha256(s.encode()).hexdigest()[:4], 16) % 4 else "false_positive"
            lines.append(f"{s},{d},{now},bench,")
        (folder / "dispositions.csv").write_text("\n".join(lines) + "\n")
        ingest_paths(db, [folder])
        con = connect(db)
        t = time.perf_counter()
        names = build_features(con, run_id)
        t_feat = time.perf_counter() - t
        n_acc = con.execute("SELECT count(*) FROM _sc_features").fetchone()[0]
        print(f"features alone: {t_feat:.1f} s for {n_acc:,} accounts x {len(names)} features; peak RSS {hwm_mb():.0f} MB")
        t = time.perf_counter()
        out = scoring.score(con, run_id)
        total = time.perf_counter() - t
        con.close()
        print(out["note"])
        print(f"scoring (features + training + scores + learned alerts): {total:.1f} s; peak RSS {hwm_mb():.0f} MB")


if __name__ == "__main__":
    main()
