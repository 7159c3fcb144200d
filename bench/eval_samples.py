"""Detection quality on a synthetic world: detect + casework build + evaluate, with network figures.

    python bench/eval_samples.py                       # data/samples (ingested once into bench/cache)
    python bench/eval_samples.py --world /tmp/w11      # another world, e.g. generate_world(Path('/tmp/w11'), seed=11, scale='small')
    python bench/eval_samples.py --world /tmp/w11 --json out.json --misses

Prints per-typology pattern recall, account precision / recall (suspects: roles other than victim, plus the
victims of victim-typology patterns), transaction precision / recall, alerts per rule, the number of networks, the
size of the largest one, and whether the top-ranked member of each network is an upper-level account from the
truth (organiser, legal person, consolidator, compound wallet) or the party holding one, and the networks-and-
compounds table of worlds.evaluate (links per compound, legitimate networks linked, organiser ranks). The ingested store is
cached (bench/cache/<world>-<hash>.duckdb) and copied before each run, so the world is ingested once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

UPPER_ROLES = {"organiser", "legal_person", "consolidator", "compound_wallet"}


def _store_for(world: Path, cache: Path) -> Path:
    key = hashlib.sha256(str(world.resolve()).encode()).hexdigest()[:10]
    db = cache / f"{world.name}-{key}.duckdb"
    if not db.exists():
        from transforms.ingest import ingest_paths

        cache.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        tmp = db.with_suffix(".tmp.duckdb")
        tmp.unlink(missing_ok=True)
        ingest_paths(tmp, [world])
        tmp.rename(db)
        print(f"ingested {world} in {time.perf_counter() - t:.1f}s -> {db}")
    return db


def network_figures(con, truth_dir: Path) -> dict:
    pa = pl.read_csv(truth_dir / "pattern_accounts.csv", infer_schema=False)
    roles: dict[str, set[str]] = {}
    for a, r in zip(pa["account_id"].to_list(), pa["role"].to_list()):
        roles.setdefault(a, set()).add(r)
    suspects = {a for a, rs in roles.items() if rs - {"victim"}}
    upper = {a for a, rs in roles.items() if rs & UPPER_ROLES}
    holder_accounts: dict[str, set[str]] = {}
    for acc, holder in con.execute("SELECT account_id, holder_id FROM accounts WHERE holder_id IS NOT NULL").fetchall():
        holder_accounts.setdefault(holder, set()).add(acc)
    nets = con.execute(
        "SELECT n.network_id, n.n_alerts, n.n_accounts, n.top_member_type, n.top_member_id FROM networks n WHERE n.is_current"
    ).fetchall()
    members = con.execute(
        "SELECT m.network_id, m.member_id FROM network_members m JOIN networks n USING (network_id) "
        "WHERE n.is_current AND m.member_type = 'account'"
    ).fetchall()
    accts_of: dict[str, set[str]] = {}
    for nid, mid in members:
        accts_of.setdefault(nid, set()).add(mid)
    subj_of: dict[str, set[str]] = {}
    for nid, sid in con.execute(
        "SELECT network_id, subject_id FROM alerts WHERE is_current AND network_id IS NOT NULL"
    ).fetchall():
        subj_of.setdefault(nid, set()).add(sid)
    with_truth = correct = 0
    fp_nets = 0
    wrong: list[tuple] = []
    for nid, n_alerts, n_accounts, ttype, tid in nets:
        if not (subj_of.get(nid, set()) & suspects):
            fp_nets += 1
            continue
        with_truth += 1
        top_accounts = {tid} if ttype == "account" else holder_accounts.get(tid, set())
        if top_accounts & upper:
            correct += 1
        else:
            wrong.append((nid, n_alerts, n_accounts, ttype, tid, sorted({r for a in top_accounts for r in roles.get(a, set())})))
    largest = max(nets, key=lambda r: r[2], default=None)
    return {
        "networks": len(nets),
        "largest_accounts": largest[2] if largest else 0,
        "largest_alerts": max((r[1] for r in nets), default=0),
        "networks_with_suspects": with_truth,
        "networks_without_suspects": fp_nets,
        "top_member_upper": correct,
        "top_member_share": round(correct / with_truth, 3) if with_truth else None,
        "wrong_top": wrong[:15],
    }


def run(world: Path, *, cache: Path, json_path: Path | None = None, misses: bool = False, keep: Path | None = None) -> dict:
    from rules import casework
    from rules.engine import detect
    from worlds.evaluate import evaluate
    from transforms.store import connect

    src = _store_for(world, cache)
    work = keep or cache / f"{src.stem}.work.duckdb"
    work.unlink(missing_ok=True)
    shutil.copy(src, work)
    con = connect(work)
    t = time.perf_counter()
    summary = detect(con)
    t_detect = time.perf_counter() - t
    t = time.perf_counter()
    cw = casework.build(con, summary.run_id)
    t_build = time.perf_counter() - t
    res = evaluate(con, world / "truth", run_id=summary.run_id, show=True)
    nets = network_figures(con, world / "truth")
    alerts_per_rule = dict(
        con.execute(
            "SELECT r.key, count(*) FROM typology_scores s, LATERAL (SELECT unnest(json_keys(s.rule_scores)) AS key) r "
            "WHERE s.run_id = ? AND s.is_alert AND CAST(json_extract(s.rule_scores, '$.' || r.key) AS DOUBLE) > 0 "
            "GROUP BY 1 ORDER BY 1",
            [summary.run_id],
        ).fetchall()
    )
    out = {
        "world": str(world),
        "detect_s": round(t_detect, 1),
        "build_s": round(t_build, 1),
        "rule_seconds": summary.timings,
        "rule_hits": summary.counts,
        "alerts_per_rule": alerts_per_rule,
        "alerted_accounts": res["accounts"]["flagged"],
        "eval": {k: v for k, v in res.items() if k != "missed_patterns"},
        "missed_patterns": res["missed_patterns"],
        "networks": nets,
    }
    print(f"detect {t_detect:.1f}s  build {t_build:.1f}s  (casework steps {cw.get('timings')})")
    print("alerts per rule:", json.dumps(alerts_per_rule))
    s = res["accounts"]
    print(f"accounts flagged {res['accounts']['flagged']}  suspect P {s['precision']:.3f} R {s['recall']:.3f}  "
          f"txn P {res['transactions']['precision']:.3f} R {res['transactions']['recall']:.3f} F1 {res['transactions']['f1']:.3f}  "
          f"patterns found {res['patterns']['found']}/{res['patterns']['total']} (by any typology {res['patterns']['found_any']})  "
          f"victims identified {res['victims']['true_positive']}/{res['victims']['truth']} (P {res['victims']['precision']:.2f})")
    print(f"networks {nets['networks']} (largest {nets['largest_accounts']} accounts / {nets['largest_alerts']} alerts; "
          f"{nets['networks_without_suspects']} without a suspect)  top member upper-level: "
          f"{nets['top_member_upper']}/{nets['networks_with_suspects']}")
    t = res["networks"]["targets"]
    print(f"compounds linked to >= {t['link_share']:.0%} of their networks: {t['compounds_linked_ok']}/{t['compounds_with_networks']}  "
          f"legitimate networks linked: {t['legitimate_linked']}/{res['networks']['legitimate']['networks']}  "
          f"organisers in the top {t['organiser_rank']}: {t['organisers_top']}/{t['organisers']}")
    if misses:
        for m in res["missed_patterns"]:
            print("missed", m)
        for w in nets["wrong_top"]:
            print("top member not upper-level", w)
    if json_path:
        json_path.write_text(json.dumps(out, indent=2, default=str))
    con.close()
    if keep is None:
        work.unlink(missing_ok=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", type=Path, default=ROOT / "data" / "samples")
    ap.add_argument("--cache", type=Path, default=ROOT / "bench" / "cache")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--keep", type=Path, help="keep the detected store at this path")
    ap.add_argument("--misses", action="store_true", help="list missed patterns and wrong top members")
    a = ap.parse_args()
    run(a.world, cache=a.cache, json_path=a.json, misses=a.misses, keep=a.keep)


if __name__ == "__main__":
    main()
