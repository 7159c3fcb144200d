"""camt entries read by their shape: the stylesheet runs once per shape of entry, not once per entry.

A bank writes its entries from a few templates: the same elements in the same order, only the values differ. The
stylesheet's output for an entry depends on its elements alone (camt_rows.xsl makes no test on a value), so for
each shape -- the entry with every text and attribute value taken out -- it is run once, on the shape with a
marker in each value's place, and the markers in its output say which value goes to which field. The values of
every entry of that shape are then put in place on columns, in polars.

Used for the chunks of a large file (xml_chunks.chunks gives their entries' bytes). The chunk is not parsed
whole: each shape is (with the file's prefix and the container's start tag around it), and the values are
checked for what XML forbids in them (a character outside XML's, a bare '&', ']]>'; a '<' stays in the
shape, where the parser sees it). That is well-formedness, as the chunker has already refused comments, CDATA
and processing instructions. A container's shape has an empty entry in each entry's place, so that the
stylesheet says that every entry is a child of a statement of the message's namespace, as the whole parse did.
Whatever this module does not read exactly gives None, and the chunk is parsed and transformed whole, as a
small file is: a declared encoding other than UTF-8, bytes that are not UTF-8, a character reference
(&#...;), a namespace declared below the statement's start tag, a shape the parser refuses, an output that is
not one value per field, too many new shapes in one chunk.
"""

from __future__ import annotations

import re
import threading
from typing import Callable

import polars as pl
from lxml import etree

from transforms.errors import InputError
from transforms.sources.xml_chunks import Chunk

# a value in an entry: an attribute's value (with its '=' and quotes) or a text between two tags (with them; an
# empty text is no value: an element that is empty in one entry and not in another makes two shapes)
VALUE = r"=\s*(?:\"[^\"<]*\"|'[^'<]*')|>[^<]+<"
# the same, values taken out: attributes first (a '>' in an attribute's value is not a tag's end), then texts,
# whose place is kept by a character XML forbids; plain replacements, several times faster than one with groups
_SHAPE = ((r"=\s*(?:\"[^\"<]*\"|'[^'<]*')", '=""'), (r">[^<]+<", ">\x01<"))
_HOLE = re.compile('=""|>\x01<')  # a value's place in a shape
_MARK = 0xF0000  # markers: supplementary private-use characters (plane 15), one per value of a shape
_MAX_VALUES = 0xFFFD
MAX_NEW_SHAPES = 500  # per chunk: more new shapes than this and the chunk goes through the stylesheet whole
_UTF8 = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["'](?!utf-?8["']|us-ascii["'])""", re.I)
_CONTAINER_NAME = re.compile(r"<([^\s/>]+)")
_ENTRY_NAME = re.compile(rb"<([^\s/>]+)")
# what XML forbids in a value: a character outside its range, ']]>' (and '&' that starts no predefined entity)
# and what is not read here: character references, namespace declarations (their values are names, not data)
_NOT_XML = r"\x{FFFE}|\x{FFFF}|\]\]>|&#|xmlns"
_CONTROL = bytes(range(0x20, 0x100)) + b"\t\n\r"  # the bytes that are not control characters XML forbids
_PREDEFINED = r"&(?:lt|gt|amp|quot|apos);"


class Shapes:
    """The templates of one file's shapes, shared by the threads that read its chunks."""

    def __init__(self, columns: tuple[str, ...], multi: tuple[str, ...], attributes: tuple[str, ...],
                 seps: tuple[str, ...], entry: str):
        self.columns, self.multi, self.attributes, self.seps = columns, multi, attributes, seps
        self.placeholder = re.compile(rf"<(?:[^\s/>]+:)?{entry}/>")  # an entry's place in its container's shape
        self.lock = threading.Lock()
        self.ids: dict[str, int | None] = {}  # shape key -> template id (None: the shape is not read this way)
        self.templates: list[dict] = []  # rows of the template table: (sid, r) -> each field's value or literal
        self.table: pl.DataFrame | None = None

    def records(self, chunk: Chunk, transform: Callable[[bytes], bytes]) -> pl.DataFrame | None:
        """The stylesheet's records of a chunk with units (its columns as camt._records reads them before
        tidying), or None when this chunk must be parsed whole. transform(document) is the stylesheet's output."""
        prefix, closers, units = chunk.prefix, chunk.closers, chunk.units
        if units is None or _UTF8.match(prefix) or chunk.doc.translate(None, _CONTROL):
            return None
        texts: list[bytes] = []
        context: list[str] = []
        for pieces, entries in units:
            opening = pieces[0][:pieces[0].index(b">") + 1].decode("utf-8", "replace")
            name = _ENTRY_NAME.match(entries[0]) if entries else None
            texts.append((b"<" + (name.group(1) if name else b"") + b"/>").join(pieces))  # each entry's place
            context.append("")
            texts.extend(entries)
            context.extend([opening] * len(entries))
        try:
            text = pl.Series("text", texts, dtype=pl.Binary).cast(pl.Utf8)
        except pl.exceptions.InvalidOperationError:
            return None  # not UTF-8: the stylesheet's path reads it as the parser does
        f = pl.DataFrame({"text": text, "context": context}).with_row_index("unit")
        f = f.with_columns(amp=pl.col("text").str.contains("&", literal=True),
                           bad=pl.col("text").str.contains(_NOT_XML), cr=pl.col("text").str.contains("\r", literal=True))
        if f.select(pl.col("bad").any()).item() or f.filter("amp").select(
                pl.col("text").str.replace_all(_PREDEFINED, "").str.contains("&", literal=True).any()).item():
            return None  # not well-formed: the parser says what is wrong, and where
        if f.select(pl.col("cr").any()).item():  # XML reads every line end as \n
            f = f.with_columns(pl.col("text").str.replace_all("\r\n", "\n", literal=True).str.replace_all("\r", "\n", literal=True))
        f = f.with_columns(
            key=pl.concat_str(pl.col("context"), _shape(pl.col("text")), separator="\x00"),
            values=pl.col("text").str.extract_all(VALUE),
        ).drop("text", "context", "bad", "cr")
        keys = f.get_column("key").unique().to_list()
        with self.lock:
            new = [k for k in keys if k not in self.ids]
            if len(new) > MAX_NEW_SHAPES:
                return None
            if new:
                self._learn(new, prefix, closers, transform)
            if any(self.ids[k] is None for k in keys):
                return None
            ids = pl.DataFrame({"key": keys, "sid": [self.ids[k] for k in keys]}, schema={"key": pl.Utf8, "sid": pl.Int32})
            table = self.table
        assert table is not None
        rows = (f.join(ids, on="key").drop("key").join(table, on="sid").sort("unit", "r"))
        return self._fields(rows)

    # ------------------------------------------------------------------ the templates
    def _learn(self, keys: list[str], prefix: bytes, closers: bytes, transform: Callable[[bytes], bytes]) -> None:
        """Run the stylesheet once on every new shape, each with markers for its values, and read the fields."""
        docs: list[str] = []
        usable: list[str] = []
        kinds: list[list[bool]] = []  # per usable shape, per value: an attribute's?
        for key in keys:
            opening, shape = key.split("\x00", 1)
            holes = [m.group(0) == '=""' for m in _HOLE.finditer(shape)]
            if len(holes) > _MAX_VALUES:
                self.ids[key] = None
                continue
            kinds.append(holes)
            marked = _mark(shape)
            if opening:  # an entry, in a container of its own
                name = _CONTAINER_NAME.match(opening)
                docs.append(f"{opening}{marked}</{name.group(1) if name else ''}>")
            else:  # a container's head: its own container
                docs.append(marked)
            usable.append(key)
        if not usable:
            return
        doc = prefix + "".join(docs).encode("utf-8") + closers
        try:
            out = transform(doc).decode("utf-8")
        except (etree.Error, InputError):  # e.g. a container tag this module cut wrongly: not read this way
            out = ""
        field, record, values = self.seps
        containers: list[list[list[str]]] = []
        for rec in out.split(record):
            if not rec:
                continue
            fields = rec.split(field)
            if fields[0] == "S":
                containers.append([])
            if containers:
                containers[-1].append(fields)
        if len(containers) != len(usable):
            for key in usable:
                self.ids[key] = None
            return
        for key, recs, attrs in zip(usable, containers, kinds):
            if key.split("\x00", 1)[0]:  # an entry: its own container gives an empty statement record
                recs = recs[1:]
            elif len(recs) == 1 + len(self.placeholder.findall(key)):  # a container: each entry's place gave a row
                recs = recs[:1]
            else:  # an entry out of place (not a child of the statement, another namespace): the parse says so
                recs = []
            rows = [self._template(fields, values, attrs) for fields in recs]
            if not recs or any(r is None for r in rows) or any(len(f) != len(self.columns) for f in recs):
                self.ids[key] = None
                continue
            sid = len(self.ids)
            self.ids[key] = sid
            for r, row in enumerate(rows):
                assert row is not None
                self.templates.append({"sid": sid, "r": r, **row})
        self.table = self._table()

    def _template(self, fields: list[str], values_sep: str, attrs: list[bool]) -> dict | None:
        """One output record of a marked shape -> per column the index of its value (k:), its literal (l:) or,
        for a repeated leaf, the indexes of its values (m:); None when a field is anything else (attrs: which of
        the shape's values are attributes')."""
        if len(fields) != len(self.columns):
            return None
        row: dict = {}
        for name, text in zip(self.columns, fields):
            if name in self.multi:
                parts = [p for p in text.split(values_sep) if p]
                if not all(_is_mark(p) and not attrs[ord(p) - _MARK] for p in parts):
                    return None
                row[f"m:{name}"] = [ord(p) - _MARK for p in parts]
            elif not text:
                continue
            elif _is_mark(text):
                if attrs[ord(text) - _MARK] != (name in self.attributes):
                    return None
                row[f"k:{name}"] = ord(text) - _MARK
            elif any(ord(ch) >= _MARK for ch in text):
                return None  # a value mixed with others or with text: the element is not a leaf
            else:
                row[f"l:{name}"] = text
        return row

    def _table(self) -> pl.DataFrame:
        schema: dict = {"sid": pl.Int32, "r": pl.Int32}
        for name in self.columns:
            if name in self.multi:
                schema[f"m:{name}"] = pl.List(pl.Int32)
            else:
                schema[f"k:{name}"] = pl.Int32
                schema[f"l:{name}"] = pl.Utf8
        rows = [{k: t.get(k, [] if k.startswith("m:") else None) for k in schema} for t in self.templates]
        return pl.DataFrame(rows, schema=schema)

    # ------------------------------------------------------------------ the values put in place
    def _fields(self, rows: pl.DataFrame) -> pl.DataFrame:
        values = pl.col("values")

        def single(name: str) -> pl.Expr:
            token = values.list.get(pl.col(f"k:{name}"), null_on_oob=True)
            value = _attribute(token) if name in self.attributes else token.str.slice(1).str.head(-1)
            return pl.coalesce(value, pl.col(f"l:{name}")).alias(name)

        def repeated(name: str) -> pl.Expr:
            return (values.list.gather(pl.col(f"m:{name}"), null_on_oob=True)
                    .list.eval(pl.element().str.slice(1).str.head(-1)).list.join("\x1d").alias(name))

        out = rows.select(*[single(n) if n not in self.multi else repeated(n) for n in self.columns])
        at = rows.get_column("amp").arg_true()
        if len(at):  # entity references, in a few rows: unescaped there only
            fixed = out[at].select(_unescape(pl.col(n)) for n in self.columns)
            out = out.with_columns(out.get_column(n).scatter(at, fixed.get_column(n)) for n in self.columns)
        return out.with_columns(pl.col(n).replace("", None) for n in self.columns)


def _mark(shape: str) -> str:
    """The shape with a marker in each value's place, in order."""
    counter = iter(range(_MARK, _MARK + _MAX_VALUES))

    def put(m: re.Match) -> str:
        ch = chr(next(counter))
        return f'="{ch}"' if m.group(0) == '=""' else f">{ch}<"

    return _HOLE.sub(put, shape)


def _shape(text: pl.Expr) -> pl.Expr:
    for pattern, hole in _SHAPE:
        text = text.str.replace_all(pattern, hole)
    return text


def _is_mark(text: str) -> bool:
    return len(text) == 1 and ord(text) >= _MARK


def _attribute(token: pl.Expr) -> pl.Expr:
    """An attribute's value as the parser gives it: quotes off, tabs and line ends as spaces."""
    return token.str.replace(r"^=\s*[\"']", "").str.head(-1).str.replace_all(r"[\t\n]", " ")


def _unescape(text: pl.Expr) -> pl.Expr:
    for entity, ch in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")):
        text = text.str.replace_all(entity, ch, literal=True)
    return text
