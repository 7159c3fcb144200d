"""Tables of the scoring stage: the models trained (versioned) and the scores of one detect run."""

from __future__ import annotations

import duckdb

from transforms.schema import Column, Table

MODELS = Table(
    "models",
    "One row per training attempt: what was learned from which labels, how it validated, or why it did not train.",
    (
        Column("model_id", "VARCHAR", "'MD-' + sha256(data_hash|settings)[:16]: the same labels, data and settings give the same id"),
        Column("run_id", "VARCHAR", "detect run it was trained in"),
        Column("trained_at", "TIMESTAMPTZ", "UTC"),
        Column("status", "VARCHAR", "trained | skipped"),
        Column("note", "VARCHAR", "one line: why it was skipped, or what it learned from"),
        Column("n_positive", "BIGINT", "confirmed accounts"),
        Column("n_negative", "BIGINT", "false-positive accounts"),
        Column("n_presumed_negative", "BIGINT", "undecided accounts sampled as negatives"),
        Column("data_hash", "VARCHAR", "sha256 (16 hex) of the training matrix and labels"),
        Column("features", "VARCHAR[]", "feature names, in model order"),
        Column("settings", "JSON", "scoring settings in force"),
        Column("metrics", "JSON", "validation on held-out folds: average precision, precision and recall at the threshold"),
        Column("threshold", "DOUBLE", "the model's threshold (above_threshold; alerts of its own have theirs: metrics.learned)"),
        Column("model_text", "VARCHAR", "the LightGBM model as text (reloadable with lightgbm.Booster(model_str=...))"),
    ),
)

ACCOUNT_SCORES = Table(
    "account_scores",
    "The model's score of every transacting account in one detect run, with its top contributions for alerted ones.",
    (
        Column("run_id", "VARCHAR", "detect run"),
        Column("model_id", "VARCHAR", "models.model_id"),
        Column("account_id", "VARCHAR", "transactions' account id"),
        Column("score", "DOUBLE", "0..1 probability-like score"),
        Column("above_threshold", "BOOLEAN", "score >= the model's threshold"),
        Column("explanation", "VARCHAR", "sentences from the largest positive feature contributions (alerted and raised accounts)"),
        Column("contributions", "JSON", "feature -> contribution (log-odds) of the top features"),
    ),
)

ALL = (MODELS, ACCOUNT_SCORES)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in ALL:
        con.execute(table.ddl())
