"""Safety helpers shared by every exporter: atomic owner-only writes, safe file names, spreadsheet neutralising.

Everything written under an export folder goes through `atomic_write` (or `atomic_path` for libraries that
want a path): the bytes land in a temp file beside the target, are fsync'ed, chmod'ed 0o600 and moved into
place with os.replace, so a reader never sees half a file and other users never see the data. Writers of many
small files (goAML reports) pass sync=False and call `sync_files` on the batch before the manifest is written:
one fsync after the batch's writes costs a third of one fsync per write, and the files are still durable before
the manifest names them.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

FILE_MODE = 0o600
DIR_MODE = 0o700

# A spreadsheet runs a cell as a formula (or DDE command) when it starts with one of these.
_FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def neutralise(value: Any) -> Any:
    """Prefix a single quote to text that a spreadsheet would treat as a formula; other values pass."""
    if isinstance(value, str) and value.startswith(_FORMULA_LEAD):
        return "'" + value
    return value


def safe_name(raw: Any, *, max_len: int = 80) -> str:
    """A file-name-safe form of an id from the data: no separators, no leading dots, bounded length.

    When the id had to be changed, a short hash of the original is appended so two different ids never
    map to the same file name (e.g. 'a/b' and 'a_b').
    """
    text = "" if raw is None else str(raw)
    cleaned = re.sub(r"[._]{2,}", "_", _SAFE_NAME.sub("_", text)).strip("._-")[:max_len]
    if cleaned != text or not cleaned:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        cleaned = f"{cleaned or 'id'}_{digest}"
    return cleaned


def safe_country(raw: Any) -> str | None:
    """ISO 3166 alpha-2 code usable as a folder name, or None."""
    if raw is None:
        return None
    code = str(raw).strip().upper()
    return code if _COUNTRY.match(code) else None


def ensure_dir(path: Path) -> Path:
    """Create a folder (and parents inside it) owner-only; tighten an existing one."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):  # mkdir's mode applies to the leaf only (and umask): set each level
        d.mkdir(exist_ok=True)
        os.chmod(d, DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def inside(base: Path, target: Path) -> Path:
    """Refuse any target that would resolve outside base (defence in depth after safe_name)."""
    base_r = base.resolve()
    target_r = target.resolve()
    if target_r != base_r and base_r not in target_r.parents:
        raise ValueError(f"refusing to write outside the export folder: {target}")
    return target


@contextmanager
def atomic_path(target: Path, *, sync: bool = True) -> Iterator[Path]:
    """Yield a temp path beside target; on success it is chmod'ed 0o600 and moved onto target (fsync'ed first
    unless sync=False: the caller then owes a `sync_files` before the manifest)."""
    ensure_dir(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, FILE_MODE)
        if sync:
            _fsync(tmp_path)
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_write(target: Path, data: bytes | str, *, sync: bool = True) -> Path:
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(target, sync=sync) as tmp:
        tmp.write_bytes(payload)
    return target


def sync_files(paths: list[Path]) -> None:
    """fsync files written with sync=False, then their folders (the renames)."""
    for path in [*paths, *dict.fromkeys(p.parent for p in paths)]:
        _fsync(path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
