"""Prefect flow: run the rule pack over a period, then build alerts, networks and compound links."""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.stages import detect_summary_rows
from flows.tasks import detect_task


@flow(name="scamtrace-detect", log_prints=False)
def detect_flow(db: str = "scamtrace.duckdb", since: str | None = None, until: str | None = None, config: str | None = None,
                engine: dict | None = None) -> dict:
    result = detect_task(db, since, until, config, engine)
    create_table_artifact(key="detect-rules", table=detect_summary_rows(result["detect"]), description="Rules run, skipped and their hits")
    create_markdown_artifact(
        key="detect-summary",
        markdown=f"# Detect run {result['detect']['run_id']}\n\nAlerts (typology level): {result['alerts']}\n\n"
        + "\n".join(f"- {k}: {v}" for k, v in (result["casework"] or {}).items() if not isinstance(v, (dict, list))),
    )
    return result
