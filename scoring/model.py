"""The gradient-boosting model: training with a threshold chosen on held-out folds, scoring, contributions.

LightGBM with fixed threads, seed and `deterministic`, over rows sorted by account id: the same data and settings
give the same model text and scores.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scoring.settings import ScoringSettings


@dataclass
class Trained:
    booster: Any  # lightgbm.Booster
    threshold: float
    metrics: dict
    data_hash: str
    features: list[str]
    model_id: str = ""
    notes: list[str] = field(default_factory=list)
    learned_threshold: float | None = None  # for alerts of its own; None: it raises none (metrics["learned"] says why)

    def text(self) -> str:
        return self.booster.model_to_string()


def _params(s: ScoringSettings) -> dict:
    return {
        "objective": "binary", "learning_rate": s.learning_rate, "num_leaves": s.num_leaves,
        "min_data_in_leaf": s.min_data_in_leaf, "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1,
        "seed": s.seed, "deterministic": True, "force_row_wise": True, "num_threads": s.threads, "verbose": -1,
    }


def _fit(X: np.ndarray, y: np.ndarray, s: ScoringSettings, names: list[str]):
    import lightgbm as lgb

    return lgb.train(_params(s), lgb.Dataset(X, y, feature_name=names, free_raw_data=True), num_boost_round=s.rounds)


def _folds(n: int, y: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Stratified fold number of each row, seeded."""
    rng = np.random.default_rng(seed)
    fold = np.empty(n, dtype=int)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        fold[idx] = np.arange(len(idx)) % k
    return fold


def choose_threshold(scores: np.ndarray, y: np.ndarray, target: float, weight: np.ndarray | None = None,
                     z: float = 0.0) -> tuple[float, dict]:
    """The lowest score at which precision on held-out rows reaches `target` (most recall at that precision);
    when no threshold reaches it, the one of best F1, and the metrics say so. `weight` counts each row as that
    many accounts: a sampled presumed negative stands for every undecided account it was drawn from, so the
    precision is the one to expect over the whole population, not over the sample. With z > 0 it is the
    precision's lower confidence bound (Wilson, z standard errors, over the rows actually held out) that must
    reach the target: one confirmed account alone above a threshold does not vouch for it."""
    w = np.ones(len(y)) if weight is None else weight
    order = np.argsort(-scores, kind="stable")
    s_sorted, y_sorted, w_sorted = scores[order], y[order], w[order]
    tp = np.cumsum(y_sorted)
    n = np.cumsum(w_sorted * (y_sorted == 0)) + tp
    precision = tp / n
    recall = tp / max(int(y.sum()), 1)
    last_of_tie = np.r_[s_sorted[1:] != s_sorted[:-1], True]  # a threshold takes every row of its score
    bound = _wilson_lower(precision, np.arange(1, len(y) + 1), z) if z > 0 else precision
    ok = np.flatnonzero(last_of_tie & (bound >= target))
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0)
    reached = len(ok) > 0
    i = int(ok[-1]) if reached else int(np.flatnonzero(last_of_tie)[np.argmax(f1[last_of_tie])])
    # average precision: mean precision at each positive, in score order
    ap = float((precision * y_sorted).sum() / max(int(y.sum()), 1))
    return float(s_sorted[i]), {
        "average_precision": round(ap, 4), "precision": round(float(precision[i]), 4),
        "recall": round(float(recall[i]), 4), "target_precision": target, "target_reached": reached,
        "validated_rows": int(len(y)), "validated_positives": int(y.sum()),
    }


def _wilson_lower(p: np.ndarray, n: np.ndarray, z: float) -> np.ndarray:
    """Wilson score interval's lower end for a proportion p observed over n rows."""
    centre = p + z * z / (2 * n)
    spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def _at(scores: np.ndarray, y: np.ndarray, threshold: float, w: np.ndarray) -> dict:
    sel = scores >= threshold
    tp = int((sel & (y == 1)).sum())
    flagged = tp + float(w[sel & (y == 0)].sum())
    return {"precision": round(tp / max(flagged, 1), 4), "recall": round(tp / max(int(y.sum()), 1), 4)}


def data_hash(X: np.ndarray, y: np.ndarray, names: list[str]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(names).encode())
    h.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(y, dtype=np.int8).tobytes())
    return h.hexdigest()[:16]


LEARNED_Z = 1.645  # one-sided 95 %: the learned alerts' precision bound (choose_threshold's z)


def learned_threshold(oof: np.ndarray, y: np.ndarray, w: np.ndarray, unalerted: np.ndarray | None,
                      s: ScoringSettings) -> tuple[float | None, dict]:
    """The threshold of the model's own alerts. They land on accounts that no rule raised, where the rules'
    confirmed accounts (most positives, and the easy ones) are absent: so it is chosen on those rows alone, the
    confirmed accounts the rules missed against the presumed negatives, for the same target precision, reached
    with 95 % confidence (a lone account does not decide it). None when there is no such confirmed account or no
    threshold reaches the target: the model ranks and explains, and raises nothing of its own."""
    if unalerted is None or not y[unalerted].any():
        return None, {"raised": False, "why": "no confirmed account outside the rules' alerts to learn from"}
    thr, m = choose_threshold(oof[unalerted], y[unalerted], s.target_precision, w[unalerted], z=LEARNED_Z)
    if not m["target_reached"]:
        return None, {**m, "raised": False, "why": f"on accounts the rules missed, no threshold reaches precision "
                                                   f"{s.target_precision} with 95 % confidence"}
    if thr < s.min_threshold:  # the floor only raises the bar; the figures are the floor's
        thr = s.min_threshold
        m.update(_at(oof[unalerted], y[unalerted], thr, w[unalerted]), floored_at=s.min_threshold)
    return thr, {**m, "raised": True, "threshold": round(thr, 6)}


def train(X: np.ndarray, y: np.ndarray, names: list[str], s: ScoringSettings, weight: np.ndarray | None = None,
          unalerted: np.ndarray | None = None) -> Trained:
    """Out-of-fold scores pick the threshold (precision weighted to the population, see choose_threshold) and,
    on the rows no rule alerted (`unalerted`, a mask), the threshold of the model's own alerts; the final model
    is fitted on every labelled row."""
    w = np.ones(len(y)) if weight is None else weight
    fold = _folds(len(y), y, s.folds, s.seed)
    oof = np.zeros(len(y))
    for k in range(s.folds):
        test = fold == k
        if y[~test].sum() == 0 or (~test).sum() == 0:
            continue
        oof[test] = _fit(X[~test], y[~test], s, names).predict(X[test])
    threshold, metrics = choose_threshold(oof, y, s.target_precision, w)
    if threshold < s.min_threshold:
        threshold = s.min_threshold
        metrics.update(_at(oof, y, threshold, w), floored_at=s.min_threshold)
    own, metrics["learned"] = learned_threshold(oof, y, w, unalerted, s)
    booster = _fit(X, y, s, names)
    dh = data_hash(X, y, names)
    settings_text = json.dumps(s.model_dump(), sort_keys=True)
    model_id = "MD-" + hashlib.sha256(f"{dh}|{settings_text}".encode()).hexdigest()[:16]
    return Trained(booster, threshold, metrics, dh, names, model_id, learned_threshold=own)


def load(model_text: str):
    import lightgbm as lgb

    return lgb.Booster(model_str=model_text)


def contributions(booster, X: np.ndarray) -> np.ndarray:
    """Per row, each feature's contribution to the log-odds (LightGBM pred_contrib; last column is the bias)."""
    if len(X) == 0:
        return np.zeros((0, booster.num_feature() + 1))
    return np.asarray(booster.predict(X, pred_contrib=True))
