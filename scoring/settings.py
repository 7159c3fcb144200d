"""Settings of the scoring model: defaults here, overridden by the `scoring:` section of the deployment config."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ScoringSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # below these the model does not train and says so; rules run as before
    min_positives: int = Field(default=20, ge=1)
    min_negatives: int = Field(default=20, ge=1)
    # undecided accounts sampled as presumed negatives, per labelled positive (most accounts are not laundering;
    # the few laundering ones among the sample only make the validation precision conservative)
    presumed_negative_ratio: float = Field(default=10.0, ge=0)
    # the alert threshold is the lowest score whose precision on held-out folds reaches this
    target_precision: float = Field(default=0.7, gt=0, le=1)
    # and never below this: with labels that separate cleanly, the lowest held-out positive can score near zero
    min_threshold: float = Field(default=0.5, ge=0, le=1)
    folds: int = Field(default=3, ge=2)
    raise_alerts: bool = True  # accounts above the threshold without a rule alert get a `learned` alert
    max_learned_share: float = Field(default=0.02, ge=0, le=1)  # of transacting accounts, a guard against drift
    # every rule's measured value as a feature. Off by default: when the labels come from decided alerts, "a rule
    # fired" separates them perfectly and the model learns nothing beyond the pack (docs/scoring.md, measured)
    rule_features: bool = False
    seed: int = 7
    rounds: int = Field(default=200, ge=10)
    learning_rate: float = Field(default=0.05, gt=0)
    num_leaves: int = Field(default=15, ge=2)
    min_data_in_leaf: int = Field(default=5, ge=1)
    threads: int = Field(default=2, ge=1)  # fixed, so that the same data and seed give the same model anywhere


def settings_from(section: dict[str, Any] | None) -> ScoringSettings:
    """The settings, or a SpecError naming the bad field of the config's scoring: section (exit 2)."""
    from pydantic import ValidationError

    from rules.spec import SpecError

    try:
        return ScoringSettings(**(section or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SpecError(f"config scoring.{where}: {first['msg']}") from None
