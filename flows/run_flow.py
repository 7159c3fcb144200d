"""The main job as one Prefect flow: ingest new files -> detect over the new period (+ each rule's lookback)
-> build alerts -> export what is new or changed. Used by `scamtrace run` and by the scheduled batch."""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.stages import run_markdown, top_alert_rows
from flows.tasks import detect_task, export_task, ingest_task, new_data_period_task, rescore_task, sync_task


@flow(name="scamtrace-run", log_prints=False)
def run_flow(
    paths: list[str],
    out: str = "out",
    db: str = "scamtrace.duckdb",
    mapping_files: list[str] | None = None,
    config: str | None = None,
    full: bool = False,
    goaml_config: str | None = None,
    wait_seconds: float = 0,
) -> dict:
    reports = ingest_task(paths, mapping_files or [], db, wait_seconds)
    new_files = [r["file_id"] for r in reports if r["status"] == "loaded" and r["rows_loaded"]]
    since, until = (None, None) if full else new_data_period_task(db, new_files)
    result: dict = {"ingest": reports, "detect": None, "export": None, "period": [since, until], "db": db}
    result["sync"] = sync_task(db)  # the workbench's decisions count as new data too
    new_decisions = result["sync"]["changed"] or any(r["table"] == "dispositions" and r["rows_loaded"] for r in reports)
    if full or since is not None:
        result.update(detect_task(db, since, until, config))
    elif new_decisions:  # decisions are new data too: re-score and rebuild the latest run's alerts
        result.update(rescore_task(db, config))
    options = {"status": None if full else ["new", "updated"], "goaml_config": goaml_config}
    result["export"] = export_task(db, out, {k: v for k, v in options.items() if v is not None})
    create_table_artifact(key="run-top-alerts", table=top_alert_rows(db), description="Top new and updated alerts")
    create_markdown_artifact(key="run-summary", markdown=run_markdown(result))
    return result
