"""Explanations of a model score as sentences, from the model's own feature contributions (pred_contrib)."""

from __future__ import annotations

import numpy as np

from scoring.features import FEATURES

TOP = 3


def _fragment(name: str, value: float) -> str:
    if name.startswith("rule_"):
        return f"rule {name.removeprefix('rule_')} measured {value:g}"
    template = FEATURES.get(name, name + " {value:g}")
    try:
        return template.format(value=value)
    except (ValueError, TypeError):
        return f"{name} {value:g}"


def explain(score: float, names: list[str], values: np.ndarray, contrib: np.ndarray) -> tuple[str, dict[str, float]]:
    """One sentence naming the features that raised the score most, and those contributions (log-odds)."""
    order = np.argsort(-contrib[: len(names)], kind="stable")
    top = [i for i in order[:TOP] if contrib[i] > 0]
    parts = [f"{_fragment(names[i], float(values[i]))} (+{contrib[i]:.2f})" for i in top]
    text = f"Model score {score:.2f}" + (": " + "; ".join(parts) if parts else ": no feature raised it above the base rate")
    return text + ".", {names[i]: round(float(contrib[i]), 4) for i in top}
