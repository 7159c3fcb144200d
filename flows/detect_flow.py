"""Prefect flow: run the rule pack over a period, then build alerts, networks and compound links."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.stages import casework_build, detect_summary_rows, open_store


@task(name="detect")
def detect_task(db: str, since: str | None, until: str | None, config: str | None) -> dict:
    from rules.engine import detect

    con = open_store(db)
    try:
        summary = detect(con, since=since, until=until, config_path=config)
        casework = casework_build(con, summary.run_id)
    finally:
        con.close()
    return {"detect": summary.to_dict(), "alerts": summary.alerts, "casework": casework}


@flow(name="scamtrace-detect", log_prints=False)
def detect_flow(db: str = "scamtrace.duckdb", since: str | None = None, until: str | None = None, config: str | None = None) -> dict:
    result = detect_task(db, since, until, config)
    rows = detect_summary_rows(result["detect"])
    create_table_artifact(key="detect-rules", table=rows, description="Rules run, skipped and their hits")
    create_markdown_artifact(
        key="detect-summary",
        markdown=f"# Detect run {result['detect']['run_id']}\n\nAlerts (typology level): {result['alerts']}\n\n"
        + "\n".join(f"- {k}: {v}" for k, v in (result["casework"] or {}).items() if not isinstance(v, (dict, list))),
    )
    return result
