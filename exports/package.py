"""Investigator exports: tables (CSV, XLSX, Parquet, JSON lines), goAML XML, GraphML, HTML case reports,
per-jurisdiction packages and a manifest that `verify` re-checks. See docs/exports.md.

    export(con, out_dir, formats=..., status=..., ...) -> summary dict
    verify(out_dir) -> list of problems (empty = clean)

Plain functions: the CLI (`scamtrace export`, `scamtrace run`, `scamtrace verify`) and flows call them.
The connection may be read-only: export never writes to the store.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import duckdb

from exports import ftm as ftm_mod
from exports import goaml as goaml_mod
from exports import goaml_files as G
from exports import workers as W
from exports import graphml as graphml_mod
from exports import manifest as manifest_mod
from exports import report as report_mod
from exports import table_writers as TW
from exports import tables as T
from exports.safe import atomic_write, ensure_dir, inside, safe_country, safe_name
from transforms.errors import ScamtraceError
from rules.alert_tables import ensure_tables
from transforms import store

TABLE_FORMATS = T.TABLE_FORMATS
ALL_FORMATS = (*TABLE_FORMATS, "goaml", "graphml", "ftm", "html")
DEFAULT_FORMATS = ALL_FORMATS
# Rows from which a table's XLSX is written by a worker process (when the export has workers).
XLSX_WORKER_MIN = 20_000
REQUIRED_TABLES = ("alerts", "alert_evidence", "networks", "network_members", "network_edges", "compound_links",
                   "transactions", "ingested_files")

__all__ = ["export", "verify", "ExportError", "ALL_FORMATS", "DEFAULT_FORMATS", "GoamlConfigError"]

GoamlConfigError = goaml_mod.GoamlConfigError


class ExportError(ScamtraceError, ValueError):
    """Bad export arguments or a store without the casework tables: one line saying what to do (exit 1)."""


def verify(out_dir: Path | str) -> list[str]:
    """Re-check an export folder against its manifest.json: one line per changed / missing / extra file."""
    return manifest_mod.verify(Path(out_dir))


def _formats(formats: str | Iterable[str] | None) -> list[str]:
    if formats is None:
        return list(DEFAULT_FORMATS)
    items = [f.strip().lower() for f in (formats.split(",") if isinstance(formats, str) else formats)]
    items = ["jsonl" if f == "json" else ("html" if f == "report" else f) for f in items if f]
    if "all" in items:
        return list(DEFAULT_FORMATS)
    bad = [f for f in items if f not in ALL_FORMATS]
    if bad:
        raise ExportError(f"unknown export format {', '.join(bad)}: use {', '.join(ALL_FORMATS)} (or all)")
    return list(dict.fromkeys(items))


def export(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path | str,
    *,
    formats: str | Iterable[str] | None = DEFAULT_FORMATS,
    status: str | Iterable[str] | None = None,
    min_score: float | None = None,
    typology: str | Iterable[str] | None = None,
    network: str | Iterable[str] | None = None,
    jurisdiction: str | Iterable[str] | None = None,
    since: Any = None,
    until: Any = None,
    full: bool = True,
    goaml_config: Path | str | None = None,
    run_id: str | None = None,
    graph_max_members: int | None = graphml_mod.GRAPH_MAX_MEMBERS,
) -> dict:
    """Write the investigator outputs for the alerts matching the filters into out_dir.

    formats: any of csv, xlsx, parquet, jsonl (tables), goaml, graphml, html (default: all).
    Filters (None = no filter; lists as iterables or comma-separated text): status (new / updated /
    unchanged), min_score (alerts.priority_score, 0..1), typology, network (network_id), jurisdiction (ISO
    country of the alert's subject or of its network), since / until (the alert's evidence activity overlaps
    [since, until)). Networks follow the selected alerts.
    full: True writes the per-network artefacts as well (goAML per network, GraphML per network, HTML case
    reports, jurisdictions/<CC>/ packages); False writes the tables, goAML per alert, network.graphml and the
    manifest only (the quick incremental export of a batch run).
    goaml_config: YAML with the reporting entity and the FIU's code lists (default: goaml_default.yml).
    run_id: the calling run's id, recorded in manifest.json.
    graph_max_members: members per network in the graph files (GraphML, graph_nodes.csv, graph_edges.csv);
    a larger network is charted by its best-ranked members and listed under counts.graph_cut. None: no limit.

    Returns a summary: export_id, counts, the files written, goAML validity, seconds (and per part: parts).
    """
    t0 = time.perf_counter()
    fmts = _formats(formats)
    if graph_max_members is not None and (isinstance(graph_max_members, bool) or not isinstance(graph_max_members, int)
                                          or graph_max_members < 1):
        raise ExportError(f"graph_max_members {graph_max_members!r}: use a whole number of members from 1 "
                          "(or None for no limit)")
    missing = [t for t in REQUIRED_TABLES if not T.table_exists(con, t)]
    if missing:  # a store that was never detected on: nothing to report, so empty outputs (and a manifest)
        try:
            store.ensure_schema(con)
            ensure_tables(con)
        except duckdb.Error as exc:  # a read-only connection cannot make them
            raise ExportError(f"the store has no {', '.join(missing)} table(s) and is open read-only: "
                              "run `scamtrace detect` on it first") from exc
    cfg = goaml_mod.load_config(goaml_config) if "goaml" in fmts else None
    out = ensure_dir(Path(out_dir))
    for stale in out.rglob(".*.tmp"):  # temp files of an export killed mid-write (safe.atomic_path's names)
        if stale.is_file():
            stale.unlink()
    previous = _previous_outputs(out)
    filters = T.Filters.make(status=status, min_score=min_score, typology=typology, network=network,
                             jurisdiction=jurisdiction, since=since, until=until)
    sel = T.select(con, filters)
    xlsx_jobs: list = []  # (table, future, spool) of workbooks written by worker processes; (FTM_JOB, future, None)
    try:
        per_alert = any(f in fmts for f in (*TABLE_FORMATS, "goaml"))
        per_network = full and any(f in fmts for f in (*TABLE_FORMATS, "goaml", "html"))
        if per_alert or per_network:
            T.with_evidence(con, sel, networks=per_network)
        job = _ExportJob(con, out, sel, fmts, cfg, full, filters, run_id, t0, xlsx_jobs, graph_max_members)
        return job.run(previous)
    except BaseException:
        _settle(xlsx_jobs)
        raise
    finally:
        sel.drop(con)


FTM_JOB = "(ftm)"   # the FtM file's job among the workbooks' (exports/ftm.py)


def _ftm_job(data: dict, path: Path) -> tuple[list[Path], int]:
    """In a worker: the FtM file from ftm.gather's rows (as a workbook job returns: paths, 1)."""
    return ftm_mod.write_rows(data, path), 1


def _settle(xlsx_jobs: list) -> None:
    """After a failure: no worker is left writing into the folder, and no spool file is left in it."""
    for _, job, spool in xlsx_jobs:
        job.cancel()
    for _, job, spool in xlsx_jobs:
        if not job.cancelled():
            try:
                job.result()
            except BaseException:  # the export's own error is the one to report
                pass
        if spool is not None:
            spool.unlink(missing_ok=True)


class _ExportJob:
    """One export into `out`: the parts in order (tables, goAML, GraphML, HTML, jurisdiction packages, workbooks
    from the workers, manifest), sharing the files written, the counts and the seconds per part."""

    def __init__(self, con, out: Path, sel: T.Selection, fmts: list[str], cfg: dict | None, full: bool,
                 filters: T.Filters, run_id: str | None, t0: float, xlsx_jobs: list, graph_max_members: int | None):
        self.con, self.out, self.sel, self.fmts, self.cfg, self.full = con, out, sel, fmts, cfg, full
        self.filters, self.run_id, self.t0, self.xlsx_jobs = filters, run_id, t0, xlsx_jobs
        self.graph_max_members = graph_max_members
        self.table_fmts = [f for f in fmts if f in TABLE_FORMATS]
        self.written: list[Path] = []
        self.now = datetime.now(timezone.utc)
        self.export_id = str(uuid.uuid4())
        self.parts: dict[str, float] = {"select": round(time.perf_counter() - t0, 3)}  # seconds per part (benchmarks)
        self.lap = time.perf_counter()
        self.counts: dict[str, Any] = {}
        self.xlsx_sheets: dict[str, int] = {}
        self.used_names: dict[str, set[str]] = defaultdict(set)
        self.tables: dict[str, Any] = {}  # table name -> its query
        self.pool = None
        self.n_workers = 0

    def done(self, part: str) -> None:
        t = time.perf_counter()
        self.parts[part] = round(self.parts.get(part, 0) + t - self.lap, 3)
        self.lap = t

    def fname(self, folder: str, prefix: str, ident: str, ext: str) -> Path:
        base = f"{prefix}{safe_name(ident)}"
        name, i = base, 1
        while name in self.used_names[folder]:  # distinct ids that sanitise alike still get distinct files
            i += 1
            name = f"{base}_{i}"
        self.used_names[folder].add(name)
        return inside(self.out, self.out / folder / f"{name}.{ext}")

    def run(self, previous: list[Path]) -> dict:
        self.write_tables()
        networks = T.frame(self.con, self.tables["networks"]).rows  # one row per network: small whatever the store holds
        goaml_summary = self.write_goaml(networks) if "goaml" in self.fmts else {}
        if "ftm" in self.fmts:
            self.write_ftm()   # first: with workers it is built beside the GraphML
        if "graphml" in self.fmts:
            self.write_graphml()
        if "html" in self.fmts and self.full:
            self.write_reports(networks)
        juris_counts = self.write_jurisdictions() if self.full and self.table_fmts else {}
        self.collect_workbooks()
        return self.finish(previous, juris_counts, goaml_summary)

    def write_tables(self) -> None:
        """The tables, streamed from DuckDB batch by batch; big workbooks go to worker processes."""
        sel, con = self.sel, self.con
        tables = {"alerts": T.alerts_query(sel)}
        if sel.evidence_table:  # staged only when a format needs the evidence (not for GraphML or HTML alone)
            tables["alert_transactions"] = T.alert_transactions_query(sel)
        tables.update(networks=T.networks_query(sel), network_members=T.network_members_query(sel),
                      compound_links=T.compound_links_query(sel))
        if T.table_exists(con, "watchlist_matches"):
            tables["watchlist_matches"] = T.watchlist_matches_query(sel)
        self.tables = tables
        counts = self.counts
        counts.update({name: T.count(con, q) for name, q in tables.items()})
        plan: dict[str, list[str]] = {}  # the formats each table is written in
        xlsx_left_out = {}
        for name in tables:
            plan[name] = self.table_fmts
            if "xlsx" in self.table_fmts and counts[name] >= TW.XLSX_MAX_ROWS and set(self.table_fmts) - {"xlsx"}:
                # More rows than a sheet holds: nobody reads that in a spreadsheet, and writing it costs minutes.
                # The other formats hold every row; with XLSX alone the rows continue on further sheets.
                plan[name] = [f for f in self.table_fmts if f != "xlsx"]
                xlsx_left_out[name] = counts[name]
        big_books = {name for name, f in plan.items() if "xlsx" in f and counts[name] >= XLSX_WORKER_MIN}
        n_reports = (len(sel.alert_ids) + (len(sel.network_ids) if self.full else 0)) if "goaml" in self.fmts else 0
        self.n_workers = W.wanted(n_reports >= G.PARALLEL_MIN or bool(big_books))
        self.pool = pool = W.executor(self.n_workers)
        for name, q in tables.items():
            if plan[name]:
                spooled: list | None = [] if pool is not None and name in big_books else None
                self.written += TW.write_table(T.stream(con, q), self.out, name, plan[name], sheets=self.xlsx_sheets,
                                              spooled=spooled)
                self.xlsx_jobs += [(name, pool.submit(TW.xlsx_from_spool, *job), job[0]) for job in spooled or []]
        if xlsx_left_out:
            counts["xlsx_left_out"] = xlsx_left_out
        self.done("tables")

    def write_goaml(self, networks: list[dict]) -> dict:
        summary = _write_goaml(self.con, self.cfg, self.out, self.fname, self.sel, networks if self.full else [],
                               self.written, self.pool, self.n_workers)
        self.done("goaml")
        return summary

    def write_graphml(self) -> None:
        cut: dict[str, int] = {}
        self.written += graphml_mod.write_streamed(self.con, self.sel.networks_table, self.out / "network.graphml",
                                                   self.out / "graph_nodes.csv", self.out / "graph_edges.csv",
                                                   max_members=self.graph_max_members, cut=cut)
        if self.full:
            for nid in self.sel.network_ids:
                self.written += graphml_mod.write_streamed(self.con, self.sel.networks_table,
                                                           self.fname("graphml", "", nid, "graphml"),
                                                           network_id=nid, max_members=self.graph_max_members)
        if cut:
            self.counts["graph_cut"] = {"max_members": self.graph_max_members, "networks": cut}
        self.done("graphml")

    def write_ftm(self) -> None:
        """network.ftm.json: the networks as FollowTheMoney entities (exports/ftm.py), for Aleph and its tools.
        With workers, the rows are read here and the entities built in a worker while this process writes the
        GraphML (both are Python work of about the same size, each on one core); collected with the workbooks."""
        path = self.out / "network.ftm.json"
        if self.pool is None:
            self.written += ftm_mod.write(self.con, self.sel.networks_table, path)
        else:
            job = self.pool.submit(_ftm_job, ftm_mod.gather(self.con, self.sel.networks_table), path)
            self.xlsx_jobs.append((FTM_JOB, job, None))
        self.done("ftm")

    def write_reports(self, networks: list[dict]) -> None:
        """HTML case reports, one network in memory at a time, and their index."""
        con, sel = self.con, self.sel
        compounds = {r["compound_id"]: r for r in T.rows(con, "SELECT compound_id, name, country, confidence FROM compounds")}

        def one(q):
            return T.frame(con, q).rows

        entries = []
        listed = T.table_exists(con, "watchlist_matches")
        for n in networks:
            nid = n["network_id"]
            page = report_mod.render(n, one(T.network_members_query(sel, nid)), one(T.network_edges_query(sel, nid)),
                                     one(T.network_links_query(sel, nid)), one(T.network_alerts_query(sel, nid)),
                                     one(T.network_evidence_query(sel, nid)), compounds, self.now,
                                     matches=one(T.network_matches_query(nid)) if listed else [])
            path = self.fname("report", "", nid, "html")
            self.written.append(atomic_write(path, page))
            entries.append((nid, path.name, n))
        self.written.append(atomic_write(self.out / "report" / "index.html", report_mod.index_page(entries, self.now)))
        self.done("html")

    def write_jurisdictions(self) -> dict[str, int]:
        """Jurisdiction packages for MLA requests: the spreadsheet formats (CSV, XLSX) when asked for, else what
        was asked for (these still hold every selected network's rows at once)."""
        con, sel = self.con, self.sel
        juris_fmts = [f for f in self.table_fmts if f in ("csv", "xlsx")] or self.table_fmts
        counts = _write_jurisdictions(self.out, juris_fmts, T.frame(con, self.tables["networks"]),
                                      T.frame(con, self.tables["network_members"]),
                                      T.frame(con, T.network_evidence_query(sel)),
                                      T.frame(con, self.tables["compound_links"]), self.written)
        self.done("jurisdictions")
        return counts

    def collect_workbooks(self) -> None:
        for name, job, _ in self.xlsx_jobs:
            paths, n_sheets = job.result()
            self.written += paths
            if n_sheets > 1:
                self.xlsx_sheets[name] = n_sheets
        if self.xlsx_jobs:
            self.done("xlsx_wait")

    def finish(self, previous: list[Path], juris_counts: dict[str, int], goaml_summary: dict) -> dict:
        """Stale files of the previous export in this folder go; then the manifest."""
        out, counts = self.out, self.counts
        keep = {p.resolve() for p in self.written}
        for old in previous:
            if old.resolve() not in keep and old.is_file():
                old.unlink()
        counts["jurisdictions"] = juris_counts
        if self.xlsx_sheets:
            counts["xlsx_sheets"] = self.xlsx_sheets  # tables longer than one XLSX sheet, continued on further sheets
        detect_runs = _detect_runs(self.con, self.sel)
        params = {"formats": self.fmts, "full": self.full, "filters": self.filters.as_dict(),
                  "goaml_config": (self.cfg or {}).get("_path", "default" if self.cfg else None)}
        seconds = time.perf_counter() - self.t0
        mpath = manifest_mod.write(out, self.written, export_id=self.export_id, detect_run_ids=detect_runs,
                                   run_id=self.run_id, con=self.con, params=params, counts=counts,
                                   goaml=goaml_summary, seconds=seconds)
        return {
            "out_dir": str(out), "export_id": self.export_id, "run_id": self.run_id, "detect_run_ids": detect_runs,
            "counts": counts, "files": sorted(p.relative_to(out).as_posix() for p in self.written),
            "manifest": str(mpath), "goaml": goaml_summary, "seconds": round(time.perf_counter() - self.t0, 3),
            "parts": {**self.parts, "manifest": round(time.perf_counter() - self.lap, 3)},
        }


def _detect_runs(con, sel: T.Selection) -> list[str]:
    found = con.execute(f"""
        SELECT run_id FROM alerts WHERE alert_id IN (SELECT alert_id FROM {sel.alerts_table})
        UNION SELECT run_id FROM networks WHERE network_id IN (SELECT network_id FROM {sel.networks_table})""").fetchall()
    return sorted({r[0] for r in found if r[0]})


def _previous_outputs(out: Path) -> list[Path]:
    """Files the previous export in this folder listed (only those: other files are never touched)."""
    mpath = out / manifest_mod.MANIFEST
    if not mpath.is_file():
        return []
    try:
        listed = [f["path"] for f in json.loads(mpath.read_text(encoding="utf-8"))["outputs"]]
    except (ValueError, KeyError, TypeError):
        return []
    paths = []
    for rel in listed:
        p = out / rel
        try:
            paths.append(inside(out, p))
        except ValueError:
            continue
    return paths


def _write_goaml(con, cfg, out: Path, fname, sel: T.Selection, networks: list[dict], written: list[Path],
                 pool, n_workers: int) -> dict:
    writer = goaml_mod.GoamlWriter(con, cfg, preload=False)

    cap = int(cfg.get("max_transactions") or 0)

    def alert_rows(lo: int, hi: int) -> tuple[list[dict], list[dict], dict[str, dict]]:
        alerts = T.frame(con, T.alerts_query(sel, lo, hi)).rows
        if cap:
            return alerts, *T.capped_evidence(con, sel, lo, hi, cap)
        return alerts, T.frame(con, T.alert_transactions_query(sel, lo, hi)).rows, {}

    def network_rows(nid: str) -> tuple[list[dict], list[dict]]:
        return (T.frame(con, T.network_members_query(sel, nid)).rows,
                T.frame(con, T.network_evidence_query(sel, nid)).rows)

    # Four eyes: while the review workbench is in use (the store has its approvals), only reports a second person
    # approved are released into goaml/; the others are written to goaml/drafts/ for review.
    # An approval holds for the evidence the supervisor saw: new evidence since makes the report a draft again.
    released = ({r[0] for r in con.execute(
        """SELECT p.case_id FROM approvals p
           LEFT JOIN alerts a ON p.kind = 'alert' AND a.alert_id = p.case_id
           LEFT JOIN networks n ON p.kind = 'network' AND n.network_id = p.case_id
           WHERE p.fingerprint IS NOT DISTINCT FROM (CASE p.kind WHEN 'alert' THEN a.evidence_hash ELSE n.core_hash END)"""
    ).fetchall()} if T.table_exists(con, "approvals") else None)

    def path_of(kind: str, ident: str) -> Path:
        folder = "goaml" if released is None or ident in released else "goaml/drafts"
        return fname(folder, f"{kind}_", ident, "xml")

    batches = itertools.chain(G.alert_batches(alert_rows, writer, T.evidence_counts(con, sel), path_of),
                              G.network_batches(network_rows, writer, networks, path_of))
    res = G.write_all(writer, batches, out, pool, n_workers)
    written += res["written"]
    drafts = sum(1 for v in res["valid"] if v.startswith("goaml/drafts/"))
    return {"four_eyes": released is not None, "released": len(res["valid"]) - drafts, "drafts": drafts,
            "schema": cfg.get("schema") or "packaged goAMLSchema_5.0.1.xsd",
            "target_version": str(cfg.get("target_version")), "validator": str(cfg.get("validator") or "auto"),
            "valid": res["valid"], "invalid": res["invalid"], "skipped": res["skipped"]}


def _write_jurisdictions(out: Path, fmts: list[str], networks: T.Frame, members: T.Frame, evidence: T.Frame,
                         links: T.Frame, written: list[Path]) -> dict[str, int]:
    """jurisdictions/<CC>/: the part of each network's evidence that concerns one country (for MLA requests)."""
    countries: set[str] = set()
    for n in networks.rows:
        countries |= {c for c in (safe_country(j) for j in (n.get("jurisdictions") or [])) if c}
    for m in members.rows:
        c = safe_country(m.get("country"))
        if c:
            countries.add(c)
    for t in evidence.rows:
        countries |= {c for c in (safe_country(t.get("from_country")), safe_country(t.get("to_country"))) if c}
    counts = {}
    for cc in sorted(countries):
        acc_in = {(m["network_id"], m["member_id"]) for m in members.rows
                  if m["member_type"] == "account" and safe_country(m.get("country")) == cc}
        holders = {(m["network_id"], m.get("holder_id")) for m in members.rows
                   if m["member_type"] == "account" and safe_country(m.get("country")) == cc and m.get("holder_id")}
        keep_tx = [safe_country(t.get("from_country")) == cc or safe_country(t.get("to_country")) == cc
                   or (t["network_id"], t.get("from_account_id")) in acc_in or (t["network_id"], t.get("to_account_id")) in acc_in
                   for t in evidence.rows]
        if not any(keep_tx) and not acc_in:
            continue
        tx_accounts = {(t["network_id"], a) for t, k in zip(evidence.rows, keep_tx) if k
                       for a in (t.get("from_account_id"), t.get("to_account_id")) if a}
        keep_members = [
            (m["member_type"] == "account" and (m["network_id"], m["member_id"]) in acc_in)
            or (m["member_type"] == "party" and (safe_country(m.get("country")) == cc
                                                  or (m["network_id"], m["member_id"]) in holders))
            or (m["member_type"] == "account" and (m["network_id"], m["member_id"]) in tx_accounts
                and safe_country(m.get("country")) in (cc, None))
            for m in members.rows]
        subjects = {(m["member_type"], m["member_id"]) for m, k in zip(members.rows, keep_members) if k}
        keep_links = [(l["subject_type"], l["subject_id"]) in subjects for l in links.rows]
        nets = {t["network_id"] for t, k in zip(evidence.rows, keep_tx) if k} | {n for n, _ in acc_in}
        keep_nets = [n["network_id"] in nets for n in networks.rows]
        folder = inside(out, out / "jurisdictions" / cc)
        for name, frame, keep in (("transactions", evidence, keep_tx), ("members", members, keep_members),
                                  ("compound_links", links, keep_links), ("networks", networks, keep_nets)):
            written += TW.write_table(TW.subset(frame, keep), folder, name, fmts)
        counts[cc] = sum(keep_tx)
    return counts
