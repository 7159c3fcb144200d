"""camt files read by the shape of their entries (transforms/sources/camt_shapes.py): the same rows, notes and
errors as a whole parse, on files cut into chunks. Each test reads the same file twice: whole (as a small file
is read: one parse, the stylesheet over the tree) and cut into chunks of a few entries."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from transforms.errors import InputError
from transforms.sources import camt, camt_shapes, xml_chunks
from transforms.sources.base import ReadContext
from transforms.sources.camt import Camt053Reader

FIX = Path(__file__).parent / "fixtures" / "statements"


def _statements(n: int) -> str:
    """The bank A fixture (7 entries: a batch, a pending entry, cash, ...) without its comments, its statement
    repeated n times, each a little different so that the entries take several shapes."""
    src = re.sub(r"<!--.*?-->", "", (FIX / "camt053_v08_bank_a.xml").read_text(), flags=re.S)
    i, j = src.index("<Stmt>"), src.rindex("</Stmt>") + len("</Stmt>")
    stmts = []
    for k in range(n):
        s = src[i:j].replace("<Id>", f"<Id>S{k}-", 1)
        if k % 3 == 1:  # names that need escaping, an attribute in single quotes with spaces around '='
            s = s.replace("<Nm>Mule One</Nm>", "<Nm>Mule &amp; Sons &lt;One&gt; &quot;Ltd&quot;</Nm>")
            s = s.replace('Ccy="EUR"', "Ccy = 'EUR'", 1)
        if k % 4 == 2:  # an empty element in one entry: another shape; a padded, blank IBAN before the other id
            s = s.replace("<Ustrd>order 77</Ustrd>", "<Ustrd></Ustrd><Ustrd> order 77 </Ustrd>")
            s = s.replace("<IBAN>NL91ABNA0417164300</IBAN>", "<IBAN>\u00a0 </IBAN><Othr><Id>NL-OTHER-9</Id></Othr>")
        if k % 5 == 3:  # pretty-printed
            s = s.replace("><", ">\n    <")
        stmts.append(s)
    return src[:i] + "\n".join(stmts) + src[j:]


def _read_both(path: Path, monkeypatch, per_chunk: int = 5):
    """(whole rows, whole notes), (chunked rows, chunked notes, what Shapes.records returned per chunk)."""
    whole_ctx, chunked_ctx = ReadContext(), ReadContext()
    whole = pl.concat(list(Camt053Reader().read(path, whole_ctx)))
    returned: list[bool] = []
    original = camt_shapes.Shapes.records

    def spy(self, chunk, transform):
        out = original(self, chunk, transform)
        returned.append(out is not None)
        return out

    monkeypatch.setattr(camt_shapes.Shapes, "records", spy)
    monkeypatch.setattr(xml_chunks, "SPLIT_ABOVE_BYTES", 0)
    monkeypatch.setattr(camt, "CHUNK_ENTRIES", per_chunk)
    chunked = pl.concat(list(Camt053Reader().read(path, chunked_ctx)))
    return (whole, whole_ctx.notes), (chunked, chunked_ctx.notes, returned)


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_entries_read_by_shape_give_the_rows_of_a_whole_parse(tmp_path, monkeypatch, line_end):
    path = tmp_path / "shapes.xml"
    path.write_bytes(_statements(24).replace("\n", line_end).encode("utf-8"))
    (whole, whole_notes), (chunked, notes, returned) = _read_both(path, monkeypatch)
    assert returned and all(returned)  # every chunk read by shape, none parsed whole
    assert whole.height == 24 * 8 and chunked.equals(whole)
    assert notes == whole_notes
    names = set(whole["from_name"].to_list()) | set(whole["to_name"].to_list())
    assert 'Mule & Sons <One> "Ltd"' in names
    assert "NLOTHER9" in whole["to_account_id"].to_list()  # the first id that is not blank


def test_a_statement_larger_than_a_chunk_is_read_by_shape_in_runs(tmp_path, monkeypatch):
    path = tmp_path / "runs.xml"
    path.write_text(_statements(6))
    (whole, _), (chunked, _, returned) = _read_both(path, monkeypatch, per_chunk=3)  # 7 entries: 3 + 3 + 1
    assert len(returned) == 18 and all(returned)
    assert chunked.equals(whole)


@pytest.mark.parametrize("change", [
    ("<Nm>Mule Two</Nm>", "<Nm>M&#252;le Two</Nm>"),  # a character reference
    ('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>'),  # not UTF-8
    # the message's namespace declared again inside an entry: a name, which a marker in its place would change
    ("<RltdPties>", '<RltdPties xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'),
])
def test_what_shapes_do_not_read_is_parsed_whole_with_the_same_rows(tmp_path, monkeypatch, change):
    path = tmp_path / "other.xml"
    text = _statements(6).replace(*change)
    path.write_bytes(text.encode("latin-1" if "ISO" in change[1] else "utf-8"))
    (whole, _), (chunked, _, returned) = _read_both(path, monkeypatch)
    assert not all(returned)
    assert chunked.equals(whole)


def _errors_both(path: Path, monkeypatch, match: str | None = None) -> tuple[str, str]:
    """The error of a whole parse of the file, and of reading it cut into chunks of five entries."""
    monkeypatch.setattr(xml_chunks, "SPLIT_ABOVE_BYTES", 1 << 30)
    with pytest.raises(InputError, match=match) as whole:
        list(Camt053Reader().read(path, ReadContext()))
    monkeypatch.setattr(xml_chunks, "SPLIT_ABOVE_BYTES", 0)
    monkeypatch.setattr(camt, "CHUNK_ENTRIES", 5)
    with pytest.raises(InputError) as chunked:
        list(Camt053Reader().read(path, ReadContext()))
    return str(whole.value), str(chunked.value)


@pytest.mark.parametrize("change", [
    ("<Nm>Mule Two</Nm>", "<Nm>Mule & Two</Nm>"),  # a bare ampersand
    ("<Nm>Mule Two</Nm>", "<Nm>Mule \x01Two</Nm>"),  # a control character XML forbids
    ("<Nm>Mule Two</Nm>", "<Nm>Mule ]]> Two</Nm>"),
    ("<Nm>Mule Two</Nm>", "<Nm>Mule Two</Name>"),  # tags that do not match
    ('Ccy="EUR"', 'Ccy="E<R"'),  # '<' in an attribute's value
    ("<Nm>Mule Two</Nm>", "<Nm>Mule Two</Nm><Nm>again</Nm"),  # a tag left open
    ("<Nm>Mule Two</Nm>", "<Nm>Mul\udce9 Two</Nm>"),  # a byte that is not UTF-8 in a file said to be
    ('Ccy="EUR"', 'Ccy=\u00a0"EUR"'),  # a no-break space where XML allows only its own white space
    ("\n<Stmt>", "\n<Bad>\n<Stmt>"),  # markup between the statements, which no chunk holds
    ("</BkToCstmrStmt>", ""),  # a closing tag missing at the end, which the chunks write themselves
    ("<AddtlNtryInf>", "<AddtlNtryInf>" + "x" * 10_000_001),  # a text over the parser's limit
])
def test_a_malformed_file_gives_the_error_of_a_whole_parse(tmp_path, monkeypatch, change):
    path = tmp_path / "bad.xml"
    stmts = _statements(6)
    k = stmts.index("<Stmt>", stmts.index("S4-")) - 1  # the last statement (and the line before it): not the first chunk
    path.write_bytes((stmts[:k] + stmts[k:].replace(*change, 1)).encode("utf-8", "surrogateescape"))
    whole, chunked = _errors_both(path, monkeypatch)
    assert chunked == whole


def test_an_entry_out_of_place_is_refused_as_by_a_whole_parse(tmp_path, monkeypatch):
    """An entry inside the account (not a child of the statement) and an entry of another namespace: both were
    'entries outside a <Stmt>' for the whole parse, and still are."""
    stmts = _statements(6)
    k = stmts.index("<Stmt>", stmts.index("S4-"))
    entry = stmts[stmts.index("<Ntry>", k):stmts.index("</Ntry>", k) + len("</Ntry>")]
    for variant in (stmts[:k] + stmts[k:].replace("</Acct>", entry + "</Acct>", 1),
                    stmts[:k] + stmts[k:].replace("<Ntry>", '<Ntry xmlns="urn:example:other">', 1)):
        path = tmp_path / "placed.xml"
        path.write_text(variant)
        whole, chunked = _errors_both(path, monkeypatch, match="outside a <Stmt>")
        assert chunked == whole


def test_several_ids_of_one_kind_give_the_first_that_is_not_blank(tmp_path, monkeypatch):
    """Two IBANs where the schema allows one, the first blank: as before the alternatives became fields, the
    first IBAN that is not blank is the account (in the whole parse and by shape)."""
    path = tmp_path / "two_ibans.xml"
    path.write_text(_statements(6).replace("<IBAN>BE68539007547034</IBAN>",
                                           "<IBAN> </IBAN><IBAN>BE68539007547034</IBAN>"))
    (whole, _), (chunked, _, returned) = _read_both(path, monkeypatch)
    assert all(returned) and chunked.equals(whole)
    assert whole.filter(pl.col("to_name") == "Mule Two")["to_account_id"].unique().to_list() == ["BE68539007547034"]


def test_an_entry_under_a_prefix_in_another_script_is_not_lost(tmp_path, monkeypatch):
    """A prefix the chunker cannot take for a plain name: the file is not cut (an entry it did not see would
    vanish from every chunk)."""
    stmts = _statements(6)
    k = stmts.index("</Acct>", stmts.index("S3-")) + len("</Acct>")
    entry = stmts[stmts.index("<Ntry>", k):stmts.index("</Ntry>", k) + len("</Ntry>")]
    other = entry.replace("<Ntry>", "<\u00e9:Ntry>").replace("</Ntry>", "</\u00e9:Ntry>")
    text = stmts[:k] + other + stmts[k:]
    text = text.replace('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">',
                        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08" '
                        'xmlns:\u00e9="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">')
    path = tmp_path / "script.xml"
    path.write_text(text)
    (whole, _), (chunked, _, _) = _read_both(path, monkeypatch)
    assert whole.height == 6 * 8 + 1 and chunked.equals(whole)
