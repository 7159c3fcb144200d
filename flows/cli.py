"""The `scamtrace` command line (typer). Each command wires flows; errors the user can act on print one line.

Exit codes: 0 ok, 1 failure (bad input, a refused file), 2 bad usage (wrong option, broken mapping/config).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, List, Optional

import flows  # noqa: F401  (sets quiet Prefect defaults before prefect is imported)
import typer
from rich.console import Console
from rich.table import Table

from flows import progress
from transforms.errors import ScamtraceError
from transforms.store import default_db_path

app = typer.Typer(
    name="scamtrace",
    help="Follow scam-compound proceeds through bank and crypto extracts: ingest, detect, export.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=False)
err_console = Console(stderr=True)

DbOption = typer.Option(None, "--db", help="DuckDB file (default ./scamtrace.duckdb or $SCAMTRACE_DB)")
QuietOption = typer.Option(False, "--quiet", "-q", help="no progress bar or tables; errors only")


def _db(db: Optional[Path]) -> Path:
    return Path(db) if db else default_db_path()


def _guard(fn: Callable[[], int]) -> None:
    """Run a command body; turn user-actionable errors into one line and the right exit code."""
    try:
        code = fn()
    except ScamtraceError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("interrupted; nothing half-written was committed")
        raise typer.Exit(1) from None
    raise typer.Exit(code or 0)


def _show_progress(quiet: bool) -> bool:
    return not quiet and sys.stdout.isatty()


def print_reconciliation(reports: list[dict], quiet: bool) -> int:
    refused = [r for r in reports if r["status"] == "refused"]
    for r in refused:
        err_console.print(f"[red]refused:[/red] {r['message']}", highlight=False, soft_wrap=True)
    if not quiet:
        table = Table(title="Reconciliation: read = loaded + quarantined + duplicate", title_justify="left")
        for col in ("file", "format", "status", "read", "loaded", "quarantined", "duplicate"):
            table.add_column(col, justify="right" if col in ("read", "loaded", "quarantined", "duplicate") else "left",
                             overflow="fold")
        for r in reports:
            table.add_row(
                _short(r["path"]), r["source"] or "-", r["status"], str(r["rows_read"]), str(r["rows_loaded"]),
                str(r["rows_quarantined"]), str(r["rows_duplicate"]),
            )
        console.print(table)
        notes = [f"{r['path']}: {n}" for r in reports for n in r.get("notes", [])]
        for n in notes:
            console.print(f"note: {n}", highlight=False)
        quarantined = sum(r["rows_quarantined"] for r in reports)
        if quarantined:
            console.print(
                f"{quarantined} row(s) quarantined with their reasons: see table `quarantine` in the database",
                highlight=False,
            )
    return 1 if refused else 0


def _short(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def run_ingest(paths: list[Path], mapping: list[Path], db: Path, quiet: bool) -> list[dict]:
    from flows.ingest_flow import ingest_flow

    if not _show_progress(quiet):
        return ingest_flow(paths=[str(p) for p in paths], mapping_files=[str(m) for m in mapping], db=str(db))
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("rows {task.fields[rows]}"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("ingesting", total=None, rows=0)
        state = {"rows": 0, "files": 0}

        def listener(event: str, data: dict) -> None:
            if event == "rows":
                state["rows"] += data["n"]
                bar.update(task, description=f"ingesting {Path(data['path']).name}", rows=f"{state['rows']:,}")
            elif event == "file_done":
                state["files"] += 1
                bar.update(task, completed=state["files"])

        progress.set_listener(listener)
        try:
            return ingest_flow(paths=[str(p) for p in paths], mapping_files=[str(m) for m in mapping], db=str(db))
        finally:
            progress.set_listener(None)


@app.command()
def ingest(
    paths: List[Path] = typer.Argument(..., help="files or folders of extracts"),
    mapping: List[Path] = typer.Option([], "--mapping", "-m", help="mapping file for delimited bank extracts (repeatable)"),
    db: Optional[Path] = DbOption,
    quiet: bool = QuietOption,
) -> None:
    """Load extract files into the store; prints a per-file reconciliation."""

    def body() -> int:
        reports = run_ingest(paths, mapping, _db(db), quiet)
        return print_reconciliation(reports, quiet)

    _guard(body)


@app.command()
def synth(
    out: Path = typer.Option(..., "--out", help="folder to write the world into"),
    seed: int = typer.Option(7, "--seed"),
    scale: str = typer.Option("sample", "--scale", help="sample | small | medium | 1m | 10m | 100m"),
    fmt: str = typer.Option("extracts", "--format", help="extracts (bank/crypto files) or parquet (canonical, for benchmarks)"),
) -> None:
    """Write a synthetic scam-economy world with truth labels."""

    def body() -> int:
        from transforms.synth import generate_world

        summary = generate_world(out, seed=seed, scale=scale, fmt=fmt)
        console.print(summary, highlight=False)
        return 0

    _guard(body)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
