"""Reader registry: every module in transforms/sources that defines READERS is picked up, so adding a format
means adding one module. Detection asks each reader in turn, most specific first."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from pathlib import Path

from transforms import sources
from transforms.sources.base import ReadContext, Reader, read_head


@lru_cache(maxsize=1)
def all_readers() -> tuple[Reader, ...]:
    found: list[Reader] = []
    for mod in pkgutil.iter_modules(sources.__path__):
        module = importlib.import_module(f"transforms.sources.{mod.name}")
        found.extend(getattr(module, "READERS", ()))
    names = [r.name for r in found]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise RuntimeError(f"two readers share the name(s) {sorted(dupes)}")
    return tuple(found)


def by_name(name: str) -> Reader:
    for r in all_readers():
        if r.name == name:
            return r
    raise KeyError(name)


def detect(path: Path, ctx: ReadContext) -> Reader | None:
    """The reader for a file: an explicit claim (a mapping's file pattern) wins, then content detection."""
    head = read_head(path)
    for reader in all_readers():
        claims = getattr(reader, "claims", None)
        if claims is not None and claims(path, ctx):
            return reader
    for reader in sorted(all_readers(), key=lambda r: getattr(r, "detect_order", 50)):
        try:
            if reader.detect(path, head, ctx):
                return reader
        except Exception:  # a detector must never break detection of other formats
            continue
    return None
