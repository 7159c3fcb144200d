"""The main job as one Prefect flow: ingest new files -> detect over the new period (+ each rule's lookback)
-> build alerts -> export what is new or changed. Used by `scamtrace run` and by the scheduled batch."""

from __future__ import annotations

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows import progress
from flows.stages import casework_build, open_store, run_markdown, top_alert_rows


@task(name="ingest-new-files", retries=2, retry_delay_seconds=5, retry_condition_fn=lambda t, r, s: _is_io_error(s))
def ingest_task(paths: list[str], mapping_files: list[str], db: str, wait_seconds: float) -> list[dict]:
    from pathlib import Path

    from transforms.ingest import ingest_paths

    reports = ingest_paths(
        Path(db), [Path(p) for p in paths], [Path(m) for m in mapping_files],
        on_file=lambda r: progress.emit("file_done", report=r),
        on_rows=lambda path, n: progress.emit("rows", path=path, n=n),
        wait_seconds=wait_seconds,
    )
    return [r.as_dict() for r in reports]


@task(name="detect-and-build")
def detect_task(db: str, since: str | None, until: str | None, config: str | None) -> dict:
    from rules.engine import detect

    con = open_store(db)
    try:
        summary = detect(con, since=since, until=until, config_path=config)
        casework = casework_build(con, summary.run_id)
    finally:
        con.close()
    return {"detect": summary.to_dict(), "alerts": summary.alerts, "casework": casework}


@task(name="export", retries=2, retry_delay_seconds=5, retry_condition_fn=lambda t, r, s: _is_io_error(s))
def export_task(db: str, out: str, full: bool, goaml_config: str | None) -> dict:
    from pathlib import Path

    from transforms.exports import export

    con = open_store(db)
    try:
        return export(con, Path(out), status=None if full else ["new", "updated"], goaml_config=goaml_config)
    finally:
        con.close()


def _is_io_error(state) -> bool:
    """Retry only what a second attempt can fix: file-system and lock contention, not bad data or bugs."""
    try:
        state.result()
    except (OSError, TimeoutError):
        return True
    except Exception:
        return False
    return False


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
    if full or since is not None:
        result.update(detect_task(db, since, until, config))
    result["export"] = export_task(db, out, full, goaml_config)
    create_table_artifact(key="run-top-alerts", table=top_alert_rows(db), description="Top new and updated alerts")
    create_markdown_artifact(key="run-summary", markdown=run_markdown(result))
    return result


@task(name="new-data-period")
def new_data_period_task(db: str, file_ids: list[str]) -> tuple[str | None, str | None]:
    from pathlib import Path

    from transforms.ingest import new_data_period

    return new_data_period(Path(db), file_ids)
