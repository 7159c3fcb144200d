"""Split a large statement file into small well-formed documents of whole entries, so that each is parsed and
transformed as one tree (fast, in C) while memory stays bounded by a chunk, not by the file.

A camt file is a prefix (XML declaration, Document, the message element, GrpHdr), then containers (Stmt, Rpt,
Ntfctn) each with a head (Id, Acct, balances) and its entries (Ntry). A chunk is either
    prefix + whole containers (as many as fit in the chunk's entries) + the closing tags, or
    prefix + the head of one large container + a run of its entries (+ the container's tail after the last
    run) + the closing tags,
cut at the byte offsets of container and entry tags. The cut is only made when the file's bytes say it is safe: an
ASCII-compatible encoding, no comment, CDATA section or processing instruction after the declaration (where an
entry tag could hide), every entry tag readable (its prefix too) and opened and closed in turn inside a container,
a prefix whose tags this module can read, and nothing but spaces between the containers and after them the
closing tags (no byte of the file is left out of every chunk). Otherwise the whole file is one chunk, as small
files are anyway.
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
_PREFIX = re.compile(rb"[^\s<>/=\"':&;!?]+:")  # a namespace prefix, in any script
_HIDING = re.compile(rb"<!--|<!\[CDATA\[|<\?(?!xml\s)")


@dataclass
class Chunk:
    """One well-formed document of whole entries (doc), and where it came from when the file was cut: the file's
    prefix and closing tags, and per container in the chunk the pieces of its bytes around its entries (from its
    start tag to the first entry, between entries, after the last to its end tag; one more than the entries) and
    its entries' bytes, in order. units is None for a file read whole."""

    doc: bytes
    prefix: bytes = b""
    closers: bytes = b""
    units: list[tuple[list[bytes], list[bytes]]] | None = None


def chunks(path: Path, container: str, entry: str, per_chunk: int) -> Iterator[Chunk]:
    """Documents of at most per_chunk entries each, in file order, with the units each was made of (the whole
    file, without units, when it is small or cannot be cut)."""
    size = path.stat().st_size
    if size <= SPLIT_ABOVE_BYTES:
        yield Chunk(path.read_bytes())
        return
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        plan = _plan(data, container.encode(), entry.encode())
        if plan is None:
            yield Chunk(data[:])
            return
        prefix, closers, e_open, e_close, runs = plan

        def made(parts: list[bytes], units: list) -> Chunk:
            return Chunk(b"".join((prefix, *parts, closers)), prefix, closers, units)

        batch: list[bytes] = []  # whole small statements, gathered up to per_chunk entries
        units: list[tuple[list[bytes], list[bytes]]] = []
        entries = 0
        for start, end, close, lo, hi in runs:
            count = hi - lo
            if count > per_chunk:  # a large statement: cut into runs of its entries
                if batch:
                    yield made(batch, units)
                    batch, units, entries = [], [], 0
                opening = data[start:e_open[lo]]
                for a in range(lo, hi, per_chunk):
                    b = min(hi, a + per_chunk)
                    run = data[e_open[a]:e_close[b - 1]]
                    closing = data[e_close[b - 1]:end] if b == hi else close  # the last run: the statement's tail
                    yield made([opening, run, closing], [_unit(run, e_open[a], e_open[a:b], e_close[a:b], opening, closing)])
                continue
            if batch and entries + count > per_chunk:
                yield made(batch, units)
                batch, units, entries = [], [], 0
            whole = data[start:end]
            batch.append(whole)
            if count == 1:  # the usual small statement: one entry
                a, b = e_open[lo] - start, e_close[lo] - start
                units.append(([whole[:a], whole[b:]], [whole[a:b]]))
            else:
                units.append(_unit(whole, start, e_open[lo:hi], e_close[lo:hi], b"", b""))
            entries += count
        if batch:
            yield made(batch, units)


def _unit(part: bytes, at: int, starts: list[int], ends: list[int], opening: bytes,
          closing: bytes) -> tuple[list[bytes], list[bytes]]:
    """The pieces of a container around its entries, and the entries, from part (the file's bytes from offset at
    on); opening and closing go before the first piece and after the last."""
    cuts = [at, *(x for pair in zip(starts, ends) for x in pair), at + len(part)]
    pieces = [part[cuts[i] - at:cuts[i + 1] - at] for i in range(0, len(cuts), 2)]
    pieces[0], pieces[-1] = opening + pieces[0], pieces[-1] + closing
    return pieces, [part[a - at:b - at] for a, b in zip(starts, ends)]


def _plan(data: mmap.mmap, container: bytes, entry: bytes):
    """(prefix, closing tags, entry start offsets, entry end offsets, runs) where a run is a container with
    entries: (its start, its end, its end tag, its first entry's index, one past its last), in file order; None
    when the file cannot be cut safely."""
    head = data[:65536]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        return None  # UTF-16 / UTF-32: tags are not plain bytes
    if _HIDING.search(data):
        return None
    c_tags, e_found = _tags(data, container), _tags(data, entry)
    if c_tags is None or e_found is None:
        return None
    c_open, c_close, _ = c_tags
    e_tags, e_close, e_empty = e_found
    e_open = [start for start, _ in e_tags]
    if not c_open or not e_open or len(c_open) != len(c_close) or len(e_open) != len(e_close) or e_empty:
        return None
    if any(a >= b for a, b in zip(e_open, e_close)) or any(b > a for b, a in zip(e_close, e_open[1:])):
        return None  # nested or interleaved entries: not a plain list
    starts = [start for start, _ in c_open]
    prefix = data[:starts[0]]
    closers = _closing_tags(prefix)
    if closers is None:
        return None
    # nothing but spaces between the containers and after them the closing tags: what the chunks leave out
    if any(data[c_close[k]:starts[k + 1]].strip() for k in range(len(starts) - 1)) \
            or re.sub(rb">\s+<", b"><", data[c_close[-1]:].strip()) != closers:
        return None
    k_of = [bisect_right(starts, e) - 1 for e in e_open]
    if k_of[0] < 0:
        return None  # an entry before the first container (the entries are in file order)
    firsts = [0, *(i for i in range(1, len(k_of)) if k_of[i] != k_of[i - 1]), len(k_of)]
    runs = []
    for lo, hi in zip(firsts, firsts[1:]):
        k = k_of[lo]
        start, prefix_name = c_open[k]
        if c_close[k] < start or e_close[hi - 1] > c_close[k] or (k + 1 < len(starts) and c_close[k] > starts[k + 1]):
            return None
        runs.append((start, c_close[k], b"</" + prefix_name + container + b">", lo, hi))
    return prefix, closers, e_open, e_close, runs


def _tags(data: mmap.mmap, name: bytes) -> tuple[list, list[int], int] | None:
    """Start tags ((offset, 'prefix:'), ...), the end offsets of the end tags, and the number of empty-element
    tags of one element name; None when a prefixed tag cannot be read (the file is then not cut: an entry the cut
    does not see would vanish). The name is found by a literal search (fast) and the tag read backwards from it."""
    opens: list[tuple[int, bytes]] = []
    closes: list[int] = []
    empty = 0
    if data.find(b":" + name) < 0:  # no prefixed tag of this name: only '<' or '</' can stand before it
        find = data.find
        for m in re.finditer(re.escape(name) + rb"(?=[\s/>])", data):
            at, after = m.start(), m.end()
            if at > 0 and data[at - 1] == 0x3C:  # '<'
                gt = after if data[after] == 0x3E else find(b">", at)  # '>' right after the name, mostly
                if gt > 0 and data[gt - 1] == 0x2F:  # '/>'
                    empty += 1
                else:
                    opens.append((at - 1, b""))
            elif data[at - 2:at] == b"</":
                closes.append(after + 1 if data[after] == 0x3E else find(b">", at) + 1)
        return opens, closes, empty
    for m in re.finditer(re.escape(name) + rb"(?=[\s/>])", data):
        at = m.start()
        before = data[at - 1] if at else 0
        if before == 0x3C:  # '<'
            lt, closing, pfx = at - 1, False, b""
        elif data[at - 2:at] == b"</":
            lt, closing, pfx = at - 2, True, b""
        elif before == 0x3A:  # ':' a prefix, or a colon in a text or an attribute's value
            lt = data.rfind(b"<", max(0, at - 256), at)
            between = data[lt + 1:at] if lt >= 0 else b""
            closing = between.startswith(b"/")
            pfx = between[1:] if closing else between
            if not _PREFIX.fullmatch(pfx):
                if lt >= 0 and re.search(rb"[\s>\"']", between):
                    continue  # in a text or an attribute's value: no tag
                return None
        else:
            continue  # the name inside another name or a text
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
