"""`scamtrace lake export --to DIR`: the store's canonical tables as a Parquet lake (registered by flows/cli.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

RESULT_TABLES = ("listed_addresses", "rule_hits", "rule_runs", "typology_scores")

lake_app = typer.Typer(help="The canonical tables as a Parquet lake, for Spark and other engines.", no_args_is_help=True)


def register(app: typer.Typer, guard, db_of, db_option, console) -> None:
    app.add_typer(lake_app, name="lake")

    @lake_app.command("export")
    def export(
        to: Path = typer.Option(..., "--to", help="lake folder (replaced once the new one is complete)"),
        db: Optional[Path] = db_option,
    ) -> None:
        """Write every canonical table as Parquet, facts partitioned by month, with _lake.json (docs/spark.md)."""

        def body() -> int:
            from transforms import store
            from transforms.errors import ScamtraceError
            from transforms.lake import export_lake

            path = db_of(db)
            if not path.exists():
                raise ScamtraceError(f"no database at {path}: run `scamtrace ingest` first or pass --db")
            con = store.connect(path, read_only=True)
            try:
                # with the canonical tables: what detect derived and found, for tools that read the lake
                manifest = export_lake(con, to, extra_tables=RESULT_TABLES)
            finally:
                con.close()
            rows = ", ".join(f"{k} {v['rows']:,}" for k, v in manifest["tables"].items() if v["rows"])
            console.print(f"lake written to {to}: {rows}", highlight=False, soft_wrap=True)
            return 0

        guard(body)
