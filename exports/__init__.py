"""Investigator exports: tables (CSV, XLSX, Parquet, JSON lines), goAML XML, GraphML, HTML case reports,
per-jurisdiction packages and a manifest that `verify` re-checks. See docs/exports.md.

    export(con, out_dir, formats=..., status=..., ...) -> summary dict
    verify(out_dir) -> list of problems (empty = clean)

Plain functions: the CLI (`scamtrace export`, `scamtrace run`, `scamtrace verify`) and flows call them.
The connection may be read-only: export never writes to the store.
"""

from exports.package import ALL_FORMATS, DEFAULT_FORMATS, TABLE_FORMATS, ExportError, export, verify
from exports.goaml import GoamlConfigError

__all__ = ["ALL_FORMATS", "DEFAULT_FORMATS", "TABLE_FORMATS", "ExportError", "GoamlConfigError", "export", "verify"]
