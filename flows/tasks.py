"""Prefect tasks shared by the flows. Each calls one plain function of transforms/ or rules/; retries only
where a second attempt can help (file system, lock contention), never on bad data or bugs."""

from __future__ import annotations

from pathlib import Path

from prefect import task

from flows.stages import casework_build, ingest_files, rule_runner, open_store, publish_serving, score_run, sync_decisions


def _is_io_error(task_, run, state) -> bool:
    try:
        state.result()
    except (OSError, TimeoutError):
        return True
    except Exception:
        return False
    return False


@task(name="ingest", retries=2, retry_delay_seconds=5, retry_condition_fn=_is_io_error)
def ingest_task(paths: list[str], mapping_files: list[str], db: str, wait_seconds: float = 0) -> list[dict]:
    return ingest_files(paths, mapping_files, db, wait_seconds)


@task(name="new-data-period")
def new_data_period_task(db: str, file_ids: list[str]) -> tuple[str | None, str | None]:
    from transforms.ingest import new_data_period

    return new_data_period(Path(db), file_ids)


@task(name="detect-and-build")
def detect_task(db: str, since: str | None, until: str | None, config: str | None, engine: dict | None = None) -> dict:
    from rules.engine import detect

    con = open_store(db)
    try:
        sync_decisions(con, db)
        with rule_runner(con, db, engine) as runner:
            summary = detect(con, since=since, until=until, config_path=config, runner=runner)
        model = score_run(con, summary.run_id, config)
        casework = casework_build(con, summary.run_id, config)
        publish_serving(con, db)
    finally:
        con.close()
    return {"detect": summary.to_dict(), "alerts": summary.alerts, "model": model, "casework": casework}


@task(name="sync-decisions")
def sync_task(db: str) -> dict:
    """Decisions made in the workbench since the last run: new data like a dispositions file."""
    con = open_store(db)
    try:
        return sync_decisions(con, db)
    finally:
        con.close()


@task(name="rescore")
def rescore_task(db: str, config: str | None) -> dict:
    """New decisions and no new transactions: the latest detect run is scored again and its alerts rebuilt, so
    false positives are held back and the model learns from the decisions without running the rules again."""
    from worlds.evaluate import latest_run

    con = open_store(db)
    try:
        run_id = latest_run(con)
        if run_id is None:
            return {"model": {"status": "skipped", "note": "no detect run yet: the decisions wait for the first one"}}
        model = score_run(con, run_id, config)
        casework = casework_build(con, run_id, config)
        publish_serving(con, db)
    finally:
        con.close()
    return {"model": model, "casework": casework}


@task(name="export", retries=2, retry_delay_seconds=5, retry_condition_fn=_is_io_error)
def export_task(db: str, out: str, options: dict) -> dict:
    from exports import export

    con = open_store(db)
    try:
        sync_decisions(con, db)  # approvals made since the last run decide which reports are released
        return export(con, Path(out), **options)
    finally:
        con.close()
