"""Split a large statement file into small well-formed documents of whole entries, so that each is parsed and
transformed as one tree (fast, in C) while memory stays bounded by a chunk, not by the file.

A camt file is a prefix (XML declaration, Document, the message element, GrpHdr), then containers (Stmt, Rpt,
Ntfctn) each with a head (Id, Acct, balances) and its entries (Ntry). A chunk is either
    prefix + whole containers (as many as fit in the chunk's entries) + the closing tags, or
    prefix + the head of one large container + a run of its entries + the closing tags,
cut at the byte offsets of container and entry tags. The cut is only made when the file's bytes say it is safe: an
ASCII-compatible encoding, no comment, CDATA section or processing instruction after the declaration (where an
entry tag could hide), every entry opened and closed in turn inside a container, and a prefix whose tags this
module can read. Otherwise the whole file is one chunk, as small files are anyway.
"""

from __future__ import annotations

import mmap
import re
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

SPLIT_ABOVE_BYTES = 16 * 1024 * 1024  # smaller files are parsed whole
_NAME = rb"[A-Za-z_][\w.\-]*"
_TAG = re.compile(rb"<(/?)(" + _NAME + rb"(?::" + _NAME + rb")?)((?:\s+[^\s=<>/]+\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*)\s*(/?)>")
_PREFIX = re.compile(_NAME + rb":")
_HIDING = re.compile(rb"<!--|<!\[CDATA\[|<\?(?!xml\s)")


@dataclass
class Chunk:
    """One well-formed document of whole entries (doc), and where it came from when the file was cut: the file's
    prefix and closing tags, and per container in the chunk its bytes without its entries (the head: container
    tags, Id, account, balances, ...) and its entries' bytes, in order. units is None for a file read whole."""

    doc: bytes
    prefix: bytes = b""
    closers: bytes = b""
    units: list[tuple[bytes, list[bytes]]] | None = None


def documents(path: Path, container: str, entry: str, per_chunk: int) -> Iterator[bytes]:
    """Documents of at most per_chunk entries each, in file order (the whole file when it is small or cannot be
    cut)."""
    return (chunk.doc for chunk in chunks(path, container, entry, per_chunk))


def chunks(path: Path, container: str, entry: str, per_chunk: int) -> Iterator[Chunk]:
    """documents(), each with the units it was made of."""
    size = path.stat().st_size
    if size <= SPLIT_ABOVE_BYTES:
        yield Chunk(path.read_bytes())
        return
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        plan = _plan(data, container.encode(), entry.encode())
        if plan is None:
            yield Chunk(data[:])
            return
        prefix, closers, runs = plan

        def made(parts: list[bytes], units: list) -> Chunk:
            return Chunk(b"".join((prefix, *parts, closers)), prefix, closers, units)

        batch: list[bytes] = []  # whole small statements, gathered up to per_chunk entries
        units: list[tuple[bytes, list[bytes]]] = []
        entries = 0
        for head, close, start, end, count, whole in runs:
            if count > per_chunk:  # a large statement: cut into runs of its entries
                if batch:
                    yield made(batch, units)
                    batch, units, entries = [], [], 0
                for lo in range(0, count, per_chunk):
                    hi = min(count, lo + per_chunk)
                    opening = data[head[0]:head[1]]
                    run = data[start[lo]:end[hi - 1]]
                    unit = _unit(data, opening, start[lo:hi], end[lo:hi], close)
                    yield made([opening, run, close], [unit])
                continue
            if batch and entries + count > per_chunk:
                yield made(batch, units)
                batch, units, entries = [], [], 0
            batch.append(data[whole[0]:whole[1]])
            units.append(_unit(data, data[whole[0]:start[0]], start, end, data[end[-1]:whole[1]]))
            entries += count
        if batch:
            yield made(batch, units)


def _unit(data: mmap.mmap, opening: bytes, starts: list[int], ends: list[int], closing: bytes) -> tuple[bytes, list[bytes]]:
    """A container's bytes without its entries (what lies between them kept), and the entries."""
    between = [data[ends[i]:starts[i + 1]] for i in range(len(starts) - 1)]
    return b"".join((opening, *between, closing)), [data[a:b] for a, b in zip(starts, ends)]


def _plan(data: mmap.mmap, container: bytes, entry: bytes):
    head = data[:65536]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        return None  # UTF-16 / UTF-32: tags are not plain bytes
    if _HIDING.search(data):
        return None
    c_open, c_close, _ = _tags(data, container)
    e_tags, e_close, e_empty = _tags(data, entry)
    e_open = [start for start, _ in e_tags]
    if not c_open or not e_open or len(c_open) != len(c_close) or len(e_open) != len(e_close) or e_empty:
        return None
    if any(e_open[i] >= e_close[i] or (i + 1 < len(e_open) and e_close[i] > e_open[i + 1]) for i in range(len(e_open))):
        return None  # nested or interleaved entries: not a plain list
    starts = [start for start, _ in c_open]
    prefix = data[:starts[0]]
    closers = _closing_tags(prefix)
    if closers is None:
        return None
    runs = []
    k_of = [bisect_right(starts, e) - 1 for e in e_open]
    if any(k < 0 for k in k_of):
        return None  # an entry before the first container
    groups: dict[int, list[int]] = {}
    for i, k in enumerate(k_of):
        groups.setdefault(k, []).append(i)
    for k, idx in sorted(groups.items()):
        start, prefix_name = c_open[k]
        if c_close[k] < start or e_close[idx[-1]] > c_close[k] or (k + 1 < len(starts) and c_close[k] > starts[k + 1]):
            return None
        close = b"</" + prefix_name + container + b">"
        runs.append(((start, e_open[idx[0]]), close, [e_open[i] for i in idx], [e_close[i] for i in idx], len(idx),
                     (start, c_close[k])))
    return prefix, closers, runs


def _tags(data: mmap.mmap, name: bytes) -> tuple[list, list[int], int]:
    """Start tags ((offset, 'prefix:'), ...), the end offsets of the end tags, and the number of empty-element
    tags of one element name. The name is found by a literal search (fast) and the tag read backwards from it."""
    opens: list[tuple[int, bytes]] = []
    closes: list[int] = []
    empty = 0
    if data.find(b":" + name) < 0:  # no prefixed tag of this name: only '<' or '</' can stand before it
        find = data.find
        for m in re.finditer(re.escape(name) + rb"(?=[\s/>])", data):
            at = m.start()
            if at > 0 and data[at - 1] == 0x3C:  # '<'
                gt = find(b">", at)
                if gt > 0 and data[gt - 1] == 0x2F:  # '/>'
                    empty += 1
                else:
                    opens.append((at - 1, b""))
            elif data[at - 2:at] == b"</":
                closes.append(find(b">", at) + 1)
        return opens, closes, empty
    for m in re.finditer(re.escape(name) + rb"(?=[\s/>])", data):
        at = m.start()
        lt = data.rfind(b"<", max(0, at - 80), at)
        if lt < 0:
            continue
        between = data[lt + 1:at]
        closing = between.startswith(b"/")
        pfx = between[1:] if closing else between
        if pfx and not _PREFIX.fullmatch(pfx):
            continue  # the name inside another tag's name or text (e.g. <NtryDtls>, <NtryRef>)
        gt = data.find(b">", m.end())
        if closing:
            closes.append(gt + 1)
        else:
            if gt > 0 and data[gt - 1:gt] == b"/":
                empty += 1
            else:
                opens.append((lt, pfx))
    return opens, closes, empty


def _closing_tags(prefix: bytes) -> bytes | None:
    """Closing tags for the elements the prefix leaves open; None when the prefix has markup this cannot read."""
    body = prefix
    if body.startswith(b"<?xml"):
        end = body.find(b"?>")
        if end < 0:
            return None
        body = body[end + 2:]
    stack: list[bytes] = []
    n_tags = 0
    for m in _TAG.finditer(body):
        n_tags += 1
        closing, name, _attrs, empty = m.groups()
        if closing:
            if not stack or stack.pop() != name:
                return None
        elif not empty:
            stack.append(name)
    if n_tags != body.count(b"<") or not stack:
        return None
    return b"".join(b"</" + name + b">" for name in reversed(stack))
