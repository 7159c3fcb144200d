"""Precision and recall of the screening name matcher on the labelled name pairs (data/screening/name_pairs.csv).

    python bench/screening_quality.py [--pairs FILE] [--threshold T]

Prints, per threshold, precision / recall / F1 over all pairs, then per category at the chosen threshold
(rules/screening/screen.py THRESHOLD unless --threshold), and the pairs it gets wrong there. Names only: the
identifiers that confirm or rule out a match (birth dates, passports) are not in this set.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rules.screening import names  # noqa: E402
from rules.screening.screen import THRESHOLD  # noqa: E402


def scored(path: Path) -> list[dict]:
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    for r in rows:
        kind = "person" if r["kind"] == "person" else "legal"
        r["score"] = names.compare(names.analyzed(r["query"], kind), names.analyzed(r["candidate"], kind)).score
    return rows


def prf(rows: list[dict], t: float) -> tuple[float, float, float, int, int, int]:
    tp = sum(1 for r in rows if r["score"] >= t and r["label"] == "match")
    fp = sum(1 for r in rows if r["score"] >= t and r["label"] != "match")
    fn = sum(1 for r in rows if r["score"] < t and r["label"] == "match")
    p = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * rec / (p + rec) if p + rec else 0.0
    return p, rec, f1, tp, fp, fn


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=Path, default=ROOT / "data" / "screening" / "name_pairs.csv")
    ap.add_argument("--threshold", type=float, default=THRESHOLD)
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = scored(args.pairs)
    print(f"{len(rows)} pairs scored in {time.perf_counter() - t0:.1f} s (matcher {names.MATCHER})")
    print("\n| threshold | precision | recall | F1 | TP | FP | FN |\n|---|---|---|---|---|---|---|")
    for t in (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95):
        p, r, f, tp, fp, fn = prf(rows, t)
        print(f"| {t:.2f} | {p:.3f} | {r:.3f} | {f:.3f} | {tp} | {fp} | {fn} |")
    by_cat: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_cat[r["category"]].append(r)
    print(f"\nAt threshold {args.threshold:.2f}:\n\n| category | pairs | precision | recall | FP | FN |\n|---|---|---|---|---|---|")
    for cat, rs in sorted(by_cat.items()):
        p, r, _f, _tp, fp, fn = prf(rs, args.threshold)
        print(f"| {cat} | {len(rs)} | {p:.2f} | {r:.2f} | {fp} | {fn} |")
    wrong = [r for r in rows if (r["score"] >= args.threshold) != (r["label"] == "match")]
    print(f"\nWrong at {args.threshold:.2f} ({len(wrong)}):")
    for r in wrong:
        print(f"  {r['label']:9} {r['score']:.2f} {r['category']:15} {r['query']} | {r['candidate']}  ({r['note']})")


if __name__ == "__main__":
    main()
