"""Backtest and what-if: replay the rule pack over history with changed parameters, scored against the
dispositions, without touching the live alerts.

    report = backtest(db_path, sets={"fan_in_24h.min_senders": 6}, since=..., until=..., as_of=...)
    rows = sweep(db_path, "fan_in_24h.min_senders", [4, 5, 6, 7], ...)

Each replay runs on a scratch copy of the store (the live alerts, hits and runs are never written), with the
deployment config plus the overrides. Per rule: subjects raised, how many of them analysts confirmed or called
false positives (as of `as_of`: later decisions are ignored), precision over the decided ones, recall of the
confirmed subjects, and by id the confirmed subjects that the settings would miss. The alert set's hash
(sha256 of the sorted typology|subject pairs) shows that the same inputs give the same alerts.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import yaml

from rules.casework.dispositions import latest_sql
from rules.spec import SpecError, load_config
from transforms.store import connect


def parse_set(text: str) -> tuple[str, str, Any]:
    """'RULE.PARAM=VALUE' -> (rule, param, value parsed as YAML: 6, 0.5, 24h, [a, b])."""
    key, sep, value = text.partition("=")
    rule, dot, param = key.strip().partition(".")
    if not sep or not dot or not rule or not param:
        raise SpecError(f"--set {text!r}: expected RULE.PARAM=VALUE, e.g. fan_in_24h.min_senders=6")
    return rule, param, yaml.safe_load(value)


def parse_sweep(text: str) -> tuple[str, str, list[float]]:
    """'RULE.PARAM=A:B:STEP' -> (rule, param, [A, A+STEP, ..., B])."""
    key, sep, spec = text.partition("=")  # the range is not YAML: 4:12:4 is a base-60 int there
    rule, dot, param = key.strip().partition(".")
    parts = spec.strip().split(":")
    if not sep or not dot or not rule or not param or len(parts) != 3:
        raise SpecError(f"--sweep {text!r}: expected RULE.PARAM=A:B:STEP, e.g. fan_in_24h.min_senders=3:8:1")
    try:
        lo, hi, step = (float(p) for p in parts)
    except ValueError:
        raise SpecError(f"--sweep {text!r}: expected RULE.PARAM=A:B:STEP with numbers, e.g. fan_in_24h.min_senders=3:8:1") from None
    if step <= 0 or hi < lo:
        raise SpecError(f"--sweep {text!r}: STEP must be positive and B at least A")
    values, v = [], lo
    while v <= hi + 1e-9:
        values.append(int(v) if float(v).is_integer() and all(float(p).is_integer() for p in parts) else round(v, 10))
        v += step
    return rule, param, values


def _config_with(base: Path | None, sets: list[tuple[str, str, Any]], folder: Path) -> Path:
    cfg = load_config(base).model_dump(exclude={"base_dir"}, exclude_defaults=True) if base else {}
    for rule, param, value in sets:
        cfg.setdefault("rules", {}).setdefault(rule, {}).setdefault("parameters", {})[param] = value
    if base:  # relative list files stay relative to the original config
        lists = cfg.get("listed_addresses", {}).get("files") or []
        cfg.setdefault("listed_addresses", {})["files"] = [str((base.parent / f).resolve()) for f in lists]
        if not lists:
            cfg["listed_addresses"].pop("files")
    path = folder / "backtest.yml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=True))
    return path


def _decisions(con: duckdb.DuckDBPyConnection, as_of: datetime | None) -> dict[str, str]:
    sql = latest_sql(con, as_of=True)
    params = {"as_of": as_of} if "$as_of" in sql else {}
    return dict(con.execute(f"SELECT subject_id, disposition FROM ({sql})", params).fetchall())


def _replay(db_path: Path, sets, config: Path | None, since, until, as_of) -> dict:
    from rules.engine import detect

    with tempfile.TemporaryDirectory(prefix="scamtrace-backtest-") as tmp:
        work = Path(tmp) / "store.duckdb"
        shutil.copy(db_path, work)
        cfg = _config_with(config, sets, Path(tmp))
        con = connect(work)
        try:
            decided = _decisions(con, as_of)
            run_id = detect(con, since=since, until=until, config_path=cfg).run_id
            hits = con.execute("SELECT rule_id, list(DISTINCT subject_id) FROM rule_hits WHERE run_id = ? AND score > 0"
                               " GROUP BY 1 ORDER BY 1", [run_id]).fetchall()
            alerts = con.execute("SELECT typology_id, subject_id FROM typology_scores WHERE run_id = ? AND is_alert"
                                 " ORDER BY 1, 2", [run_id]).fetchall()
        finally:
            con.close()
    confirmed = {s for s, d in decided.items() if d == "confirmed"}
    per_rule = {}
    for rule_id, subjects in hits:
        subj = set(subjects)
        c, f = len(subj & confirmed), sum(1 for s in subj if decided.get(s) == "false_positive")
        per_rule[rule_id] = {"subjects": len(subj), "confirmed": c, "false_positive": f,
                             "precision": round(c / (c + f), 4) if c + f else None,
                             "recall": round(c / len(confirmed), 4) if confirmed else None}
    alerted = {s for _, s in alerts}
    c = len(alerted & confirmed)
    f = sum(1 for s in alerted if decided.get(s) == "false_positive")
    return {
        "sets": {f"{r}.{p}": v for r, p, v in sets},
        "alerts": len(alerts), "subjects": len(alerted),
        "precision": round(c / (c + f), 4) if c + f else None,
        "recall": round(c / len(confirmed), 4) if confirmed else None,
        "missed_confirmed": sorted(confirmed - alerted),
        "alert_hash": hashlib.sha256("\n".join(f"{t}|{s}" for t, s in alerts).encode()).hexdigest()[:16],
        "per_rule": per_rule, "decisions": {"confirmed": len(confirmed), "false_positive": sum(
            1 for d in decided.values() if d == "false_positive")},
    }


def backtest(db_path: Path, sets: list[tuple[str, str, Any]] | None = None, *, config: Path | None = None,
             since=None, until=None, as_of: datetime | None = None) -> dict:
    """One replay with the overrides (none: the pack as deployed)."""
    return _replay(Path(db_path), list(sets or []), config, since, until, as_of)


def sweep(db_path: Path, rule: str, param: str, values: list, sets: list[tuple[str, str, Any]] | None = None, *,
          config: Path | None = None, since=None, until=None, as_of: datetime | None = None) -> list[dict]:
    """One replay per value of RULE.PARAM (with the other overrides): the precision / recall table."""
    out = []
    for v in values:
        r = _replay(Path(db_path), list(sets or []) + [(rule, param, v)], config, since, until, as_of)
        rr = r["per_rule"].get(rule, {})
        out.append({"value": v, "alerts": r["alerts"], "precision": r["precision"], "recall": r["recall"],
                    "rule_subjects": rr.get("subjects", 0), "rule_precision": rr.get("precision"),
                    "rule_recall": rr.get("recall"), "missed_confirmed": len(r["missed_confirmed"]),
                    "alert_hash": r["alert_hash"]})
    return out
