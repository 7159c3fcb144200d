"""The feedback loop, simulated on a world with truth: analysts decide the alerts of part of the patterns, the
model learns from those decisions, and the rest of the world is scored with and without it.

    report = simulate_feedback(db_path, truth_dir, train_share=0.5)

Works on a scratch copy of the store (the user's store never receives simulated decisions). Patterns are split
by pattern, never by transaction, with a seeded hash of the pattern id. The decisions:
  - `alerts` (default): each alert of the latest run whose subject is a target of a training pattern is
    confirmed; each alert whose subject is in no pattern is a false positive for a `train_share` of them (by a
    seeded hash); alerts on the held-out patterns' accounts are left undecided.
  - `patterns`: as above, and every target account of a training pattern is confirmed too, as an FIU's filed
    STRs would label it whether or not a rule raised it.
The decisions are written as a dispositions file and ingested like one. Scored on the held-out part only:
subjects, members and transactions of training patterns and decided subjects are left out of both sides, and so
are the held-out transactions between two accounts of training patterns (known already: both ends were decided);
a held-out pattern is found when the alerts not held back name half of its accounts outside the training patterns
(see _score_heldout).
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import polars as pl

from worlds.evaluate import _covered, _prf, latest_run

LABEL_SOURCES = ("alerts", "patterns")


def _frac(seed: int, key: str) -> float:
    return int(hashlib.sha256(f"{seed}|{key}".encode()).hexdigest()[:12], 16) / float(1 << 48)


def _alerts(con: duckdb.DuckDBPyConnection, run_id: str, learned_too: bool) -> pl.DataFrame:
    sql = ("SELECT typology_id, subject_id, txn_ids, member_ids FROM typology_scores WHERE run_id = ? AND is_alert"
           + ("" if learned_too else " AND typology_id <> 'learned'"))
    return pl.DataFrame(con.execute(sql, [run_id]).fetchall(), orient="row",
                        schema={"typology_id": pl.Utf8, "subject_id": pl.Utf8, "txn_ids": pl.List(pl.Utf8),
                                "member_ids": pl.List(pl.Utf8)})


def _score_heldout(alerts: pl.DataFrame, test: dict, excluded_accounts: set[str], excluded_txns: set[str],
                   held_back: set[str]) -> dict:
    """Account P/R, transaction P/R/F1 and pattern recall (by alerts of any typology) on the held-out patterns.

    An analyst sees every alert that is not held back (`held_back`: subjects decided false positive). Accounts
    and transactions count from the alerts on undecided subjects only (`excluded_accounts`: decided subjects and
    the decided patterns' accounts are known already; `excluded_txns`: the decided patterns' transactions). A
    held-out pattern is found when the alerts shown name at least half of its accounts outside the decided
    patterns, as subjects or members (an alert on a confirmed subject shows its members too); one whose every
    account lies in a decided pattern has nothing left to find and is not counted."""
    shown = alerts.filter(~pl.col("subject_id").is_in(list(held_back)))
    rows = shown.filter(~pl.col("subject_id").is_in(list(excluded_accounts)))
    subjects = set(rows["subject_id"].to_list())
    targets = set().union(*test["members"].values()) if test["members"] else set()
    acc = _prf(subjects, targets)
    txns = {x for lst in rows["txn_ids"].to_list() for x in (lst or [])} - excluded_txns
    txn = _prf(txns, test["txns"])
    covered = _covered(shown)
    left = [m for m in test["members"].values() if m]
    found = sum(1 for m in left if len(m & covered) * 2 >= len(m))
    n = len(left)
    return {"alerts": len(subjects), "accounts": acc, "transactions": txn,
            "patterns": {"total": n, "found": found, "recall": round(found / n, 4) if n else None}}


def _decisions(alerts: pl.DataFrame, train_targets: set[str], all_targets: set[str], train_share: float, seed: int,
               labels: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for sid in sorted(set(alerts["subject_id"].to_list())):
        if sid in train_targets:
            out[sid] = "confirmed"
        elif sid not in all_targets and _frac(seed, "fp|" + sid) < train_share:
            out[sid] = "false_positive"
    if labels == "patterns":
        out.update({a: "confirmed" for a in train_targets})
    return out


def simulate_feedback(db_path: Path, truth_dir: Path, *, train_share: float = 0.5, seed: int = 1,
                      labels: str = "alerts", scoring_section: dict | None = None) -> dict:
    """Rules only vs rules + model on the held-out patterns of a world whose latest detect run is in db_path."""
    from rules import casework
    from scoring import score
    from transforms.ingest import ingest_paths
    from transforms.store import connect
    from worlds.truth_formats import load_truth

    if labels not in LABEL_SOURCES:
        raise ValueError(f"labels must be one of {LABEL_SOURCES}")
    truth = load_truth(Path(truth_dir))
    pa = truth.pattern_accounts.filter(pl.col("role").fill_null("") != "victim")
    members = {p: set(g["account_id"].to_list()) for (p,), g in pa.group_by("pattern_id")}
    txns_of = {p: set(g["txn_id"].to_list()) for (p,), g in truth.pattern_transactions.group_by("pattern_id")}
    train = {p for p in members if _frac(seed, "pattern|" + p) < train_share}
    train_targets = set().union(*(members[p] for p in train)) if train else set()
    all_targets = set().union(*members.values()) if members else set()
    test = {"members": {p: m - train_targets for p, m in members.items() if p not in train},
            "txns": set().union(*(txns_of.get(p, set()) for p in members if p not in train)) if members else set()}
    train_txns = set().union(*(txns_of.get(p, set()) for p in train)) if train else set()

    with tempfile.TemporaryDirectory(prefix="scamtrace-eval-") as tmp:
        work = Path(tmp) / "store.duckdb"
        shutil.copy(db_path, work)
        con = connect(work)
        try:
            run_id = latest_run(con)
            if run_id is None:
                raise ValueError("the store has no detect run: run `scamtrace detect` first")
            rules_alerts = _alerts(con, run_id, learned_too=False)
            decided = _decisions(rules_alerts, train_targets, all_targets, train_share, seed, labels)
            # a held-out transaction between two accounts of decided patterns is known already: nothing to find
            known = {t for t, a, b in con.execute(
                "SELECT txn_id, from_account_id, to_account_id FROM transactions WHERE txn_id IN (SELECT unnest(?))",
                [sorted(test["txns"])]).fetchall() if a in train_targets and b in train_targets}
            n_heldout_txns = len(test["txns"])
            test["txns"] -= known
            train_txns |= known
        finally:
            con.close()
        disp = Path(tmp) / "decisions" / "dispositions.csv"
        disp.parent.mkdir()
        # decided now, after the world's files were loaded, as analysts decide: a decision stamped with the
        # world's last day came before the files' loading, and casework reopened every false positive as new
        decided_at = datetime.now(timezone.utc).isoformat()
        with open(disp, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["subject_id", "disposition", "decided_at", "analyst", "note"])
            for sid, d in sorted(decided.items()):
                w.writerow([sid, d, decided_at, "simulated", "eval --train-share"])
        ingest_paths(work, [disp.parent])
        con = connect(work)
        try:
            excluded = train_targets | set(decided)
            false_pos = {a for a, d in decided.items() if d == "false_positive"}  # held back on both sides
            before = _score_heldout(rules_alerts, test, excluded, train_txns, false_pos)
            model = score(con, run_id, scoring_section)
            build = casework.build(con, run_id)
            suppressed = {r[0] for r in con.execute(
                "SELECT subject_id FROM alerts WHERE status = 'suppressed'").fetchall()}
            with_model = _alerts(con, run_id, learned_too=True)
            after = _score_heldout(with_model, test, excluded, train_txns, false_pos | suppressed)
            # the queue an analyst works when the model ranks: the alerts whose subject it scores at its threshold
            below = {r[0] for r in con.execute(
                "SELECT account_id FROM account_scores WHERE run_id = ? AND NOT above_threshold", [run_id]).fetchall()}
            below -= set(with_model.filter(pl.col("typology_id") == "learned")["subject_id"].to_list())
            queue = (_score_heldout(with_model, test, excluded, train_txns, false_pos | suppressed | below)
                     if model.get("status") == "trained" else None)
        finally:
            con.close()
    n_conf = sum(d == "confirmed" for d in decided.values())
    return {
        "truth_dir": str(truth_dir), "run_id": run_id, "train_share": train_share, "seed": seed, "labels": labels,
        "patterns": {"train": len(train), "held_out": len(test["members"]),
                     "held_out_with_accounts_left": sum(1 for m in test["members"].values() if m)},
        "transactions": {"held_out": n_heldout_txns, "known_both_ends_decided": n_heldout_txns - len(test["txns"])},
        "decisions": {"confirmed": n_conf, "false_positive": len(decided) - n_conf},
        "model": {k: v for k, v in model.items() if k in ("status", "note", "model_id", "threshold", "metrics")},
        "held_back_false_positives": build.get("alerts_held_back", 0),
        "rules_only": before, "rules_and_model": after, "model_queue": queue,
    }


def print_feedback(report: dict, console) -> None:
    from rich.table import Table as RichTable

    t = RichTable(title=f"feedback loop on held-out patterns ({report['patterns']['held_out']} held out, "
                        f"{report['patterns']['held_out_with_accounts_left']} with accounts outside the decided ones, "
                        f"{report['patterns']['train']} decided; labels: {report['labels']})")
    for col in ("", "alerts", "acct P", "acct R", "txn P", "txn R", "txn F1", "patterns found", "recall"):
        t.add_column(col, justify="left" if not col else "right", no_wrap=not col)
    for name, key in (("rules only", "rules_only"), ("rules + model", "rules_and_model"),
                      ("the model's queue (alerts at or above its threshold)", "model_queue")):
        r = report.get(key)
        if r is None:
            continue
        a, x, p = r["accounts"], r["transactions"], r["patterns"]
        t.add_row(name, str(r["alerts"]), f"{a['precision']:.2f}", f"{a['recall']:.2f}", f"{x['precision']:.2f}",
                  f"{x['recall']:.2f}", f"{x['f1']:.2f}", f"{p['found']} / {p['total']}",
                  "-" if p["recall"] is None else f"{p['recall']:.2f}")
    console.print(t)
    console.print(report["model"].get("note", ""), highlight=False, soft_wrap=True)
