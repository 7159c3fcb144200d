"""Truth labels in the formats that worlds come with, as the three tables that worlds/evaluate.py scores against.

  patterns             pattern_id, typology (as the world names it), detected_by (the scamtrace typology whose
                       alerts should find it), compound_id, difficulty (when the world has them)
  pattern_accounts     pattern_id, account_id (canonical id), role ('victim' is not a target; others are)
  pattern_transactions pattern_id, txn_id (canonical id)
  operations           compound_id, role, account_id (scamtrace worlds only; else None)

Formats, detected by the files in the folder (gzip-compressed copies are read too):
  scamtrace   patterns.csv, pattern_accounts.csv, pattern_transactions.csv [operations.csv]  (`scamtrace synth`)
  AMLSim      alert_transactions.csv + alert_accounts.csv or generator/alert_members.csv (the generator's
              members also list bipartite and stack patterns, whose transfers upstream logs as normal)
  AMLGentex   alert_models.csv + the transfers (transactions.csv / tx_log.csv / transfers.csv with isSAR and
              patternID) [pattern_map.csv]
  AMLworld    *Patterns.txt (BEGIN LAUNDERING ATTEMPT - TYPE ... END blocks of transaction records)
Ids are made by the readers' own functions (transforms/sources/simulators.py), so truth and store meet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from transforms.errors import InputError
from transforms.ids import txn_id_from_key
from transforms.sources import simulators as sims

# Simulator typology -> the scamtrace typology that should find it.
DETECTED_BY = {
    "fan_in": "mule_fan_in", "fan-in": "mule_fan_in",
    "fan_out": "fan_out", "fan-out": "fan_out",
    "cycle": "cycle",
    "bipartite": "bipartite", "stack": "bipartite",
    "scatter_gather": "scatter_gather", "scatter-gather": "scatter_gather",
    "gather_scatter": "gather_scatter", "gather-scatter": "gather_scatter",
    "random": "rapid_layering",
}


@dataclass
class Truth:
    format: str
    patterns: pl.DataFrame
    pattern_accounts: pl.DataFrame
    pattern_transactions: pl.DataFrame
    operations: pl.DataFrame | None = None


class TruthError(InputError, ValueError):
    """A truth folder that cannot be read: the message names the file and what is missing (exit 1)."""


def _find(folder: Path, *names: str) -> Path | None:
    for name in names:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.exists():
                return candidate
    return None


def _csv(path: Path | None, columns: tuple[str, ...], name: str = "") -> pl.DataFrame:
    if path is None:
        raise TruthError(f"{name}: truth file missing (expected columns {', '.join(columns)})")
    df = pl.read_csv(path, infer_schema=False)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise TruthError(f"{path}: missing column(s) {', '.join(missing)}")
    return df


def load_truth(folder: Path) -> Truth:
    folder = Path(folder)
    if not folder.is_dir():
        raise TruthError(f"{folder}: not a folder of truth labels")
    if not _find(folder, "patterns.csv") and _find(folder / "truth", "patterns.csv"):
        folder = folder / "truth"
    if _find(folder, "patterns.csv"):
        return _scamtrace(folder)
    if _find(folder, "alert_transactions.csv") and (_find(folder, "alert_accounts.csv") or _find(folder / "generator", "alert_members.csv")):
        return _amlsim(folder)
    if _find(folder, "alert_models.csv"):
        return _amlgentex(folder)
    patterns_txt = sorted(folder.glob("*Patterns.txt"))
    if patterns_txt:
        return _amlworld(patterns_txt[0])
    raise TruthError(f"{folder}: no truth labels found (expected scamtrace patterns.csv, AMLSim alert_accounts.csv, "
                     "AMLGentex alert_models.csv or AMLworld *Patterns.txt)")


def _scamtrace(folder: Path) -> Truth:
    patterns = _csv(_find(folder, "patterns.csv"), ("pattern_id", "typology"))
    patterns = patterns.with_columns(detected_by=pl.col("typology"))
    accounts = _csv(_find(folder, "pattern_accounts.csv"), ("pattern_id", "account_id"), str(folder / "pattern_accounts.csv"))
    if "role" not in accounts.columns:
        accounts = accounts.with_columns(role=pl.lit(None, pl.Utf8))
    txns = _csv(_find(folder, "pattern_transactions.csv"), ("pattern_id", "txn_id"), str(folder / "pattern_transactions.csv"))
    ops_path = _find(folder, "operations.csv")
    ops = _csv(ops_path, ("compound_id", "role", "account_id")) if ops_path else None
    return Truth("scamtrace", patterns, accounts, txns, ops)


def _patterns(frame: pl.DataFrame) -> pl.DataFrame:
    """pattern_id, typology -> with detected_by; one row per pattern."""
    return (frame.select("pattern_id", "typology").unique(maintain_order=True)
            .with_columns(detected_by=pl.col("typology").str.to_lowercase().replace_strict(DETECTED_BY, default=None)))


def _txn_ids(simulator: str, native: pl.Expr) -> pl.Expr:
    key = sims.txn_key(simulator, native)
    return key.map_elements(txn_id_from_key, return_dtype=pl.Utf8)


def _amlsim(folder: Path) -> Truth:
    members_path = _find(folder / "generator", "alert_members.csv")
    if members_path:  # the generator's truth: every pattern, bipartite and stack included
        m = _csv(members_path, ("alertID", "reason", "accountID"))
        members = m.select(pattern_id=pl.col("alertID"), typology=pl.col("reason"), number=pl.col("accountID"),
                           is_main=pl.col("isMain").str.to_lowercase() == "true" if "isMain" in m.columns else pl.lit(False))
    else:
        m = _csv(_find(folder, "alert_accounts.csv"), ("alert_id", "alert_type", "acct_id"))
        members = m.select(pattern_id=pl.col("alert_id"), typology=pl.col("alert_type"), number=pl.col("acct_id"),
                           is_main=pl.lit(False))
    accounts = members.select(
        "pattern_id", account_id=sims.account_id("AMLSIM", pl.col("number")),
        role=pl.when(pl.col("is_main")).then(pl.lit("main")).otherwise(pl.lit("member")),
    )
    t = _csv(_find(folder, "alert_transactions.csv"), ("alert_id", "tran_id"))
    txns = t.select(pattern_id=pl.col("alert_id"), txn_id=_txn_ids("amlsim", pl.col("tran_id")))
    txns = pl.concat([txns, _amlsim_member_transfers(folder, members.filter(~pl.col("pattern_id").is_in(txns["pattern_id"].implode())))])
    return Truth("amlsim", _patterns(members), accounts, txns)


def _amlsim_member_transfers(folder: Path, unlisted: pl.DataFrame) -> pl.DataFrame:
    """The transfers of the patterns that alert_transactions does not list (upstream logs bipartite and stack
    transfers as normal, isSAR 0): every tx_log transfer whose payer and payee are both members of one such pattern."""
    log_path = _find(folder, "tx_log.csv")
    members = unlisted.select("pattern_id", number=pl.col("number").cast(pl.Utf8))
    if log_path is None or members.is_empty():
        return pl.DataFrame(schema={"pattern_id": unlisted.schema["pattern_id"], "txn_id": pl.Utf8})
    log = (pl.read_csv(log_path, columns=["nameOrig", "nameDest"], schema_overrides={"nameOrig": pl.Utf8, "nameDest": pl.Utf8})
           .with_row_index("row_no", offset=1))
    hits = (log.join(members.rename({"number": "nameOrig"}), on="nameOrig")
            .join(members.rename({"number": "nameDest"}), on=["nameDest", "pattern_id"]))
    return hits.select("pattern_id", txn_id=_txn_ids("amlsim", pl.col("row_no").cast(pl.Utf8)))


def _amlgentex(folder: Path) -> Truth:
    models = _csv(_find(folder, "alert_models.csv"), ("modelID", "type", "accountID"))
    tx_path = _find(folder, "transactions.csv", "tx_log.csv", "transfers.csv")
    if tx_path is None:
        raise TruthError(f"{folder}: AMLGentex truth needs the transfers beside alert_models.csv "
                         "(transactions.csv, tx_log.csv or transfers.csv with isSAR and patternID)")
    has_id = "tx_id" in pl.read_csv(tx_path, n_rows=0).columns
    orig, dest = ("src", "dst") if has_id else ("nameOrig", "nameDest")
    cols = [orig, dest, "bankOrig", "bankDest", "isSAR", "patternID"] + (["tx_id"] if has_id else [])
    tx = pl.read_csv(tx_path, columns=cols, schema_overrides={c: pl.Utf8 for c in cols}).with_row_index("row_no", offset=1)
    # the bank of each account, from either end of its transfers (accounts have no bank in alert_models)
    bank_of = pl.concat([tx.select(number=pl.col(orig), bank=pl.col("bankOrig")),
                         tx.select(number=pl.col(dest), bank=pl.col("bankDest"))]).unique("number")
    sar = tx.filter(pl.col("isSAR") == "1")
    map_path = _find(folder, "pattern_map.csv")
    if map_path:
        pmap = _csv(map_path, ("patternID", "modelID")).select("patternID", "modelID")
    else:  # laundering patternIDs follow the normal ones, in order of the models' first appearance in alert_models
        order = models.select("modelID").unique(maintain_order=True).with_row_index("rank")
        base = sar.select(pl.col("patternID").cast(pl.Int64).min()).item()
        pmap = order.select(patternID=(pl.col("rank").cast(pl.Int64) + base).cast(pl.Utf8), modelID=pl.col("modelID"))
    native = pl.col("tx_id") if has_id else pl.col("row_no").cast(pl.Utf8)
    txns = (sar.join(pmap, on="patternID", how="left")
            .select(pattern_id=pl.col("modelID"), txn_id=_txn_ids("amlgentex", native)))
    unmapped = txns.filter(pl.col("pattern_id").is_null()).height
    if unmapped:
        raise TruthError(f"{tx_path}: {unmapped} laundering transfer(s) whose patternID maps to no alert model; "
                         "add pattern_map.csv (patternID,modelID)")
    members = models.join(bank_of, left_on="accountID", right_on="number", how="left")
    accounts = members.select(
        pattern_id=pl.col("modelID"),
        account_id=sims.account_id(pl.col("bank").fill_null("bank_a"), pl.col("accountID")),
        role=pl.when(pl.col("isMain").str.to_lowercase() == "true").then(pl.lit("main")).otherwise(pl.lit("member"))
        if "isMain" in models.columns else pl.lit("member"),
    ).unique()
    return Truth("amlgentex", _patterns(models.select(pattern_id="modelID", typology="type")), accounts, txns)


_BEGIN = re.compile(r"^BEGIN LAUNDERING ATTEMPT - ([A-Z\-]+)")


def _amlworld(path: Path) -> Truth:
    pats, rows = [], []
    current = None
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            begin = _BEGIN.match(line)
            if begin:
                current = str(len(pats) + 1)
                pats.append({"pattern_id": current, "typology": begin.group(1).lower()})
            elif line.startswith("END LAUNDERING ATTEMPT"):
                current = None
            elif line and current is not None:
                rows.append((current, line.split(",")))
    if not pats:
        raise TruthError(f"{path}: no 'BEGIN LAUNDERING ATTEMPT' block")
    bad = [r for r in rows if len(r[1]) != 11]
    if bad:
        raise TruthError(f"{path}: a record in pattern {bad[0][0]} has {len(bad[0][1])} fields, expected 11")
    frame = pl.DataFrame({"pattern_id": [p for p, _ in rows], **{f"f{i}": [r[i] for _, r in rows] for i in range(11)}})
    key = sims.txn_key("amlworld", sims.amlworld_record_key([pl.col(f"f{i}") for i in range(11)]))
    txns = frame.select("pattern_id", txn_id=key.map_elements(txn_id_from_key, return_dtype=pl.Utf8))
    accounts = pl.concat([
        frame.select("pattern_id", account_id=sims.account_id(pl.col("f1"), pl.col("f2"))),
        frame.select("pattern_id", account_id=sims.account_id(pl.col("f3"), pl.col("f4"))),
    ]).unique(maintain_order=True).with_columns(role=pl.lit("member"))
    return Truth("amlworld", _patterns(pl.DataFrame(pats)), accounts, txns)
