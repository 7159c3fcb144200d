"""User-facing errors: one line naming the file, row or field and what to do.

The CLI prints `str(error)` and exits with `exit_code`; nothing below the CLI prints tracebacks for these.
"""

from __future__ import annotations


class ScamtraceError(Exception):
    """A failure the user can act on (bad input, bad configuration)."""

    exit_code = 1

    def __init__(self, message: str, *, path: object = None, row: int | None = None, field: str | None = None):
        where = []
        if path is not None:
            where.append(str(path))
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field '{field}'")
        self.message = message
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")


class InputError(ScamtraceError):
    """An input file cannot be read as a whole (unknown layout, undecodable, empty, hostile)."""


class ConfigError(ScamtraceError):
    """A mapping or configuration file is wrong; usage-level, exit code 2."""

    exit_code = 2


class StoreBusyError(ScamtraceError):
    """The database cannot be opened: another process holds it (locked=True), or it is missing or damaged."""

    locked = False
