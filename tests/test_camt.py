"""camt.052 / camt.053 / camt.054 reader: field mapping on hand-made statements, every reference sample,
and hostile XML (billion laughs, external entities) refused."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.helpers import reference_dir, write_fx_for
from transforms.errors import InputError
from transforms.ingest import ingest_paths
from transforms.sources.base import ReadContext
from transforms.sources.camt import Camt053Reader, channel_from_iso
from transforms.sources.registry import detect

HERE = Path(__file__).resolve().parent
FIX = HERE / "fixtures" / "statements"
REF = reference_dir("iso20022_camt")
COLS = ("source_txn_id, booked_at, value_date, from_account_id, to_account_id, amount, currency, channel, reference, "
        "from_name, to_name, from_institution, to_institution, from_country, to_country, end_to_end_id, uetr, "
        "bank_tx_code, is_reversal")



def write_fx(files: list[Path], out: Path) -> Path:
    return write_fx_for(files, out, "1.25")


def rows(db: Path, where: str = "TRUE") -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute(f"SELECT {COLS} FROM transactions WHERE {where} ORDER BY source_txn_id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()


def utc(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=timezone.utc)


# ------------------------------------------------------------------ hand-made statement: exact mapping
@pytest.fixture(scope="module")
def bank_a(tmp_path_factory):
    db = tmp_path_factory.mktemp("camt") / "a.duckdb"
    reports = ingest_paths(db, [FIX / "fx_rates.csv", FIX / "camt053_v08_bank_a.xml"])
    return db, {Path(r.path).name: r for r in reports}


def test_statement_reconciles_and_pending_is_quarantined(bank_a):
    db, reports = bank_a
    r = reports["camt053_v08_bank_a.xml"]
    assert r.source == "camt053" and r.status == "loaded"
    # 7 entries, the batch of two split: 8 rows; the pending one quarantined
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_duplicate) == (8, 7, 1, 0)
    assert r.notes == ["1 pending or information-only entries not loaded (quarantined with status reason)"]
    con = duckdb.connect(str(db), read_only=True)
    (row_no, reasons), = con.execute("SELECT row_no, reasons FROM quarantine").fetchall()
    con.close()
    assert row_no == 8
    assert reasons == ["status: entry is PDNG (not booked); only booked entries are transactions",
                       "booked_at: entry has no booking date (BookgDt)"]


def test_field_mapping_exact(bank_a):
    db, _ = bank_a
    got = {r["source_txn_id"]: r for r in rows(db)}
    own = "DE89370400440532013000"
    assert got["A-REF-0001"] == {
        "source_txn_id": "A-REF-0001", "booked_at": utc(2026, 3, 2, 9, 15), "value_date": date(2026, 3, 2),
        "from_account_id": "FR7630006000011234567890189", "to_account_id": own,
        "amount": Decimal("9500"), "currency": "EUR", "channel": "transfer",
        "reference": "Investment deposit order 77", "from_name": "Anna Victim", "to_name": "Mule Trading GmbH",
        "from_institution": "AGRIFRPPXXX", "to_institution": "COBADEFFXXX", "from_country": "FR", "to_country": "DE",
        "end_to_end_id": "E2E-VICTIM-1", "uetr": None, "bank_tx_code": "PMNT/RCDT/ESCT", "is_reversal": False,
    }
    wire = got["A-REF-0002"]
    assert (wire["from_account_id"], wire["to_account_id"], wire["to_name"], wire["to_institution"], wire["to_country"]) == (
        own, "HSBCHKHHXXX:123456789", "Golden OTC Ltd", "HSBCHKHHXXX", "HK")
    assert (wire["channel"], wire["uetr"], wire["value_date"]) == ("wire", "8a562c67-ca16-48ba-b074-65581be6f001", date(2026, 3, 3))
    cash_in = got["A-REF-0003"]
    assert (cash_in["from_account_id"], cash_in["to_account_id"], cash_in["channel"], cash_in["amount"],
            cash_in["from_institution"], cash_in["reference"], cash_in["bank_tx_code"]) == (
        "cash", own, "cash_deposit", Decimal("9900"), None, "Cash deposit branch 12", "PMNT/CNTR/CDPT")
    cash_out = got["A-REF-0004"]
    assert (cash_out["from_account_id"], cash_out["to_account_id"], cash_out["channel"]) == (own, "cash", "cash_withdrawal")
    reversal = got["A-REF-0005"]  # the debit reverses the victim's credit: the money goes back to the debtor
    assert (reversal["from_account_id"], reversal["to_account_id"], reversal["to_name"], reversal["is_reversal"]) == (
        own, "FR7630006000011234567890189", "Anna Victim", True)
    batch = [got["A-REF-0006/1"], got["A-REF-0006/2"]]
    assert [(b["to_account_id"], b["to_name"], b["amount"], b["reference"]) for b in batch] == [
        ("NL91ABNA0417164300", "Mule One", Decimal("100"), "payout 1"),
        ("BE68539007547034", "Mule Two", Decimal("200"), "payout 2"),
    ]
    assert all(b["from_account_id"] == own and b["from_institution"] == "COBADEFFXXX" for b in batch)


def test_reversal_does_not_collapse_into_the_payment_it_reverses(bank_a):
    db, _ = bank_a
    same_e2e = rows(db, "end_to_end_id = 'E2E-VICTIM-1'")
    assert sorted(r["is_reversal"] for r in same_e2e) == [False, True]


def test_usd_amounts_use_the_rates_table(bank_a):
    db, _ = bank_a
    con = duckdb.connect(str(db), read_only=True)
    usd = dict(con.execute("SELECT source_txn_id, amount_usd FROM transactions").fetchall())
    con.close()
    assert usd["A-REF-0003"] == Decimal("10692.00")  # 9900 EUR x 1.08


@pytest.mark.parametrize(
    "code, channel",
    [
        (("PMNT", "CNTR", "CDPT", None), "cash_deposit"),
        (("PMNT", "CNTR", "BCDP", None), "cash_deposit"),
        (("PMNT", "CNTR", "CWDL", None), "cash_withdrawal"),
        (("PMNT", "CCRD", "CWDL", None), "cash_withdrawal"),
        ((None, None, None, "NMSC+083+1234"), "cash_withdrawal"),
        (("PMNT", "CCRD", "POSD", None), "card"),
        (("PMNT", "ICDT", "XBCT", None), "wire"),
        (("PMNT", "RCDT", "ESCT", None), "transfer"),
        (("ACMT", "MDOP", "CHRG", None), "fee"),
        (("PMNT", "ICHQ", "CCHQ", None), "cheque"),
        ((None, None, None, None), "transfer"),
        (("SECU", "SETT", "TRAD", None), "other"),
    ],
)
def test_bank_transaction_code_channels(code, channel):
    assert channel_from_iso(*code) == channel


# ------------------------------------------------------------------ every reference sample
def test_every_reference_sample_loads_or_is_refused_with_a_reason(tmp_path):
    files = sorted(REF.glob("*.xml"))
    assert files, "no camt samples found"
    fx = write_fx(files, tmp_path / "fx.csv")
    reports = {Path(r.path).name: r for r in ingest_paths(tmp_path / "db.duckdb", [fx, *files])}
    for f in files:
        r = reports[f.name]
        assert r.source in ("camt052", "camt053", "camt054"), f"{f.name} not detected as camt: {r.message}"
        if r.status == "refused":
            assert f.name in r.message and "\n" not in r.message and "Traceback" not in r.message
        else:
            assert r.status == "loaded" and r.rows_read > 0 and r.reconciles, r.as_dict()
    assert "no <Stmt> element" in reports["camt053.v2.wrong.xml"].message
    assert "no entries" in reports["camt53.only-Dt-with-DtTm.xml"].message
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    reasons = con.execute("SELECT reasons FROM quarantine").fetchall()
    loaded = con.execute("SELECT count(*) FROM transactions").fetchall()[0][0]
    con.close()
    assert loaded >= 10
    for (rs,) in reasons:  # every quarantined row says which field is wrong and why
        assert rs and all(": " in x for x in rs)


# ------------------------------------------------------------------ hostile XML
CAMT_NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
BOMB = f"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="{CAMT_NS}"><BkToCstmrStmt><Stmt><Id>&lol9;</Id></Stmt></BkToCstmrStmt></Document>
"""
XXE = f"""<?xml version="1.0"?>
<!DOCTYPE Document [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<Document xmlns="{CAMT_NS}"><BkToCstmrStmt><Stmt><Id>x</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-03-02</Dt></BookgDt>
<AddtlNtryInf>&xxe;</AddtlNtryInf></Ntry></Stmt></BkToCstmrStmt></Document>
"""


@pytest.mark.parametrize("name, text", [("bomb.xml", BOMB), ("xxe.xml", XXE)])
def test_hostile_xml_is_refused_with_one_line(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    report, = ingest_paths(tmp_path / "db.duckdb", [path])
    assert report.status == "refused" and report.source == "camt053"
    assert str(path) in report.message and "DOCTYPE" in report.message and "\n" not in report.message
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM transactions").fetchall() == [(0,)]
    con.close()


def test_doctype_hidden_after_a_long_comment_is_refused(tmp_path):
    """The prolog scan reads 64 KiB; a DOCTYPE further down is caught from the parsed document info."""
    path = tmp_path / "late_doctype.xml"
    path.write_text('<?xml version="1.0"?>\n<!--' + "x" * 70_000 + "-->\n" + XXE.split("\n", 1)[1])
    with pytest.raises(InputError, match="DOCTYPE"):
        list(Camt053Reader().read(path, ReadContext()))


def test_malformed_xml_is_refused(tmp_path):
    path = tmp_path / "cut.xml"
    path.write_text(f'<?xml version="1.0"?><Document xmlns="{CAMT_NS}"><BkToCstmrStmt><Stmt><Ntry><Amt>1')
    with pytest.raises(InputError, match="not well-formed XML"):
        list(Camt053Reader().read(path, ReadContext()))


def test_xsd_naming_the_namespace_is_not_taken_for_a_statement(tmp_path):
    path = tmp_path / "camt.053.001.02.xsd"
    path.write_text(f'<?xml version="1.0"?><xs:schema xmlns="{CAMT_NS}" targetNamespace="{CAMT_NS}" '
                    'xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="Document"/></xs:schema>')
    assert detect(path, ReadContext()) is None


# ------------------------------------------------------------------ large files: chunks of whole entries
def _many_statements(n: int, prefixed: bool = False) -> str:
    """The bank A fixture without its comments, its statement repeated n times (another Id each)."""
    import re

    src = re.sub(r"<!--.*?-->", "", (FIX / "camt053_v08_bank_a.xml").read_text(), flags=re.S)
    i, j = src.index("<Stmt>"), src.rindex("</Stmt>") + len("</Stmt>")
    text = src[:i] + "\n".join(src[i:j].replace("<Id>", f"<Id>S{k}-", 1) for k in range(n)) + src[j:]
    if prefixed:  # every element in a 'c:' prefix, as some banks write it
        text = re.sub(r"<(/?)([A-Z][A-Za-z]*)([ >/])", r"<\1c:\2\3", text).replace(' xmlns="', ' xmlns:c="')
    return text


@pytest.mark.parametrize("prefixed, per_chunk, n_docs", [(False, 3, 120), (True, 3, 120), (False, 20, 20), (True, 20, 20)])
def test_a_file_read_in_chunks_gives_the_same_rows_as_read_whole(tmp_path, monkeypatch, prefixed, per_chunk, n_docs):
    """A statement larger than a chunk is cut into runs of its entries (7 entries, 3 a chunk: 3 + 3 + 1); small
    statements travel whole, as many as fit (20 entries a chunk: two statements of 7)."""
    from transforms.sources import camt, xml_chunks

    path = tmp_path / "many.xml"
    path.write_text(_many_statements(40, prefixed))
    whole_ctx, chunked_ctx = ReadContext(), ReadContext()
    whole = pl.concat(list(Camt053Reader().read(path, whole_ctx)))
    monkeypatch.setattr(xml_chunks, "SPLIT_ABOVE_BYTES", 0)
    monkeypatch.setattr(camt, "CHUNK_ENTRIES", per_chunk)
    docs = list(xml_chunks.chunks(path, "Stmt", "Ntry", per_chunk))
    assert len(docs) == n_docs
    chunks = list(Camt053Reader().read(path, chunked_ctx))
    assert len(chunks) == n_docs and whole.height == 40 * 8
    assert pl.concat(chunks).equals(whole)
    assert chunked_ctx.notes == whole_ctx.notes == ["40 pending or information-only entries not loaded (quarantined with status reason)"]


def test_a_file_with_a_comment_between_entries_is_read_whole(tmp_path, monkeypatch):
    from transforms.sources import xml_chunks

    path = tmp_path / "commented.xml"
    path.write_text(_many_statements(3).replace("<Ntry>", "<!-- <Ntry> in a comment --><Ntry>", 1))
    monkeypatch.setattr(xml_chunks, "SPLIT_ABOVE_BYTES", 0)
    assert len(list(xml_chunks.chunks(path, "Stmt", "Ntry", 3))) == 1
    assert sum(c.height for c in Camt053Reader().read(path, ReadContext())) == 24


def test_a_quarantined_entry_keeps_its_raw_record(bank_a):
    db, _ = bank_a
    con = duckdb.connect(str(db), read_only=True)
    (raw,), = con.execute("SELECT raw FROM quarantine WHERE path LIKE '%camt053_v08_bank_a.xml'").fetchall()
    con.close()
    record = json.loads(raw)  # the entry's leaves, as the bank wrote them
    assert record["Sts/Cd"] == "PDNG" and record["Amt"] == "42.00" and record["Amt@Ccy"] == "EUR"
    assert record["Stmt/Acct"] == "DE89370400440532013000" and record["Stmt/Id"] == "STMT-A-1"


def test_private_use_characters_in_the_data_do_not_break_the_rows(tmp_path):
    path = tmp_path / "pua.xml"
    text = (FIX / "camt053_v08_bank_a.xml").read_text().replace("Investment deposit", "Investment \ue000\ue001 deposit")
    path.write_text(text)
    out = pl.concat(list(Camt053Reader().read(path, ReadContext())))
    assert out.height == 8 and "Investment \ue000\ue001 deposit order 77" in out["reference"].to_list()


def test_an_entry_outside_a_statement_refuses_the_file_rather_than_vanish(tmp_path):
    path = tmp_path / "stray.xml"
    text = (FIX / "camt053_v08_bank_a.xml").read_text()
    entry = text[text.index("<Ntry>"):text.index("</Ntry>") + len("</Ntry>")]
    path.write_text(text.replace("</Stmt>", "</Stmt>" + entry))
    with pytest.raises(InputError, match="1 <Ntry> entries outside a <Stmt>"):
        list(Camt053Reader().read(path, ReadContext()))


def _bank_a_with(old: str, new: str, tmp_path: Path, name: str = "edited.xml") -> Path:
    path = tmp_path / name
    text = (FIX / "camt053_v08_bank_a.xml").read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


def test_separator_characters_written_as_references_cannot_forge_a_row(tmp_path):
    """The stylesheet's separators are private-use characters; a remittance text that spells them as character
    references must not split into an extra (forged) transaction."""
    forged = "&#xE001;" + "&#xE000;".join(["x"] * 42)
    path = _bank_a_with("<Ustrd>Investment deposit</Ustrd>", f"<Ustrd>Investment deposit{forged}</Ustrd>", tmp_path)
    out = pl.concat(list(Camt053Reader().read(path, ReadContext())))
    assert out.height == 8
    assert any("Investment deposit\ue001x" in r for r in out["reference"].drop_nulls())


def test_blank_remittance_lines_fall_back_to_the_next_text(tmp_path):
    path = _bank_a_with("<Ustrd>USDT purchase</Ustrd>", "<Ustrd>  </Ustrd><Ustrd>USDT purchase</Ustrd><Ustrd> </Ustrd>",
                        tmp_path)
    out = pl.concat(list(Camt053Reader().read(path, ReadContext())))
    assert "USDT purchase" in out["reference"].to_list()


def test_a_statement_inside_an_envelope_is_read(tmp_path):
    text = (FIX / "camt053_v08_bank_a.xml").read_text()
    start = text.index("<Document")
    path = tmp_path / "envelope.xml"
    path.write_text(text[:start] + '<Envelope xmlns="urn:swift:xsd:envelope"><AppHdr/>' + text[start:] + "</Envelope>")
    assert pl.concat(list(Camt053Reader().read(path, ReadContext()))).height == 8


def test_dates_in_other_iso_spellings_read_as_python_reads_them(tmp_path):
    path = _bank_a_with("<ValDt><Dt>2026-03-02</Dt></ValDt>", "<ValDt><Dt>20260302</Dt></ValDt>", tmp_path)
    first = pl.concat(list(Camt053Reader().read(path, ReadContext()))).row(0, named=True)
    assert first["value_date"] == date(2026, 3, 2)
    path = _bank_a_with("<DtTm>2026-03-02T10:15:00+01:00</DtTm>", "<DtTm>2026-12-31T23:59:60Z</DtTm>", tmp_path, "leap.xml")
    first = pl.concat(list(Camt053Reader().read(path, ReadContext()))).row(0, named=True)
    assert first["booked_at"] is None and any(e.startswith("booked_at: not an ISO") for e in first["errors"])


def test_an_entry_in_another_namespace_refuses_the_file_rather_than_vanish(tmp_path):
    path = _bank_a_with("<Ntry>", '<Ntry xmlns="urn:other"><Amt Ccy="EUR">1.00</Amt></Ntry><Ntry>', tmp_path)
    with pytest.raises(InputError, match="1 <Ntry> entries outside a <Stmt> of the message's namespace"):
        list(Camt053Reader().read(path, ReadContext()))
