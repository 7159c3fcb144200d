"""Safe XML parsing for untrusted extracts (bank statements arrive from outside).

Rules, each refusing the whole file with a one-line InputError that names it:
  - no DOCTYPE at all: no DTD, so no entity declarations (billion laughs) and no external entities (XXE);
  - no network access and no entity resolution in the parser even if a DOCTYPE slipped through;
  - bounded size: the file size is capped (MAX_XML_BYTES) and lxml's huge_tree stays off (text nodes
    under 10 MB, depth under 256);
  - memory stays bounded: the document is streamed (iterparse), or parsed in chunks of whole entries
    (parse_bytes on the documents of xml_chunks), never whole when it is large.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

from lxml import etree

from transforms.errors import InputError

MAX_XML_BYTES = 2 * 1024**3  # 2 GiB: a year of a busy account's camt.053 is far below this
_PROLOG_BYTES = 64 * 1024
# no DTD, no entities, nothing fetched, no huge trees; comments and processing instructions dropped
PARSER_SETTINGS = dict(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False,
                       remove_comments=True, remove_pis=True)
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _prolog_has_doctype(path: Path) -> bool:
    """Cheap pre-check on the bytes before the root element (UTF-8/ASCII and UTF-16 spellings)."""
    with open(path, "rb") as fh:
        head = fh.read(_PROLOG_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            head = head.decode("utf-16", errors="ignore").encode("utf-8")
        except Exception:  # pragma: no cover - decode with errors=ignore does not raise
            pass
    return bool(_DOCTYPE.search(head))


def check_file(path: Path, max_bytes: int = MAX_XML_BYTES) -> None:
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(f"XML file of {size} bytes exceeds the {max_bytes}-byte limit; split the statement file", path=path)
    if _prolog_has_doctype(path):
        raise InputError("XML with a DOCTYPE/ENTITY declaration refused (entity expansion and external entities "
                         "are not allowed in statements); ask the bank for a plain ISO 20022 file", path=path)


def iterparse(path: Path, tags: tuple[str, ...], events: tuple[str, ...] = ("end",)) -> Iterator[tuple[str, etree._Element]]:
    """Stream (event, element) for the given tags ('{*}Ntry' style) with a hardened parser.

    The DOCTYPE check runs before parsing (prolog scan) and again on the parsed document info, so a DTD
    hidden past the first 64 KiB is refused too; entities are never resolved and nothing is fetched.
    """
    check_file(path)
    ctx = etree.iterparse(str(path), events=events, tag=tags, **PARSER_SETTINGS)
    checked = False
    try:
        for event, elem in ctx:
            if not checked:
                _refuse_doctype(path, elem.getroottree())
                checked = True
            yield event, elem
        root = getattr(ctx, "root", None)
        if root is not None and not checked:
            _refuse_doctype(path, root.getroottree())
    except etree.XMLSyntaxError as exc:
        raise _malformed(path, exc) from None


def parse_bytes(data: bytes, path: Path) -> etree._ElementTree:
    """Parse one document (a whole small file, or a chunk of a large one) with the same hardened settings."""
    try:
        tree = etree.ElementTree(etree.fromstring(data, etree.XMLParser(**PARSER_SETTINGS), base_url=path.name))
    except etree.XMLSyntaxError as exc:
        raise _malformed(path, exc) from None
    _refuse_doctype(path, tree)
    return tree


def _malformed(path: Path, exc: etree.XMLSyntaxError) -> InputError:
    msg = str(exc).splitlines()[0] if str(exc) else "malformed XML"
    return InputError(f"not well-formed XML ({msg}); the file is truncated or not XML", path=path)


def _refuse_doctype(path: Path, tree: etree._ElementTree) -> None:
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise InputError("XML with a DOCTYPE declaration refused (no DTDs or entities in statements)", path=path)


def local(tag: object) -> str:
    """'{ns}Name' -> 'Name'."""
    t = str(tag)
    return t.rsplit("}", 1)[-1]


def child_text(el: etree._Element, name: str) -> str | None:
    """Text of the first direct child with this local name, spaces collapsed; None when absent or blank."""
    for c in el:
        if local(c.tag) == name:
            text = " ".join((c.text or "").split())
            return text or None
    return None
