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
from flows.local_server import prefect_api
from transforms.errors import ScamtraceError
from transforms.store import default_db_path

app = typer.Typer(
    name="scamtrace",
    help="Follow scam-compound proceeds through bank and crypto extracts: ingest, detect, export.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=False, emoji=False)  # ids and ranges such as 4:12:4 or tron:T... are never emoji codes
err_console = Console(stderr=True, emoji=False)

DbOption = typer.Option(None, "--db", help="DuckDB file (default ./scamtrace.duckdb or $SCAMTRACE_DB)")
QuietOption = typer.Option(False, "--quiet", "-q", help="no progress bar or tables; errors only")


def _db(db: Optional[Path]) -> Path:
    return Path(db) if db else default_db_path()


def _guard(fn: Callable[[], int]) -> None:
    """Run a command body; turn user-actionable errors into one line and the right exit code."""
    try:
        _known_errors(fn)
    except typer.Exit:
        raise
    except Exception as exc:  # a bug or an environment failure: one line, the traceback on request
        if os.environ.get("SCAMTRACE_DEBUG"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        err_console.print(
            f"[red]error:[/red] {type(exc).__name__}: {first} (set SCAMTRACE_DEBUG=1 for the traceback)",
            highlight=False, soft_wrap=True,
        )
        raise typer.Exit(1) from None


def _known_errors(fn: Callable[[], int]) -> None:
    try:
        code = fn()
    except ScamtraceError as exc:  # every user-actionable error (transforms.errors): one line, its exit code
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
        base = _common_folder([r["path"] for r in reports])
        title = "Reconciliation: read = loaded + quarantined + duplicate" + (f"  (files under {base})" if base else "")
        table = Table(title=title, title_justify="left")
        for col in ("file", "format", "status", "read", "loaded", "quarantined", "duplicate"):
            table.add_column(col, justify="right" if col in ("read", "loaded", "quarantined", "duplicate") else "left",
                             overflow="fold")
        for r in reports:
            table.add_row(
                _short(r["path"], base), r["source"] or "-", r["status"], str(r["rows_read"]), str(r["rows_loaded"]),
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
    loaded = sum(r["rows_loaded"] for r in reports)
    unchanged = sum(r["rows_duplicate"] for r in reports) + sum(r["status"] == "skipped" for r in reports)
    # nothing new and nothing already known, and no refusal line above says why: every row was quarantined
    if reports and not loaded and not unchanged and not refused:
        lost = sum(r["rows_quarantined"] for r in reports)
        err_console.print(
            f"error: nothing was loaded: {lost} row(s) quarantined; "
            "`scamtrace status` lists the reasons (fix the files or the mapping and ingest them again)",
            highlight=False, soft_wrap=True)
        return 1
    return 1 if refused else 0


def _common_folder(paths: list[str]) -> str:
    """The folder all reported files share (shown once in the title instead of on every row)."""
    parents = [str(Path(p).resolve().parent) for p in paths]
    if not parents:
        return ""
    common = os.path.commonpath(parents)
    return "" if common in ("/", str(Path.cwd())) else common


def _short(path: str, base: str = "") -> str:
    resolved = Path(path).resolve()
    for root in (base, str(Path.cwd())):
        if root:
            try:
                return str(resolved.relative_to(root))
            except ValueError:
                continue
    return path


def run_ingest(paths: list[Path], mapping: list[Path], db: Path, quiet: bool) -> list[dict]:
    """With a Prefect server ($PREFECT_API_URL) the ingest is a flow run there (reconciliation artifact and all);
    without one, the same task body runs in this process: starting Prefect's temporary server would cost 8-13 s,
    more than a small file's whole ingest, and records nothing anybody can look at afterwards."""
    args = ([str(p) for p in paths], [str(m) for m in mapping], str(db))
    if os.environ.get("PREFECT_API_URL"):
        from flows.ingest_flow import ingest_flow

        return _with_progress(quiet, lambda: ingest_flow(paths=args[0], mapping_files=args[1], db=args[2]))
    from flows.stages import ingest_files

    return _with_progress(quiet, lambda: ingest_files(*args))


def _with_progress(quiet: bool, job: Callable[[], object]):
    """Run a flow with a progress bar on a terminal (rows and files ingested); plain otherwise."""
    if not _show_progress(quiet):
        return job()
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
            return job()
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
        from transforms.ingest import plan

        plan(paths, mapping)  # a broken mapping or a missing path stops here, before anything starts
        reports = run_ingest(paths, mapping, _db(db), quiet)
        return print_reconciliation(reports, quiet)

    _guard(body)


def print_detect(result: dict, quiet: bool) -> int:
    detect = result["detect"]
    failed = [r for r in detect["rules"] if r["status"] == "failed"]
    for r in failed:
        err_console.print(f"[red]rule failed:[/red] {r['rule_id']}: {r['note']}", highlight=False, soft_wrap=True)
    if not quiet:
        table = Table(title=f"Detect run {detect['run_id']}  {detect['since']} .. {detect['until']}", title_justify="left")
        for col in ("rule", "status", "hits", "seconds", "note"):
            table.add_column(col, overflow="fold", justify="right" if col in ("hits", "seconds") else "left")
        for r in detect["rules"]:
            table.add_row(r["rule_id"], r["status"], str(r["hits"]), f"{r['seconds']:.2f}", r["note"] or "")
        console.print(table)
        cw = result.get("casework") or {}
        facts = ", ".join(f"{k} {v}" for k, v in cw.items() if isinstance(v, (int, float)))
        console.print(f"typology alerts: {result['alerts']}" + (f"; {facts}" if facts else ""), highlight=False)
    no_usd = detect.get("no_usd") or {}
    if no_usd and not quiet:
        console.print(f"{sum(no_usd.values())} transaction(s) have no USD amount (no rate: "
                      + ", ".join(f"{c} {n}" for c, n in no_usd.items())
                      + "); rules on USD amounts skip them until a rates file brings one", highlight=False, soft_wrap=True)
    model = result.get("model") or {}
    if model.get("note") and not quiet:
        console.print(model["note"], highlight=False, soft_wrap=True)
    return 1 if failed else 0


def _day(value: Optional[str], name: str) -> Optional[str]:
    if value is None:
        return None
    from rules.engine import as_utc

    try:
        as_utc(value)
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a date (YYYY-MM-DD) or ISO time", param_hint=name) from None
    return value


@app.command()
def detect(
    since: Optional[str] = typer.Option(None, "--since", help="start of the period (YYYY-MM-DD or ISO time); default: the data's start"),
    until: Optional[str] = typer.Option(None, "--until", help="end of the period (a date includes that day); default: the data's end"),
    config: Optional[Path] = typer.Option(None, "--config", help="deployment config: parameter, weight and threshold overrides"),
    engine: str = typer.Option("duckdb", "--engine", help="where the rules run: duckdb (the store) or spark (docs/spark.md)"),
    spark_master: str = typer.Option("local[*]", "--spark-master", help="Spark master URL: local[*], spark://HOST:7077, yarn, ..."),
    lake: Optional[str] = typer.Option(None, "--lake", help="the Parquet lake Spark reads (default: the store, exported to a scratch lake)"),
    db: Optional[Path] = DbOption,
    quiet: bool = QuietOption,
) -> None:
    """Run the rule pack over a period, score typologies, build alerts, networks and compound links."""
    since, until = _day(since, "--since"), _day(until, "--until")
    if engine not in ("duckdb", "spark"):
        raise typer.BadParameter("use duckdb or spark", param_hint="--engine")

    def body() -> int:
        from flows.detect_flow import detect_flow
        from rules.engine import load_rules

        _require_db(_db(db))
        load_rules(config)  # a broken rule or deployment config stops here
        options = {"name": engine, "master": spark_master, "lake": lake} if engine == "spark" else None
        if lake and "://" not in lake:
            from transforms.lake import read_manifest

            read_manifest(Path(lake))  # not a lake: one line now, not a Spark stack trace later
        with prefect_api():
            result = detect_flow(db=str(_db(db)), since=since, until=until, config=str(config) if config else None,
                                 engine=options)
        return print_detect(result, quiet)

    _guard(body)


def _require_db(path: Path) -> None:
    if not path.exists():
        raise ScamtraceError(f"no database at {path}: run `scamtrace ingest` first or pass --db")


@app.command(name="eval")
def evaluate_cmd(
    truth: Path = typer.Option(..., "--truth", help="truth folder: ours (patterns.csv, ...) or a simulator's (AMLSim, AMLGentex, AMLworld)"),
    out: Optional[Path] = typer.Option(None, "--out", help="write the scores as JSON here"),
    train_share: Optional[float] = typer.Option(
        None, "--train-share", min=0.05, max=0.95,
        help="simulate the feedback loop: decide the alerts of this share of the patterns, train the model, score the rest"),
    labels: str = typer.Option("alerts", "--labels", help="with --train-share: alerts (decided alerts) or patterns (every account of a decided pattern, as filed STRs)"),
    seed: int = typer.Option(1, "--seed", help="with --train-share: seed of the pattern split"),
    config: Optional[Path] = typer.Option(None, "--config", help="deployment config (its scoring: section) for --train-share"),
    db: Optional[Path] = DbOption,
) -> None:
    """Score the current alerts against truth labels: recall per typology, precision and recall per account and transaction."""

    def body() -> int:
        from worlds.truth_formats import TruthError

        _require_db(_db(db))
        if not truth.is_dir():
            raise ScamtraceError("not a folder of truth labels", path=truth)
        if labels not in ("alerts", "patterns"):
            raise typer.BadParameter("--labels must be alerts or patterns")
        try:
            report = _feedback(truth, train_share, labels, seed, config, _db(db)) if train_share else _scores(truth, _db(db))
        except TruthError as exc:
            raise ScamtraceError(str(exc)) from None
        if out:
            import json

            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(report, indent=2, default=str))
        return 0

    _guard(body)


def _scores(truth: Path, db: Path) -> dict:
    from worlds.evaluate import evaluate, print_table
    from transforms import store

    con = store.connect(db)
    try:
        report = evaluate(con, truth)
    finally:
        con.close()
    print_table(report, console)
    return report


def _feedback(truth: Path, train_share: float, labels: str, seed: int, config: Optional[Path], db: Path) -> dict:
    from rules.spec import load_config
    from worlds.model_eval import print_feedback, simulate_feedback

    try:
        report = simulate_feedback(db, truth, train_share=train_share, seed=seed, labels=labels,
                                   scoring_section=load_config(config).scoring)
    except ValueError as exc:
        raise ScamtraceError(str(exc)) from None
    print_feedback(report, console)
    return report


def _csv(value: Optional[str]) -> Optional[list[str]]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def print_export(summary: dict, quiet: bool) -> int:
    if not quiet:
        counts = summary.get("counts", {})
        facts = ", ".join(f"{k} {v}" for k, v in counts.items() if isinstance(v, (int, float)))
        console.print(f"exported to {summary.get('out_dir')}: {facts}", highlight=False)
        cut = counts.get("graph_cut") or {}
        for nid, n in (cut.get("networks") or {}).items():
            console.print(f"graph files: network {nid} charted by its {cut['max_members']:,} best-ranked of {n:,} "
                          "members (all are in the network_members table)", highlight=False)
        bad = [f for f, ok in (summary.get("goaml_valid") or {}).items() if not ok] if isinstance(summary.get("goaml_valid"), dict) else []
        for f in bad:
            err_console.print(f"[red]invalid goAML:[/red] {f}", highlight=False)
    return 0


@app.command()
def export(
    out: Path = typer.Option(..., "--out", help="folder for the outputs (manifest.json lists and hashes them)"),
    fmt: Optional[str] = typer.Option(None, "--format", help="comma list of csv,xlsx,parquet,jsonl,goaml,graphml,html (default all)"),
    status: Optional[str] = typer.Option(None, "--status", help="comma list of new,updated,unchanged"),
    min_score: Optional[float] = typer.Option(None, "--min-score", help="minimum alert priority score (0..1)"),
    typology: Optional[str] = typer.Option(None, "--typology", help="comma list of typology ids"),
    network: Optional[str] = typer.Option(None, "--network", help="comma list of network ids"),
    jurisdiction: Optional[str] = typer.Option(None, "--jurisdiction", help="comma list of ISO country codes"),
    since: Optional[str] = typer.Option(None, "--since", help="alerts active on or after this date"),
    until: Optional[str] = typer.Option(None, "--until", help="alerts active before this date"),
    goaml_config: Optional[Path] = typer.Option(None, "--goaml-config", help="reporting entity and code lists of your FIU"),
    graph_max_members: Optional[int] = typer.Option(
        None, "--graph-max-members", min=0,
        help="members per network in the graph files (default 10000; a larger network is charted by its "
             "best-ranked members; 0 = no limit)"),
    db: Optional[Path] = DbOption,
    quiet: bool = QuietOption,
) -> None:
    """Write investigator outputs: tables, goAML XML, GraphML, HTML case reports, jurisdiction packages."""

    def body() -> int:
        from flows.export_flow import export_flow

        _require_db(_db(db))
        options = {
            "formats": _csv(fmt), "status": _csv(status), "min_score": min_score, "typology": _csv(typology),
            "network": _csv(network), "jurisdiction": _csv(jurisdiction), "since": since, "until": until,
            "goaml_config": str(goaml_config) if goaml_config else None,
        }
        options = {k: v for k, v in options.items() if v is not None}
        if graph_max_members is not None:
            options["graph_max_members"] = graph_max_members or None
        with prefect_api():
            result = export_flow(db=str(_db(db)), out=str(out), options=options)
        return print_export(result, quiet)

    _guard(body)


@app.command()
def verify(out: Path = typer.Argument(..., help="an export folder with manifest.json")) -> None:
    """Re-check an export against its manifest: every output and its sha256."""

    def body() -> int:
        from exports import verify as verify_export

        if not (out / "manifest.json").is_file():
            raise ScamtraceError("no manifest.json here: not a scamtrace export folder", path=out)
        problems = verify_export(out)
        for p in problems:
            console.print(p, highlight=False, soft_wrap=True)
        if not problems:
            console.print(f"{out}: every file matches manifest.json", highlight=False)
        return 1 if problems else 0

    _guard(body)


@app.command()
def run(
    paths: List[Path] = typer.Argument(..., help="files or folders of extracts (a landing folder)"),
    out: Path = typer.Option(Path("out"), "--out", help="export folder"),
    mapping: List[Path] = typer.Option([], "--mapping", "-m", help="mapping file for delimited bank extracts (repeatable)"),
    config: Optional[Path] = typer.Option(None, "--config", help="deployment config: parameter, weight and threshold overrides"),
    full: bool = typer.Option(False, "--full", help="detect over all data and export every alert, not only what is new"),
    goaml_config: Optional[Path] = typer.Option(None, "--goaml-config", help="reporting entity and code lists of your FIU"),
    wait: float = typer.Option(0, "--wait", help="seconds to wait for another run holding the database"),
    db: Optional[Path] = DbOption,
    quiet: bool = QuietOption,
) -> None:
    """The main job: ingest new files, detect over the new period (plus each rule's lookback), export new and updated alerts."""

    def body() -> int:
        from flows.run_flow import run_flow
        from rules.engine import load_rules
        from transforms.ingest import plan

        plan(paths, mapping)
        load_rules(config)
        kwargs = dict(paths=[str(p) for p in paths], out=str(out), db=str(_db(db)), mapping_files=[str(m) for m in mapping],
                      config=str(config) if config else None, full=full,
                      goaml_config=str(goaml_config) if goaml_config else None, wait_seconds=wait)
        with prefect_api():
            result = _with_progress(quiet, lambda: run_flow(**kwargs))
        code = print_reconciliation(result["ingest"], quiet)
        if result.get("detect"):
            code = max(code, print_detect(result, quiet))
        elif result.get("model") and not quiet:
            held = (result.get("casework") or {}).get("alerts_held_back", 0)
            console.print(f"new decisions: the latest run re-scored, {held} false positive(s) held back. "
                          + result["model"].get("note", ""), highlight=False, soft_wrap=True)
        elif not quiet:
            console.print("no new data: detection skipped (use --full to re-detect everything)", highlight=False)
        print_export(result["export"], quiet)
        return code

    _guard(body)


@app.command()
def backtest(
    set_: list[str] = typer.Option([], "--set", help="RULE.PARAM=VALUE (repeatable): the what-if"),
    sweep_: Optional[str] = typer.Option(None, "--sweep", help="RULE.PARAM=A:B:STEP: one replay per value, a precision / recall table"),
    since: Optional[str] = typer.Option(None, "--from", help="replay from this day (default: the whole history)"),
    until: Optional[str] = typer.Option(None, "--to", help="replay up to this day (inclusive)"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="ignore decisions made after this day"),
    config: Optional[Path] = typer.Option(None, "--config", help="deployment config the overrides apply on top of"),
    out: Optional[Path] = typer.Option(None, "--out", help="write the result here (CSV for --sweep, JSON otherwise)"),
    db: Optional[Path] = DbOption,
) -> None:
    """Replay the rule pack with changed parameters, scored against the dispositions; the live alerts are untouched."""

    def body() -> int:
        from scoring.backtest import backtest as run_backtest, parse_set, parse_sweep, sweep

        _require_db(_db(db))
        sets = [parse_set(s) for s in set_]
        from rules.engine import as_utc

        cut = _day(as_of, "--as-of")
        as_of_at = as_utc(cut, end=True) if cut else None  # a day means up to its end
        span = {"since": _day(since, "--from"), "until": _day(until, "--to"), "as_of": as_of_at, "config": config}
        if sweep_:
            rule, param, values = parse_sweep(sweep_)
            rows = sweep(_db(db), rule, param, values, sets, **span)
            _print_sweep(rule, param, rows, out)
        else:
            report = run_backtest(_db(db), sets, **span)
            _print_backtest(report, out)
        return 0

    _guard(body)


def _pct(v) -> str:
    return "-" if v is None else f"{v:.2f}"


def _print_backtest(report: dict, out: Optional[Path]) -> None:
    table = Table(title=f"backtest {report['sets'] or '(the pack as deployed)'}: {report['alerts']} alerts, "
                        f"precision {_pct(report['precision'])}, recall of confirmed {_pct(report['recall'])}",
                  title_justify="left")
    for col in ("rule", "subjects", "confirmed", "false positive", "precision", "recall"):
        table.add_column(col, justify="left" if col == "rule" else "right", no_wrap=col == "rule")
    for rule, m in report["per_rule"].items():
        table.add_row(rule, str(m["subjects"]), str(m["confirmed"]), str(m["false_positive"]), _pct(m["precision"]),
                      _pct(m["recall"]))
    console.print(table)
    missed = report["missed_confirmed"]
    console.print(f"confirmed subjects these settings miss: {len(missed)}" + (f" ({', '.join(missed[:20])}"
                  + (", ..." if len(missed) > 20 else "") + ")" if missed else "") + f"; alert set hash {report['alert_hash']}",
                  highlight=False, soft_wrap=True)
    if out:
        import json

        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, default=str))


def _print_sweep(rule: str, param: str, rows: list[dict], out: Optional[Path]) -> None:
    table = Table(title=f"sweep {rule}.{param}", title_justify="left")
    cols = ("value", "alerts", "precision", "recall", "rule_subjects", "rule_precision", "rule_recall", "missed_confirmed", "alert_hash")
    for col in cols:
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(*[_pct(r[c]) if c in ("precision", "recall", "rule_precision", "rule_recall") else str(r[c]) for c in cols])
    console.print(table)
    if out:
        import csv

        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(cols))
            w.writeheader()
            w.writerows(rows)


@app.command()
def serve(
    landing: Path = typer.Option(..., "--landing", help="landing folder the batch picks new extract files up from"),
    out: Path = typer.Option(Path("out"), "--out", help="export folder"),
    cron: str = typer.Option("0 2 * * *", "--cron", help="schedule (cron syntax, server time zone)"),
    name: str = typer.Option("scamtrace-batch", "--name", help="deployment name shown in the Prefect UI"),
    config: Optional[Path] = typer.Option(None, "--config", help="deployment config: parameter, weight and threshold overrides"),
    db: Optional[Path] = DbOption,
) -> None:
    """Serve the batch (run) flow on a schedule against a Prefect server (PREFECT_API_URL)."""

    def body() -> int:
        from flows.run_flow import run_flow
        from rules.engine import load_rules

        load_rules(config)
        if not os.environ.get("PREFECT_API_URL"):
            raise ScamtraceError(
                "PREFECT_API_URL is not set: start `prefect server start --host 127.0.0.1` and "
                "`export PREFECT_API_URL=http://127.0.0.1:4200/api` (README: Scheduled batch)"
            )
        import logging

        for logger in ("prefect.flow_runs", "prefect.task_runs"):  # operators want the run logs here
            logging.getLogger(logger).setLevel(logging.INFO)
        console.print(f"serving '{name}' on schedule '{cron}' from {landing}; Ctrl-C pauses the schedule and stops", highlight=False)
        run_flow.serve(
            name=name,
            cron=cron,
            parameters={"paths": [str(landing.resolve())], "out": str(out.resolve()), "db": str(_db(db).resolve()),
                        "config": str(config.resolve()) if config else None, "wait_seconds": 600},
        )
        return 0

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
        from worlds.synth import generate_world

        summary = generate_world(out, seed=seed, scale=scale, fmt=fmt)
        console.print(summary, highlight=False)
        return 0

    _guard(body)


@app.command()
def status(db: Optional[Path] = DbOption) -> None:
    """What the store holds: rows per table, sources and their dates, currencies without rates, quarantine, last runs."""

    def body() -> int:
        from transforms.status import store_status
        from transforms.store import connect

        _require_db(_db(db))
        con = connect(_db(db), read_only=True, wait_seconds=5)
        try:
            st = store_status(con)
        finally:
            con.close()
        _print_status(_db(db), st)
        return 0

    _guard(body)


def _print_status(path: Path, st: dict) -> None:
    def table(title: str, cols: tuple[str, ...], rows) -> None:
        t = Table(title=title, title_justify="left")
        for c in cols:
            t.add_column(c, overflow="fold")
        for r in rows:
            t.add_row(*("" if v is None else str(v)[:19] if hasattr(v, "isoformat") else str(v) for v in r))
        console.print(t)

    console.print(f"store {path}", highlight=False)
    table("Rows per table", ("table", "rows"), [(k, f"{v:,}") for k, v in st["tables"].items() if v])
    if st["sources"]:
        table("Transactions by source", ("source", "rows", "first", "last"), st["sources"])
    if st["fx_sources"]:
        table("Where the USD rates came from", ("fx_source", "rows"), st["fx_sources"])
    if st["no_rate"]:
        table("Currencies without a rate (loaded without amount_usd: add a rates file)", ("currency", "rows", "first", "last"),
              st["no_rate"])
    if st["quarantine"]:
        table("Quarantine by reason", ("table", "field", "rows", "example"), st["quarantine"])
    if st["runs"]:
        table("Last runs", ("command", "started", "finished", "status"), st["runs"])


from flows.cli_workbench import register as _register_workbench  # noqa: E402

_register_workbench(app, _guard, _db, DbOption, console)

from flows.cli_lake import register as _register_lake  # noqa: E402
from flows.cli_mapping import register as _register_mapping  # noqa: E402

_register_mapping(app, _guard, console, err_console)
_register_lake(app, _guard, _db, DbOption, console)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
