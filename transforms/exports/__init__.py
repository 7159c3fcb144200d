"""Investigator exports: tables (CSV, XLSX, Parquet, JSON lines), goAML XML, GraphML, HTML case reports,
per-jurisdiction packages and a manifest that `verify` re-checks. See docs/exports.md.

    export(con, out_dir, formats=..., status=..., ...) -> summary dict
    verify(out_dir) -> list of problems (empty = clean)

Plain functions: the CLI (`scamtrace export`, `scamtrace run`, `scamtrace verify`) and flows call them.
The connection may be read-only: export never writes to the store.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import duckdb

from transforms.exports import goaml as goaml_mod
from transforms.exports import graphml as graphml_mod
from transforms.exports import manifest as manifest_mod
from transforms.exports import report as report_mod
from transforms.exports import tables as T
from transforms.exports.safe import atomic_write, ensure_dir, inside, safe_country, safe_name

TABLE_FORMATS = T.TABLE_FORMATS
ALL_FORMATS = (*TABLE_FORMATS, "goaml", "graphml", "html")
DEFAULT_FORMATS = ALL_FORMATS
REQUIRED_TABLES = ("alerts", "alert_evidence", "networks", "network_members", "network_edges", "compound_links",
                   "transactions", "ingested_files")

__all__ = ["export", "verify", "ExportError", "ALL_FORMATS", "DEFAULT_FORMATS", "GoamlConfigError"]

GoamlConfigError = goaml_mod.GoamlConfigError


class ExportError(ValueError):
    """Bad export arguments or a store without the casework tables: one line saying what to do."""


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


def _group(rows: list[dict], key: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        out[r[key]].append(r)
    return out


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

    Returns a summary: export_id, counts, the files written, goAML validity, seconds.
    """
    t0 = time.perf_counter()
    fmts = _formats(formats)
    missing = [t for t in REQUIRED_TABLES if not T.table_exists(con, t)]
    if missing:
        raise ExportError(f"the store has no {', '.join(missing)} table(s): run `scamtrace detect` before exporting")
    cfg = goaml_mod.load_config(goaml_config) if "goaml" in fmts else None
    out = ensure_dir(Path(out_dir))
    for stale in out.rglob(".*.tmp"):  # temp files of an export killed mid-write (safe.atomic_path's names)
        if stale.is_file():
            stale.unlink()
    previous = _previous_outputs(out)
    filters = T.Filters.make(status=status, min_score=min_score, typology=typology, network=network,
                             jurisdiction=jurisdiction, since=since, until=until)
    sel = T.select(con, filters)
    table_fmts = [f for f in fmts if f in TABLE_FORMATS]
    written: list[Path] = []
    now = datetime.now(timezone.utc)
    export_id = str(uuid.uuid4())

    # ---- tables
    alerts = T.alerts_frame(con, sel.alert_ids)
    evidence = T.alert_transactions_frame(con, sel.alert_ids)
    networks = T.networks_frame(con, sel.network_ids)
    members = T.network_members_frame(con, sel.network_ids)
    links = T.compound_links_frame(con, sel.alert_ids, sel.network_ids)
    for name, frame in (("alerts", alerts), ("alert_transactions", evidence), ("networks", networks),
                        ("network_members", members), ("compound_links", links)):
        written += T.write_table(frame, out, name, table_fmts)

    edges = T.network_edges_frame(con, sel.network_ids)
    net_evidence = T.network_evidence_frame(con, sel.network_ids) if (full or "goaml" in fmts) else None
    members_by = _group(members.rows, "network_id")
    edges_by = _group(edges.rows, "network_id")
    links_by_subject = _group([{**l, "_k": f"{l['subject_type']}|{l['subject_id']}"} for l in links.rows], "_k")
    links_by = {nid: [l for m in ms for l in links_by_subject.get(f"{m['member_type']}|{m['member_id']}", [])]
                for nid, ms in members_by.items()}
    ev_by_net = _group(net_evidence.rows, "network_id") if net_evidence is not None else {}
    compounds = {r["compound_id"]: r for r in T.rows(con, "SELECT compound_id, name, country, confidence FROM compounds")}
    used_names: dict[str, set[str]] = defaultdict(set)

    def fname(folder: str, prefix: str, ident: str, ext: str) -> Path:
        base = f"{prefix}{safe_name(ident)}"
        name, i = base, 1
        while name in used_names[folder]:  # distinct ids that sanitise alike still get distinct files
            i += 1
            name = f"{base}_{i}"
        used_names[folder].add(name)
        return inside(out, out / folder / f"{name}.{ext}")

    # ---- goAML
    goaml_summary: dict[str, Any] = {}
    if "goaml" in fmts:
        goaml_summary = _write_goaml(con, cfg, out, fname, alerts.rows, _group(evidence.rows, "alert_id"),
                                     networks.rows if full else [], members_by, ev_by_net, written, now)

    # ---- GraphML
    if "graphml" in fmts:
        g = graphml_mod.build(sel.network_ids, members_by, edges_by, links_by, compounds)
        written.append(graphml_mod.write_graphml(g, out / "network.graphml"))
        written += graphml_mod.write_lists(g, out / "graph_nodes.csv", out / "graph_edges.csv")
        if full:
            for nid in sel.network_ids:
                gn = graphml_mod.build([nid], members_by, edges_by, links_by, compounds)
                written.append(graphml_mod.write_graphml(gn, fname("graphml", "", nid, "graphml")))

    # ---- HTML case reports
    if "html" in fmts and full:
        alerts_by_net = _group([a for a in alerts.rows if a.get("network_id")], "network_id")
        entries = []
        for n in networks.rows:
            nid = n["network_id"]
            page = report_mod.render(n, members_by.get(nid, []), edges_by.get(nid, []), links_by.get(nid, []),
                                     alerts_by_net.get(nid, []), ev_by_net.get(nid, []), compounds, now)
            path = fname("report", "", nid, "html")
            written.append(atomic_write(path, page))
            entries.append((nid, path.name, n))
        written.append(atomic_write(out / "report" / "index.html", report_mod.index_page(entries, now)))

    # ---- jurisdiction packages
    juris_counts: dict[str, int] = {}
    if full and table_fmts and net_evidence is not None:
        # For MLA requests: the spreadsheet formats (CSV, XLSX) when asked for, else what was asked for.
        juris_fmts = [f for f in table_fmts if f in ("csv", "xlsx")] or table_fmts
        juris_counts = _write_jurisdictions(out, juris_fmts, networks, members, net_evidence, links, written)

    # ---- stale files of the previous export in this folder, then the manifest
    keep = {p.resolve() for p in written}
    for old in previous:
        if old.resolve() not in keep and old.is_file():
            old.unlink()
    counts = {"alerts": len(alerts), "alert_transactions": len(evidence), "networks": len(networks),
              "network_members": len(members), "compound_links": len(links), "jurisdictions": juris_counts}
    detect_runs = sorted({r for r in ([a.get("run_id") for a in alerts.rows] + [n.get("run_id") for n in networks.rows]) if r})
    params = {"formats": fmts, "full": full, "filters": filters.as_dict(),
              "goaml_config": (cfg or {}).get("_path", "default" if cfg else None)}
    seconds = time.perf_counter() - t0
    mpath = manifest_mod.write(out, written, export_id=export_id, detect_run_ids=detect_runs, run_id=run_id,
                               con=con, params=params, counts=counts, goaml=goaml_summary, seconds=seconds)
    return {
        "out_dir": str(out), "export_id": export_id, "run_id": run_id, "detect_run_ids": detect_runs,
        "counts": counts, "files": sorted(p.relative_to(out).as_posix() for p in written),
        "manifest": str(mpath), "goaml": goaml_summary, "seconds": round(time.perf_counter() - t0, 3),
    }


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


def _write_goaml(con, cfg, out: Path, fname, alerts: list[dict], evidence_by_alert: dict, networks: list[dict],
                 members_by: dict, ev_by_net: dict, written: list[Path], now: datetime) -> dict:
    writer = goaml_mod.GoamlWriter(con, cfg)
    schema_path = cfg.get("schema")
    valid, invalid, skipped = [], [], []

    def emit(kind: str, ident: str, build) -> None:
        try:
            xml = build()
        except ValueError as exc:  # e.g. an alert without evidence transactions
            skipped.append({"id": ident, "reason": str(exc)})
            return
        path = fname("goaml", f"{kind}_", ident, "xml")
        atomic_write(path, xml)
        errors = goaml_mod.validate_file(path, schema_path, validator=str(cfg.get("validator") or "auto"))
        if errors:
            # Never leave an invalid report where it could be submitted: move it aside with its errors.
            bad = fname("goaml/invalid", f"{kind}_", ident, "xml")
            atomic_write(bad, xml)
            path.unlink()
            atomic_write(bad.with_suffix(".errors.txt"), "\n".join(errors) + "\n")
            written.extend([bad, bad.with_suffix(".errors.txt")])
            invalid.append({"id": ident, "file": bad.relative_to(out).as_posix(), "errors": errors[:20]})
        else:
            written.append(path)
            valid.append(path.relative_to(out).as_posix())

    for a in alerts:
        emit("alert", a["alert_id"], lambda a=a: goaml_mod.alert_report(writer, a, evidence_by_alert.get(a["alert_id"], [])))
    for n in networks:
        nid = n["network_id"]
        emit("network", nid, lambda n=n, nid=nid: goaml_mod.network_report(writer, n, members_by.get(nid, []), ev_by_net.get(nid, [])))
    return {"schema": schema_path or "packaged goAMLSchema_5.0.1.xsd", "target_version": str(cfg.get("target_version")),
            "validator": str(cfg.get("validator") or "auto"),
            "valid": valid, "invalid": invalid, "skipped": skipped}


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
            written += T.write_table(T.subset(frame, keep), folder, name, fmts)
        counts[cc] = sum(keep_tx)
    return counts
