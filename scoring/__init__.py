"""Scoring: a model trained on analysts' dispositions, between the rules and casework (docs/scoring.md).

    summary = scoring.score(con, run_id, settings_section)   # after rules.engine.detect, before casework.build

Reads the run's rule outputs, the canonical tables and `dispositions`; writes `models`, `account_scores` and the
run's `learned` rows of typology_scores. Below the minimum number of labels it records why it did not train and
returns; the rules' alerts are untouched either way (the model ranks and explains them, and adds its own).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any

import duckdb
import numpy as np

from scoring import explain, labels, learned, model
from scoring.features import build_features
from scoring.settings import ScoringSettings, settings_from  # noqa: F401 (settings_from: the public way to check a config section)
from scoring.tables import ensure_tables

RULE_DERIVED = ("rules_fired", "rule_score_sum")


def score(con: duckdb.DuckDBPyConnection, run_id: str, section: dict[str, Any] | None = None) -> dict:
    """Train on the dispositions, score every account, write learned alerts. Returns a summary with a one-line note."""
    t0 = time.perf_counter()
    s = settings_from(section)
    ensure_tables(con)
    con.execute("DELETE FROM account_scores WHERE run_id = ?", [run_id])
    con.execute("DELETE FROM typology_scores WHERE run_id = ? AND typology_id = ?", [run_id, learned.LEARNED])
    if not s.enabled:
        return {"status": "disabled", "note": "scoring is switched off in the config"}
    y_of = labels.account_labels(con)
    n_pos = sum(y_of.values())
    if n_pos < s.min_positives:
        return _skipped(con, run_id, s, n_pos, len(y_of) - n_pos,
                        f"model not trained: {n_pos} confirmed account(s), needs {s.min_positives}; rules run as before")
    names = build_features(con, run_id)
    if not s.rule_features:
        names = [n for n in names if not n.startswith("rule_") and n not in RULE_DERIVED]
    frame = con.sql(f"SELECT account_id, {', '.join(names)} FROM _sc_features ORDER BY account_id").fetchnumpy()
    ids = np.asarray(frame["account_id"], dtype=object)
    X = np.column_stack([np.asarray(frame[n], dtype=np.float64) for n in names]) if len(ids) else np.zeros((0, len(names)))
    X = np.round(X, 6)  # parallel float sums differ in the last bits from run to run; the model must not
    alerted = {r[0] for r in con.execute(
        "SELECT subject_id FROM typology_scores WHERE run_id = ? AND is_alert", [run_id]).fetchall()}
    idx, y, n_presumed, weight = _training_rows(con, ids, y_of, alerted, s)
    n_neg = int((y == 0).sum())
    if int(y.sum()) < s.min_positives or n_neg < s.min_negatives:
        return _skipped(con, run_id, s, int(y.sum()), n_neg - n_presumed,
                        f"model not trained: {int(y.sum())} confirmed and {n_neg} negative account(s) with transactions,"
                        f" needs {s.min_positives} and {s.min_negatives}; rules run as before")
    unalerted = np.array([a not in alerted for a in ids[idx]], dtype=bool)
    trained = model.train(X[idx], y, names, s, weight, unalerted)
    scores = trained.booster.predict(X) if len(X) else np.zeros(0)
    _write_scores(con, run_id, trained, ids, X, scores, alerted)
    cap = int(s.max_learned_share * len(ids))
    own = trained.learned_threshold
    n_learned = learned.write(con, run_id, trained.model_id, own, cap) if s.raise_alerts and own is not None else 0
    m = trained.metrics
    note = (f"model {trained.model_id} trained on {int(y.sum())} confirmed, {n_neg - n_presumed} false-positive and "
            f"{n_presumed} presumed-negative accounts; threshold {trained.threshold:.3f} "
            f"(held-out precision {m['precision']:.2f}, recall {m['recall']:.2f}"
            + ("" if m["target_reached"] else f"; target precision {s.target_precision} not reached")
            + f"); {int((scores >= trained.threshold).sum())} accounts above it, {n_learned} learned alert(s)"
            + (f" (at {own:.3f})" if own is not None else f" ({m['learned']['why']})"))
    _record(con, run_id, s, "trained", note, int(y.sum()), n_neg - n_presumed, n_presumed, trained)
    return {"status": "trained", "model_id": trained.model_id, "note": note, "threshold": trained.threshold,
            "metrics": m, "learned_alerts": n_learned, "seconds": round(time.perf_counter() - t0, 2)}


def _training_rows(con, ids: np.ndarray, y_of: dict[str, int], alerted: set[str], s: ScoringSettings):
    """Indices into ids and labels: decided accounts, plus a seeded sample of undecided accounts that no alert of
    the run names (presumed negatives)."""
    decided = labels.decided_accounts(con)
    lab_idx = [i for i, a in enumerate(ids) if a in y_of]
    pool = np.array([i for i, a in enumerate(ids) if a not in decided and a not in alerted], dtype=int)
    n_pos = sum(y_of[ids[i]] for i in lab_idx)
    n_sample = min(len(pool), int(round(s.presumed_negative_ratio * n_pos)))
    rng = np.random.default_rng(s.seed)
    presumed = np.sort(rng.choice(pool, size=n_sample, replace=False)) if n_sample else np.zeros(0, dtype=int)
    idx = np.concatenate([np.array(lab_idx, dtype=int), presumed])
    y = np.concatenate([np.array([y_of[ids[i]] for i in lab_idx], dtype=int), np.zeros(len(presumed), dtype=int)])
    order = np.argsort(ids[idx], kind="stable")  # rows in account order: the same model for the same labels
    # each presumed negative stands for len(pool) / n_sample undecided accounts when precision is estimated
    weight = np.concatenate([np.ones(len(lab_idx)), np.full(len(presumed), len(pool) / max(n_sample, 1))])
    return idx[order], y[order], len(presumed), weight[order]


def _write_scores(con, run_id: str, trained: model.Trained, ids: np.ndarray, X: np.ndarray, scores: np.ndarray,
                  alerted: set[str]) -> None:
    """Every account's score; sentences and contributions for those the run alerts on or the model raises."""
    import pyarrow as pa

    above = scores >= trained.threshold
    bar = min(trained.threshold, trained.learned_threshold if trained.learned_threshold is not None else 1.0)
    want = np.flatnonzero((scores >= bar) | np.array([a in alerted for a in ids], dtype=bool))  # alerts get a sentence
    contrib = model.contributions(trained.booster, X[want])
    texts: list[str | None] = [None] * len(ids)
    parts: list[str | None] = [None] * len(ids)
    for row, i in enumerate(want):
        text, top = explain.explain(float(scores[i]), trained.features, X[i], contrib[row])
        texts[i], parts[i] = text, json.dumps(top)
    table = pa.table({
        "run_id": pa.array([run_id] * len(ids), pa.string()),
        "model_id": pa.array([trained.model_id] * len(ids), pa.string()),
        "account_id": pa.array(ids.tolist(), pa.string()),
        "score": pa.array(scores.astype(float)),
        "above_threshold": pa.array(above.tolist(), pa.bool_()),
        "explanation": pa.array(texts, pa.string()),
        "contributions": pa.array(parts, pa.string()),
    })
    con.register("_sc_scores", table)
    try:
        con.execute("INSERT INTO account_scores SELECT run_id, model_id, account_id, score, above_threshold, explanation,"
                    " CAST(contributions AS JSON) FROM _sc_scores")
    finally:
        con.unregister("_sc_scores")


def _skipped(con, run_id: str, s: ScoringSettings, n_pos: int, n_neg: int, note: str) -> dict:
    _record(con, run_id, s, "skipped", note, n_pos, n_neg, 0, None)
    return {"status": "skipped", "note": note}


def _record(con, run_id, s: ScoringSettings, status, note, n_pos, n_neg, n_presumed, trained) -> None:
    con.execute(
        "INSERT INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [trained.model_id if trained else None, run_id, datetime.now(timezone.utc), status, note, n_pos, n_neg,
         n_presumed, trained.data_hash if trained else None, trained.features if trained else None,
         json.dumps(s.model_dump()), json.dumps(trained.metrics) if trained else None,
         trained.threshold if trained else None, trained.text() if trained else None],
    )


__all__ = ["score"]
