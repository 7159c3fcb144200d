"""Plain helpers the flows share: opening the store, calling the casework stage, shaping summaries."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from transforms import store


def ingest_files(paths: list[str], mapping_files: list[str], db: str, wait_seconds: float = 0) -> list[dict]:
    """Ingest with progress events; the body of the ingest task, and of `scamtrace ingest` without a server
    (which so never imports Prefect)."""
    from flows import progress
    from transforms.ingest import ingest_paths

    reports = ingest_paths(
        Path(db), [Path(p) for p in paths], [Path(m) for m in mapping_files],
        on_file=lambda r: progress.emit("file_done", report=r),
        on_rows=lambda path, n: progress.emit("rows", path=path, n=n),
        wait_seconds=wait_seconds,
    )
    return [r.as_dict() for r in reports]


@contextmanager
def rule_runner(con, db: str, engine: dict | None):
    """Where the rules run: the store (DuckDB, the default), or Spark over a lake (`engine`: {"name": "spark",
    "master": URL, "lake": DIR}). Without a lake, the store is exported to a scratch lake beside it first."""
    from rules.engine import DUCKDB

    if not engine or engine.get("name", "duckdb") == "duckdb":
        yield DUCKDB
        return
    from rules.spark_engine import SparkRunner
    from transforms.lake import export_lake

    scratch = None
    lake = engine.get("lake")
    if not lake:
        scratch = tempfile.mkdtemp(prefix=".scamtrace-lake-", dir=str(Path(db).resolve().parent))
        lake = str(Path(scratch) / "lake")
        export_lake(con, Path(lake))
    runner = SparkRunner(lake, engine.get("master") or "local[*]")
    try:
        yield runner
    finally:
        runner.spark.stop()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def open_store(db: str):
    return store.connect(Path(db))


def score_run(con, run_id: str, config: str | None) -> dict:
    """The model trained on dispositions scores the run's accounts (or says in one line why it did not train)."""
    import scoring
    from rules.spec import load_config

    return scoring.score(con, run_id, load_config(config).scoring)


def casework_build(con, run_id: str, config: str | None = None) -> dict:
    """Watch-list screening, alerts, networks and compound links from the detect run's typology scores."""
    from rules.casework import build
    from rules.spec import load_config

    return build(con, run_id, load_config(config).screening)


def sync_decisions(con, db: str) -> dict:
    """The review workbench's decisions and approvals into the store (dispositions, approvals), when a case store
    exists ($SCAMTRACE_CASES, or <store>.cases.sqlite beside it)."""
    from workbench import casestore, sync

    return sync.pull(con, casestore.default_url(db))


def publish_serving(con, db: str) -> str | None:
    """A fresh read-only copy for the workbench, so that it never holds the store that the batch writes."""
    from workbench import serving

    path = serving.publish(con, db)
    return str(path) if path else None


def detect_summary_rows(detect: dict) -> list[dict]:
    return [
        {"rule": r["rule_id"], "status": r["status"], "hits": r["hits"], "seconds": r["seconds"], "note": r["note"]}
        for r in detect["rules"]
    ]


def top_alert_rows(db: str, limit: int = 20) -> list[dict]:
    from rules.reporting import top_alerts

    con = open_store(db)
    try:
        return top_alerts(con, limit)
    finally:
        con.close()


def run_markdown(result: dict) -> str:
    """Markdown summary of a run: reconciliation of every file, detection, alerts per typology and compound."""
    from rules.reporting import alert_counts

    lines = ["# scamtrace run", "", "## Files", "", "| file | status | read | loaded | quarantined | duplicate | note |", "|---|---|---|---|---|---|---|"]
    for r in result["ingest"]:
        note = r["message"] or "; ".join(r.get("notes") or [])
        lines.append(f"| {r['path']} | {r['status']} | {r['rows_read']} | {r['rows_loaded']} | {r['rows_quarantined']} | {r['rows_duplicate']} | {note} |")
    lines += ["", "## Detection", ""]
    since, until = result.get("period") or (None, None)
    if result.get("detect"):
        d = result["detect"]
        lines.append(f"Run `{d['run_id']}` over {d['since']} .. {d['until']}; typology alerts: {result.get('alerts')}.")
        skipped = [f"{r['rule_id']} ({r['note']})" for r in d["rules"] if r["status"] in ("skipped", "failed")]
        if skipped:
            lines.append("Skipped or failed rules: " + ", ".join(skipped))
    else:
        lines.append("No new data: detection not run.")
    db = result.get("db")
    if db:
        con = open_store(db)
        try:
            counts = alert_counts(con)
        finally:
            con.close()
        lines += ["", "## Alerts by typology", "", "| typology | status | alerts |", "|---|---|---|"]
        lines += [f"| {t} | {s} | {n} |" for t, s, n in counts["by_typology"]]
        lines += ["", "## Alerts by compound", "", "| compound | alerts |", "|---|---|"]
        lines += [f"| {c} | {n} |" for c, n in counts["by_compound"]]
    if result.get("export"):
        lines += ["", f"Exports written to `{result['export'].get('out_dir', '')}`."]
    return "\n".join(lines)
