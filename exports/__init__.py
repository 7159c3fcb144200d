"""Investigator exports (docs/exports.md): export(con, out_dir, ...) and verify(out_dir); see exports/package.py."""

from exports.package import ALL_FORMATS, DEFAULT_FORMATS, TABLE_FORMATS, ExportError, export, verify
from exports.goaml import GoamlConfigError

__all__ = ["ALL_FORMATS", "DEFAULT_FORMATS", "TABLE_FORMATS", "ExportError", "GoamlConfigError", "export", "verify"]
