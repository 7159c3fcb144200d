"""camt entries read by their shape: the stylesheet runs once per shape of entry, not once per entry.

A bank writes its entries from a few templates: the same elements in the same order, only the values differ. The
stylesheet's output for an entry depends on its elements alone (camt_rows.xsl makes no test on a value), so for
each shape -- the entry with every text and attribute value taken out -- it is run once, on the shape with a
marker in each value's place, and the markers in its output say which value goes to which field. The values of
every entry of that shape are then put in place on columns, in polars.

Used for the chunks of a large file (xml_chunks.chunks gives their entries' bytes). The chunk is not parsed
whole. What the whole parse checked of it is checked in parts: each shape is parsed, with the file's prefix and
the statement's start tag around it (the tags, their names and attributes); the values are checked for what XML
forbids in them (a character outside its range, a bare '&', ']]>'; a '<' in a value stays in the shape, where
the parser sees it); the chunker has refused files with comments, CDATA or processing instructions, or with
anything but spaces between and after the statements. A statement's own shape has an empty entry in each
entry's place, so that the stylesheet says that every entry is a child of a statement of the message's
namespace. Whatever this module does not read exactly gives None, and the chunk is parsed and transformed whole,
as a small file is: a declared encoding other than UTF-8, bytes that are not UTF-8, a character reference
(&#...;), a namespace declared inside a statement (its value is a name, not data), a value longer than the
parser's limit, a shape the parser refuses, an output that is not one value per field, too many new shapes.
"""

from __future__ import annotations

import re
import threading
from typing import Callable

import polars as pl
from lxml import etree

from transforms.errors import InputError
from transforms.sources.xml_chunks import Chunk

# XML's white space between '=' and an attribute's quote (not Unicode's, which the parser refuses there)
_ATTRIBUTE = r"=[ \t\r\n]*(?:\"[^\"<]*\"|'[^'<]*')"
_TEXT = r">[^<]+<"  # an empty text is no value: an element empty in one entry and not in another makes two shapes
VALUE = f"{_ATTRIBUTE}|{_TEXT}"  # a value in an entry, with its delimiters: an attribute's or a text between tags
# the values taken out: attributes first (a '>' in an attribute's value is not a tag's end), then texts, whose
# place is kept by a character XML forbids; plain replacements, about twice as fast as one with groups
_SHAPE = ((_ATTRIBUTE, '=""'), (_TEXT, ">\x01<"))
_HOLE = re.compile('=""|>\x01<')  # a value's place in a shape
_MARK = 0xF0000  # markers: supplementary private-use characters (plane 15), one per value of a shape
_MAX_VALUES = 0xFFFD
MAX_NEW_SHAPES = 500  # in one chunk: beyond, the file is not read by shape (too many templates to be worth it)
_MAX_UNIT_BYTES = 9_000_000  # under the parser's limit on one text node (10,000,000), which the shape would hide
_NOT_UTF8 = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["'](?!utf-?8["'])""", re.I)
_TAG_NAME = re.compile(rb"<([^\s/>]+)")  # an element's name (with its prefix), from its start tag
_ALLOWED_BYTES = bytes(range(0x20, 0x100)) + b"\t\n\r"  # what is left after deleting these is a control character
# in a value, what XML forbids (U+FFFE, U+FFFF, ']]>') and what is not read here (character references,
# namespace declarations); a bare '&' is found apart (_PREDEFINED)
_NOT_HERE = r"\x{FFFE}|\x{FFFF}|\]\]>|&#|xmlns"
_PREDEFINED = r"&(?:lt|gt|amp|quot|apos);"


class Shapes:
    """The templates of one file's shapes, shared by the threads that read its chunks."""

    def __init__(self, columns: tuple[str, ...], multi: tuple[str, ...], attributes: tuple[str, ...],
                 seps: tuple[str, ...], entry: str):
        """columns: the stylesheet's fields; multi: those written as repeated values; attributes: those read from
        an attribute; seps: the stylesheet's separators (field, record, value); entry: the entry's element name."""
        self.columns, self.multi, self.attributes, self.seps = columns, multi, attributes, seps
        self.placeholder = re.compile(rf"<(?:[^\s/>]+:)?{entry}/>")  # an entry's place in its statement's shape
        self.lock = threading.Lock()
        self.ids: dict[str, int | None] = {}  # shape key -> template id (None: the shape is not read this way)
        self.templates: list[dict] = []  # rows of the template table: (sid, r) -> each field's value or literal
        self.table: pl.DataFrame | None = None
        self.given_up = False

    def records(self, chunk: Chunk, transform: Callable[[bytes], bytes]) -> pl.DataFrame | None:
        """The stylesheet's records of a chunk with units (its columns as camt._records reads them before
        tidying), or None when this chunk must be parsed whole. transform(document) is the stylesheet's output."""
        prefix, closers, units = chunk.prefix, chunk.closers, chunk.units
        if self.given_up or units is None or _NOT_UTF8.match(prefix) or chunk.doc.translate(None, _ALLOWED_BYTES):
            return None
        texts: list[bytes] = []
        context: list[str] = []
        for pieces, entries in units:
            opening = pieces[0][:pieces[0].index(b">") + 1].decode("utf-8", "replace")
            tag = _TAG_NAME.match(entries[0]) if entries else None
            texts.append((b"<" + (tag.group(1) if tag else b"") + b"/>").join(pieces))  # each entry's place
            context.append("")
            texts.extend(entries)
            context.extend([opening] * len(entries))
        if max(map(len, texts)) > _MAX_UNIT_BYTES:
            return None
        try:
            text = pl.Series("text", texts, dtype=pl.Binary).cast(pl.Utf8)
        except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError):
            return None  # not UTF-8: the parser says where
        f = pl.DataFrame({"text": text, "context": context}).with_row_index("unit")
        f = f.with_columns(amp=pl.col("text").str.contains("&", literal=True),
                           odd=pl.col("text").str.contains(_NOT_HERE), cr=pl.col("text").str.contains("\r", literal=True))
        if f.select(pl.col("odd").any()).item() or f.filter("amp").select(
                pl.col("text").str.replace_all(_PREDEFINED, "").str.contains("&", literal=True).any()).item():
            return None
        if f.select(pl.col("cr").any()).item():  # XML reads every line end as \n
            f = f.with_columns(pl.col("text").str.replace_all("\r\n", "\n", literal=True).str.replace_all("\r", "\n", literal=True))
        f = f.with_columns(
            key=pl.concat_str(pl.col("context"), _shape(pl.col("text")), separator="\x00"),
            values=pl.col("text").str.extract_all(VALUE),
        ).drop("text", "context", "odd", "cr")
        keys = f.get_column("key").unique().to_list()
        with self.lock:
            new = [k for k in keys if k not in self.ids]
            if len(new) > MAX_NEW_SHAPES:
                self.given_up = True
                return None
            if new:
                self._learn(new, prefix, closers, transform)
            if any(self.ids[k] is None for k in keys) or self.table is None:
                return None
            ids = pl.DataFrame({"key": keys, "sid": [self.ids[k] for k in keys]}, schema={"key": pl.Utf8, "sid": pl.Int32})
            table = self.table
        rows = f.join(ids, on="key").drop("key").join(table, on="sid").sort("unit", "r")
        return self._put_values(rows)

    # ------------------------------------------------------------------ the templates
    def _learn(self, keys: list[str], prefix: bytes, closers: bytes, transform: Callable[[bytes], bytes]) -> None:
        """Run the stylesheet once on the new shapes, each with markers for its values, and read the fields; when
        the shapes together fail, each alone (one odd shape must not keep the others from being read)."""
        if not self._learn_together(keys, prefix, closers, transform) and len(keys) > 1:
            for key in keys:
                self._learn_together([key], prefix, closers, transform)
        for key in keys:
            self.ids.setdefault(key, None)
        self.table = self._table()

    def _learn_together(self, keys: list[str], prefix: bytes, closers: bytes, transform: Callable[[bytes], bytes]) -> bool:
        docs: list[str] = []
        usable: list[str] = []
        is_attribute: list[list[bool]] = []  # per usable shape, per value: an attribute's (else a text's)
        for key in keys:
            opening, shape = key.split("\x00", 1)
            kinds = [m.group(0) == '=""' for m in _HOLE.finditer(shape)]
            if len(kinds) > _MAX_VALUES:
                self.ids[key] = None
                continue
            marked = _mark(shape)
            if opening:  # an entry, in a statement of its own
                name = _TAG_NAME.match(opening.encode())
                docs.append(f"{opening}{marked}</{name.group(1).decode() if name else ''}>")
            else:  # a statement's own shape
                docs.append(marked)
            usable.append(key)
            is_attribute.append(kinds)
        if not usable:
            return True
        try:
            out = transform(prefix + "".join(docs).encode("utf-8") + closers).decode("utf-8")
        except (etree.Error, InputError):  # a shape the parser refuses (or a statement tag cut wrongly)
            return False
        field, record, values = self.seps
        statements: list[list[list[str]]] = []
        for rec in out.split(record):
            if not rec:
                continue
            fields = rec.split(field)
            if fields[0] == "S":
                statements.append([])
            if statements:
                statements[-1].append(fields)
        if len(statements) != len(usable):
            return False
        for key, recs, kinds in zip(usable, statements, is_attribute):
            if key.split("\x00", 1)[0]:  # an entry: its own statement gives an empty statement record
                recs = recs[1:]
            elif len(recs) == 1 + len(self.placeholder.findall(key)):  # a statement: each entry's place gave a row
                recs = recs[:1]
            else:  # an entry out of place (not a child of the statement, another namespace): the parse says so
                recs = []
            rows = [self._template(fields, values, kinds) for fields in recs]
            if not rows or any(r is None for r in rows):
                self.ids[key] = None
                continue
            sid = len(self.ids)
            self.ids[key] = sid
            self.templates += [{"sid": sid, "r": r, **row} for r, row in enumerate(rows) if row is not None]
        return True

    def _template(self, fields: list[str], values_sep: str, is_attribute: list[bool]) -> dict | None:
        """One output record of a marked shape -> per column the index of its value (k:), its literal (l:) or,
        for a repeated leaf, the indexes of its values (m:; k: when there is one); None when a field is anything
        else."""
        if len(fields) != len(self.columns):
            return None
        row: dict = {}
        for name, text in zip(self.columns, fields):
            if name in self.multi:
                parts = [p for p in text.split(values_sep) if p]
                if not all(_is_mark(p) and not is_attribute[ord(p) - _MARK] for p in parts):
                    return None
                if len(parts) == 1:  # the usual case, put in place as a single value
                    row[f"k:{name}"] = ord(parts[0]) - _MARK
                elif parts:
                    row[f"m:{name}"] = [ord(p) - _MARK for p in parts]
            elif not text:
                continue
            elif _is_mark(text):
                if is_attribute[ord(text) - _MARK] != (name in self.attributes):
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
            schema[f"k:{name}"] = pl.Int32
            if name in self.multi:
                schema[f"m:{name}"] = pl.List(pl.Int32)
            else:
                schema[f"l:{name}"] = pl.Utf8
        rows = [{k: t.get(k, [] if k.startswith("m:") else None) for k in schema} for t in self.templates]
        return pl.DataFrame(rows, schema=schema)

    # ------------------------------------------------------------------ the values put in place
    def _put_values(self, rows: pl.DataFrame) -> pl.DataFrame:
        values = pl.col("values")

        def single(name: str) -> pl.Expr:
            token = values.list.get(pl.col(f"k:{name}"), null_on_oob=True)
            value = _attribute(token) if name in self.attributes else token.str.slice(1).str.head(-1)
            return pl.coalesce(value, pl.col(f"l:{name}")).alias(name)

        def repeated(name: str) -> pl.Expr:
            one = values.list.get(pl.col(f"k:{name}"), null_on_oob=True).str.slice(1).str.head(-1)
            if name not in several:  # one value at most in every row of this chunk
                return one.alias(name)
            return pl.coalesce(one, values.list.gather(pl.col(f"m:{name}"), null_on_oob=True)
                               .list.eval(pl.element().str.slice(1).str.head(-1)).list.join("\x1d")).alias(name)

        counts = rows.select(pl.col(f"m:{n}").list.len().max() for n in self.multi).row(0)
        several = {n for n, most in zip(self.multi, counts) if most}
        out = rows.select(*[single(n) if n not in self.multi else repeated(n) for n in self.columns])
        at = rows.get_column("amp").arg_true()
        if len(at):  # entity references, in a few rows: unescaped there only
            fixed = out[at].select(_unescape(pl.col(n)) for n in self.columns)
            out = out.with_columns(out.get_column(n).scatter(at, fixed.get_column(n)) for n in self.columns)
        return out.with_columns(pl.col(n).replace("", None) for n in self.columns)


def _shape(text: pl.Expr) -> pl.Expr:
    for pattern, hole in _SHAPE:
        text = text.str.replace_all(pattern, hole)
    return text


def _mark(shape: str) -> str:
    """The shape with a marker in each value's place, in order."""
    counter = iter(range(_MARK, _MARK + _MAX_VALUES))

    def put(m: re.Match) -> str:
        ch = chr(next(counter))
        return f'="{ch}"' if m.group(0) == '=""' else f">{ch}<"

    return _HOLE.sub(put, shape)


def _is_mark(text: str) -> bool:
    return len(text) == 1 and ord(text) >= _MARK


def _attribute(token: pl.Expr) -> pl.Expr:
    """An attribute's value as the parser gives it: quotes off, tabs and line ends as spaces."""
    return token.str.replace(r"^=[ \t\r\n]*[\"']", "").str.head(-1).str.replace_all(r"[\t\n]", " ")


def _unescape(text: pl.Expr) -> pl.Expr:
    for entity, ch in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")):
        text = text.str.replace_all(entity, ch, literal=True)
    return text
