"""Digests of every table and export of one pipeline run, to show that a refactor changed no output.

    python bench/digest_outputs.py data/samples --out /tmp/digests.json        # ingest, detect, casework, export
    python bench/digest_outputs.py W/transactions W/kyc W/reference W/events --out w.json   # a benchmark world W
    python bench/digest_outputs.py data/samples --compare /tmp/digests.json    # exit 1 and list what differs

Run ids, wall-clock stamps and file ids of the run are masked (they differ on every run by design); everything else
is hashed: each table's rows in a stable order, each export file's bytes with those values masked.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VOLATILE_COLUMNS = re.compile(r"(^|_)(run_id|created_at|updated_at|started_at|finished_at|generated_at|seconds|"
                              r"ingested_at|loaded_at|decided_at|exported_at|first_run_id|summary)$")
UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STAMP = re.compile(rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
WORKSPACE = re.compile(rb"/tmp/[^\s\"'<>]*")


def table_digests(con) -> dict[str, str]:
    out = {}
    for (name,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                               "AND table_type = 'BASE TABLE' ORDER BY 1").fetchall():
        cols = [c for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [name]).fetchall() if not VOLATILE_COLUMNS.search(c)]
        if not cols:
            continue
        listed = ", ".join(f'"{c}"' for c in cols)
        rows = con.execute(f'SELECT {listed} FROM "{name}" ORDER BY ALL').fetchall()
        h = hashlib.sha256()
        for r in rows:
            h.update(repr(r).encode())
        out[name] = f"{len(rows)} rows {h.hexdigest()[:16]}"
    return out


def _masked(data: bytes) -> bytes:
    return WORKSPACE.sub(b"<path>", STAMP.sub(b"<time>", UUID.sub(b"<uuid>", data)))


def _content(p: Path) -> bytes:
    """The bytes that carry the content: Parquet rows without the volatile columns, XLSX sheets without the
    workbook's document properties, the manifest without checksums and sizes, any other file as it is."""
    if p.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(p)
        return repr(table.drop_columns([c for c in table.column_names if VOLATILE_COLUMNS.search(c)]).to_pylist()).encode()
    if p.suffix == ".xlsx":
        import zipfile

        with zipfile.ZipFile(p) as z:
            return b"".join(z.read(n) for n in sorted(z.namelist()) if not n.startswith("docProps/"))
    if p.name == "manifest.json":  # without its checksums and sizes: every file is digested on its own (masked)
        doc = json.loads(p.read_text())

        def strip(node):
            if isinstance(node, dict):
                return {k: strip(v) for k, v in node.items() if k not in ("sha256", "bytes", "seconds", "export_id")}
            if isinstance(node, list):
                return [strip(v) for v in node]
            return node

        return json.dumps(strip(doc), sort_keys=True).encode()
    return p.read_bytes()


def file_digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(_masked(_content(p))).hexdigest()[:16]
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run(inputs: list[Path]) -> dict:
    try:
        import exports
    except ImportError:  # a checkout from before exports/ became a top-level package (to compare with it)
        from transforms import exports  # type: ignore[no-redef]
    from rules import casework
    from rules.engine import detect
    from transforms.ingest import ingest_paths
    from transforms.store import connect

    work = Path(tempfile.mkdtemp(prefix="digest-"))
    db = work / "store.duckdb"
    ingest_paths(db, list(inputs))
    con = connect(db)
    try:
        summary = detect(con)
        casework.build(con, summary.run_id)
        exports.export(con, work / "out")
        return {"tables": table_digests(con), "files": file_digests(work / "out")}
    finally:
        con.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", type=Path, nargs="+", help="files or folders to ingest")
    ap.add_argument("--out", type=Path, help="write the digests here")
    ap.add_argument("--compare", type=Path, help="compare with digests written earlier; exit 1 on a difference")
    args = ap.parse_args()
    got = run(args.inputs)
    if args.out:
        args.out.write_text(json.dumps(got, indent=1, sort_keys=True))
    n = len(got["tables"]) + len(got["files"])
    if args.compare:
        want = json.loads(args.compare.read_text())
        diff = [f"{kind} {k}: {want[kind].get(k)} -> {got[kind].get(k)}" for kind in ("tables", "files")
                for k in sorted(set(want[kind]) | set(got[kind])) if want[kind].get(k) != got[kind].get(k)]
        print("\n".join(diff) if diff else f"same outputs: {n} tables and files")
        return 1 if diff else 0
    print(f"{len(got['tables'])} tables, {len(got['files'])} files digested")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
