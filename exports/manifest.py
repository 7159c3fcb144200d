"""manifest.json: sha256 of every output and every input file, rule versions and parameters, run ids;
`verify(out_dir)` re-checks an export folder against it.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from exports.safe import atomic_write
from transforms.sources.base import sha256_file

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat() if value.tzinfo else value.isoformat()
    return str(value)


def inputs(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every ingested file: path, sha256 (file_id), reader, target table and reconciliation counts."""
    rows = con.execute("""
        SELECT file_id, path, source, target_table, rows_read, rows_loaded, rows_quarantined, rows_duplicate,
               run_id, ingested_at
        FROM ingested_files ORDER BY path, target_table, file_id""").fetchall()
    names = ["sha256", "path", "source", "target_table", "rows_read", "rows_loaded", "rows_quarantined",
             "rows_duplicate", "ingest_run_id", "ingested_at"]
    return [dict(zip(names, r)) for r in rows]


def rule_runs(con: duckdb.DuckDBPyConnection, run_ids: list[str]) -> list[dict]:
    """rule_runs rows of the detect runs behind the exported alerts (versions, parameter hashes, parameters)."""
    if not run_ids:
        return []
    cur = con.execute("""
        SELECT run_id, rule_id, rule_version, param_hash, parameters, status, note, candidates, hits, since, until
        FROM rule_runs WHERE list_contains(?::VARCHAR[], run_id) ORDER BY run_id, rule_id""", [run_ids])
    names = [d[0] for d in cur.description]
    out = []
    for r in cur.fetchall():
        row = dict(zip(names, r))
        if isinstance(row.get("parameters"), str):
            try:
                row["parameters"] = json.loads(row["parameters"])
            except ValueError:
                pass
        out.append(row)
    return out


def write(out_dir: Path, outputs: list[Path], *, export_id: str, detect_run_ids: list[str], run_id: str | None,
          con: duckdb.DuckDBPyConnection, params: dict, counts: dict, goaml: dict, seconds: float) -> Path:
    files = []
    for p in sorted(set(outputs)):
        rel = p.relative_to(out_dir).as_posix()
        files.append({"path": rel, "sha256": sha256_file(p), "bytes": p.stat().st_size})
    doc = {
        "format_version": FORMAT_VERSION,
        "generator": "scamtrace.exports",
        "export_id": export_id,
        "run_id": run_id,
        "detect_run_ids": detect_run_ids,
        "created_at": datetime.now(timezone.utc).isoformat(),
        "seconds": round(seconds, 3),
        "parameters": params,
        "counts": counts,
        "goaml": goaml,
        "rules": rule_runs(con, detect_run_ids),
        "inputs": inputs(con),
        "outputs": files,
    }
    return atomic_write(out_dir / MANIFEST, json.dumps(doc, indent=2, ensure_ascii=False, default=_json_default) + "\n")


def verify(out_dir: Path | str) -> list[str]:
    """Problems with an export folder: one line per changed, missing or extra file (empty list = clean)."""
    base = Path(out_dir)
    mpath = base / MANIFEST
    if not mpath.is_file():
        return [f"missing: {MANIFEST} (not an export folder, or the manifest was removed)"]
    try:
        doc = json.loads(mpath.read_text(encoding="utf-8"))
        listed = {f["path"]: f for f in doc["outputs"]}
    except (ValueError, KeyError, TypeError) as exc:
        return [f"changed: {MANIFEST} (unreadable: {exc})"]
    problems = []
    for rel, meta in sorted(listed.items()):
        p = base / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            problems.append(f"changed: {MANIFEST} lists a path outside the folder: {rel}")
        elif not p.is_file():
            problems.append(f"missing: {rel}")
        elif p.stat().st_size != meta.get("bytes") or sha256_file(p) != meta.get("sha256"):
            problems.append(f"changed: {rel}")
    for root, dirs, files in os.walk(base):
        for name in files:
            rel = (Path(root) / name).relative_to(base).as_posix()
            if rel != MANIFEST and rel not in listed:
                problems.append(f"extra: {rel}")
    return sorted(problems, key=lambda s: (s.split(": ", 1)[1], s))
