"""Cut a small slice of a simulator world for tests: some laundering patterns whole, plus a sample of normal accounts,
with every transfer between the kept accounts and the truth renumbered to match.

    python bench/slice_world.py ../shared/benchmarks/third_party/amlgentex_dev_a tests/fixtures/worlds/amlgentex_slice
    python bench/slice_world.py ../shared/benchmarks/third_party/amlsim_dev_a tests/fixtures/worlds/amlsim_slice

Kept: `--patterns` patterns of each typology (the first ones), `--normal` normal accounts drawn with `--seed`.
AMLGentex: transactions.csv + alert_models.csv + pattern_map.csv. AMLSim: tx_log.csv + alert_transactions.csv
(tran_id renumbered to the slice's rows) + generator/alert_members.csv.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _gz(folder: Path, name: str) -> Path:
    return folder / name if (folder / name).exists() else folder / f"{name}.gz"


def slice_amlgentex(src: Path, out: Path, patterns: int, normal: int, seed: int) -> None:
    models = pl.read_csv(_gz(src, "alert_models.csv"), infer_schema=False)
    keep_models = models.select("modelID", "type").unique(maintain_order=True).group_by("type", maintain_order=True).head(patterns)["modelID"]
    models = models.filter(pl.col("modelID").is_in(keep_models.implode()))
    tx = pl.read_csv(_gz(src, "transactions.csv"), infer_schema=False)
    pool = pl.concat([tx["nameOrig"], tx["nameDest"]]).unique().sort()
    kept = set(models["accountID"].to_list()) | set(pool.sample(normal, seed=seed).to_list())
    pmap = pl.read_csv(_gz(src, "pattern_map.csv"), infer_schema=False).filter(pl.col("modelID").is_in(keep_models.implode()))
    # laundering transfers of dropped patterns would be unlabelled truth: leave them out
    tx = tx.filter(pl.col("nameOrig").is_in(list(kept)) & pl.col("nameDest").is_in(list(kept))
                   & ((pl.col("isSAR") == "0") | pl.col("patternID").is_in(pmap["patternID"].implode())))
    out.mkdir(parents=True, exist_ok=True)
    tx.write_csv(out / "transactions.csv")
    models.write_csv(out / "alert_models.csv")
    pmap.write_csv(out / "pattern_map.csv")
    print(f"{out}: {tx.height} transfers, {tx.filter(pl.col('isSAR') == '1').height} laundering, {len(keep_models)} patterns")


def slice_amlsim(src: Path, out: Path, patterns: int, normal: int, seed: int) -> None:
    every = pl.read_csv(_gz(src / "generator", "alert_members.csv"), infer_schema=False)
    keep = every.select("alertID", "reason").unique(maintain_order=True).group_by("reason", maintain_order=True).head(patterns)["alertID"]
    members = every.filter(pl.col("alertID").is_in(keep.implode()))
    tx = pl.read_csv(_gz(src, "tx_log.csv"), infer_schema=False).with_row_index("tran_id", offset=1)
    pool = pl.concat([tx["nameOrig"], tx["nameDest"]]).unique().sort()
    kept = set(members["accountID"].to_list()) | set(pool.sample(normal, seed=seed).to_list())
    # AMLSim logs bipartite and stack transfers as normal (isSAR 0): those between two members of a dropped
    # pattern would be unlabelled truth in the slice, so they are left out like its other laundering transfers
    dropped = every.filter(~pl.col("alertID").is_in(keep.implode())).select("alertID", "accountID")
    unlabelled = (dropped.join(dropped, on="alertID", suffix="_to").filter(pl.col("accountID") != pl.col("accountID_to"))
                  .select(nameOrig="accountID", nameDest="accountID_to").unique())
    tx = tx.filter(pl.col("nameOrig").is_in(list(kept)) & pl.col("nameDest").is_in(list(kept))
                   & ((pl.col("isSAR") == "0") | pl.col("alertID").is_in(keep.implode())))
    tx = tx.join(unlabelled, on=["nameOrig", "nameDest"], how="anti", maintain_order="left")
    tx = tx.with_row_index("new_id", offset=1)
    alert_tx = pl.read_csv(_gz(src, "alert_transactions.csv"), infer_schema=False)
    renumber = tx.select(pl.col("tran_id").cast(pl.Utf8), pl.col("new_id").cast(pl.Utf8))
    alert_tx = (alert_tx.join(renumber, on="tran_id", how="inner").with_columns(tran_id=pl.col("new_id")).drop("new_id"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "generator").mkdir(exist_ok=True)
    tx.drop("tran_id", "new_id").write_csv(out / "tx_log.csv")
    alert_tx.write_csv(out / "alert_transactions.csv")
    members.write_csv(out / "generator" / "alert_members.csv")
    print(f"{out}: {tx.height} transfers, {alert_tx.height} laundering, {len(keep)} patterns")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--patterns", type=int, default=3, help="patterns kept per typology")
    ap.add_argument("--normal", type=int, default=1500, help="normal accounts sampled")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if _gz(a.src, "alert_models.csv").exists():
        slice_amlgentex(a.src, a.out, a.patterns, a.normal, a.seed)
    else:
        slice_amlsim(a.src, a.out, a.patterns, a.normal, a.seed)


if __name__ == "__main__":
    main()
