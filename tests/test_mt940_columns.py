"""The column path for plain MT940 blocks (transforms/sources/mt940_columns.py) gives exactly the rows of the
library path (mt940.py on the mt-940 library): on every reference statement, on the generator's statements and
on generated variants of plain blocks with the odd cases banks send (each either read the same or declined)."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest

from tests.helpers import reference_dir
from transforms.sources import mt940, mt940_columns
from transforms.sources.camt import ROW_SCHEMA

REF = reference_dir("swift_mt940")
HERE = Path(__file__).resolve().parent


def both(text: str, bank: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Rows by the library alone, rows by the reader (columns first), and how many blocks the columns read."""
    blocks = [b for b in mt940._BLOCK_SPLIT.split(text) if mt940._TAG_LINE.search(b)]
    with mt940._library_quiet():
        rows = [row for block in blocks for row in mt940._block_rows(block, bank)]
    library = pl.DataFrame(rows, schema={k: v for k, v in ROW_SCHEMA.items() if k != "row_no"})
    mixed, _ = mt940._rows_of_blocks(blocks, bank)
    _, declined = mt940_columns.plain_rows(blocks, bank)
    return library, mixed, len(blocks) - len(declined)


def assert_same(library: pl.DataFrame, mixed: pl.DataFrame) -> None:
    assert library.schema == mixed.schema
    assert library.height == mixed.height
    for name in library.columns:
        a, b = library.get_column(name).to_list(), mixed.get_column(name).to_list()
        diff = [(i, x, y) for i, (x, y) in enumerate(zip(a, b)) if x != y]
        assert not diff, f"{name}: {diff[:3]}"


def test_every_reference_statement_reads_the_same():
    files = sorted(p for p in REF.rglob("*") if p.is_file() and not p.name.startswith("LICENSE"))
    assert len(files) > 40
    read_on_columns = 0
    for path in files:
        text = mt940.decode(path.read_bytes(), path)
        library, mixed, plain = both(text, mt940.preamble_bic(text))
        assert_same(library, mixed)
        read_on_columns += plain
    assert read_on_columns >= 4  # Knab, ING, ABN AMRO, SNS have plain blocks


def test_the_generators_statements_read_the_same():
    path = HERE.parent / "data" / "samples" / "bank"
    files = sorted(path.glob("*.sta"))
    assert files, "the samples hold an MT940 file"
    for f in files:
        text = mt940.decode(f.read_bytes(), f)
        library, mixed, plain = both(text, mt940.preamble_bic(text))
        assert_same(library, mixed)
        assert plain > 0.9 * len([b for b in mt940._BLOCK_SPLIT.split(text) if b.startswith(":20:")])


# ------------------------------------------------------------------ generated variants
IBANS = ["NL91ABNA0417164300", "DE89370400440532013000", "GB29NWBK60161331926819", "NL91ABNA0417164301"]
ACCOUNTS = ["NL91ABNA0417164300", "IRWDMMMY/949-913-94950394", "123456789", "37040044/0532013000", "123456789EUR",
            "NL91 ABNA 0417 1643 00", "", "§§bad", "A" * 40, "abnanl2a/1234", "12345/EUR"]
NUMBERS = ["2/1", "00001/001", "12345678", "998", "2/1/1", "abc", "123456"]
BALANCES = ["C{d}{ccy}0,00", "D{d}{ccy}1234,5", "C{d}{ccy}0,", "C{d}{ccy},50", "C{d}{ccy}1,2,3", "C{d}{ccy}",
            "c{d}{ccy}1,00", "C{d}{ccy}12,00 extra", "C{d}eur5,00"]
DAYS = ["240115", "241231", "250101", "240229", "250229", "240230", "241301", "991231", "000229"]
ENTRIES = ["", "0115", "1231", "0101", "0229", "1332", "0102"]
MARKS = ["C", "D", "RC", "RD", "c", "CR", "DR", "RCR", "CRX"]
AMOUNTS = ["100,50", "00100,50", "100", "100,", "1,2,3", "0,00", "123456789012,34", "1234567890123456", "5,7"]
KINDS = ["NTRF", "NMSC", "NCHK", "FCHG", "S123", "N TR", "ntrf", ""]
RESTS = ["NONREF//IR0000000001", "NONREF", "", "CUSTREF123//BANKREF", "ABCDEFGHIJKLMNOPQRS//X", "ABCDEFGHIJKLMNOP//Y",
         "ABCDEFGHIJKLMNOPQ//Z", "REF//" + "B" * 30 + "EXTRA", "A/B//C", "NL91ABNA0417164300", "//ONLYBANK",
         "NOTPROVIDED//NONE", " SPACED //  ", "REF//B\tTAB", "ÄÖÜ//é"]
DETAILS = [None, "", "plain text", "GEA NR:123 GELDAUTOMAAT 12:00", "BEA something", "x" * 65 + "\ny" * 3, "z" * 64 + "\nnext", "/NAME/" + "w" * 59 + "\nrest of name",
           "/EREF/E2E-1/IBAN/{iban}/BIC/ABNANL2A/NAME/Foo  Bar/REMI/USTD//invoice 7",
           "/CNTP/857-997-15839052/IRWDMMMY/YANGON MINI MART 1//REMI/USTD//PO\nS YANGON MINI MART 1",
           "/CNTP///NAME ONLY//REMI/STRD/CUR/ref 1", "/NAME/Nobody/IBAN//EREF/NONREF",
           "/UETR/3f2504e0-4f89-11d3-9a0c-0305e82c3301/EREF/NOTPROVIDED", "/UETR/not-a-uuid",
           "/NAME/A/IBAN/x/NAME/B", "/EREF/a//IBAN/{iban}", "166?00SEPA?20EREF+E1?21SVWZ+text?30ABNANL2A?31{iban}",
           "12\n3?20split", "text with {iban} inside", "line one\n-\nline two", "line\n\nafter blank",
           "tab\there", "nbsp\xa0here", "sep\u2028line", ":99:not a tag", "ß straße", "ORDERID 1 REK: {iban}/NAAM: X",
           # beyond ASCII, Python's and polars' \w, \b and upper-casing differ: such blocks go to the library
           "GELDAUTOMAAT\u0301 12:00", "CAFE\u0301GELDAUTOMAAT", "BETAALAUTOMAAT\u00b2 x", "/BIC/\u019bBANK/NAME/x",
           # German structured details, read on columns as the library's processors read them, or declined
           "166?00GUTSCHRIFT?100399?20EREF+E1?21SVWZ+text?22more?30COBADEFF?31{iban}?32Name?33 Rest",
           "805?00ENTGELT?20Pauschalen BIC?21foo IBAN?22bar BIC?30?31?32", "166?00X?20KREF+abc?21SVWZ+t",
           "166?00X?20EREF+a?20again", "166?00X?20no keywords here", "166?00X?20IBAN mention without plus",
           "166?00X?20leading EREF+e?21SVWZ+s BIC", "166?00X?20SVWZ+a?21SVWZ+b", "082?00BAREINZAHLUNG?20Einzahlung",
           "083?00BARAUSZAHLUNG", "059?00RUECKLASTSCHRIFT?20x", "166?00X?2", "166?00X?ab?20x",
           "166?00X?20ABC+DEF?60add?61more", "166?00X?20BIC +DEUTDEFF?21IBAN+{iban}?22EREF+E9",
           "166?00X?20y\n?21split across lines", "166?00X?20 spaced ?21 IBAN", "166?00X?20EREF+?21SVWZ+",
           "166?00X?20IBAN+?31{iban}?32A?33B", "166?00X?21only twenty-one BIC?30", "166?00X?20 BIC"]


def variant(rnd: random.Random, k: int) -> str:
    day = rnd.choice(DAYS[:4]) if rnd.random() < 0.7 else rnd.choice(DAYS)
    ccy = rnd.choice(["EUR", "MMK", "eur"]) if rnd.random() < 0.2 else "EUR"
    balance = (rnd.choice(BALANCES) if rnd.random() < 0.2 else BALANCES[0]).format(d=day, ccy=ccy)
    lines = [f":20:STMT{k}", f":25:{rnd.choice(ACCOUNTS) if rnd.random() < 0.4 else ACCOUNTS[0]}"]
    if rnd.random() < 0.7:
        lines.append(f":28C:{rnd.choice(NUMBERS) if rnd.random() < 0.2 else '2/1'}")
    if rnd.random() < 0.05:
        lines.append(":21:RELATED")
    lines.append((":60M:" if rnd.random() < 0.2 else ":60F:") + balance)
    for _ in range(rnd.randint(0, 4)):
        plain = rnd.random() < 0.6

        def pick(options, usual):
            return usual if plain else rnd.choice(options)

        value = pick(DAYS, rnd.choice(DAYS[:4]))
        line = (f":61:{value}{pick(ENTRIES, value[2:])}{pick(MARKS, rnd.choice(MARKS[:4]))}"
                f"{pick(AMOUNTS, rnd.choice(AMOUNTS[:4]))}{pick(KINDS, 'NTRF')}{rnd.choice(RESTS)}")
        if rnd.random() < 0.05:
            line += "\nsecond line of the statement line"
        lines.append(line)
        detail = rnd.choice(DETAILS)
        if detail is not None:
            lines.append(":86:" + detail.format(iban=rnd.choice(IBANS)))
    if rnd.random() < 0.05:
        lines.insert(2, ":86:statement-level details")
    lines.append(":62F:" + BALANCES[0].format(d=day, ccy=ccy))
    if rnd.random() < 0.2:
        lines.append(":64:" + BALANCES[0].format(d=day, ccy=ccy))
    if rnd.random() < 0.1:
        lines += [":65:" + BALANCES[0].format(d=day, ccy=ccy)] * 2
    if rnd.random() < 0.05:
        lines.append("-}")
    return "\n".join(lines) + "\n-\n"


@pytest.mark.parametrize("seed", range(6))
def test_generated_variants_read_the_same(seed):
    rnd = random.Random(seed)
    text = "".join(variant(rnd, k) for k in range(250))
    library, mixed, plain = both(text)
    assert_same(library, mixed)
    assert library.height > 250
    assert 30 < plain < 250  # both paths were taken


def test_the_column_path_fills_every_field():
    text = (":20:S1\n:25:NL91ABNA0417164300\n:28C:1/1\n:60F:C240115EUR0,00\n"
            ":61:2401151231D00100,50NCHKCUST//BANK1\n:86:/EREF/E1/IBAN/DE89370400440532013000/BIC/cobadeff"
            "/NAME/Ann  Lee/REMI/USTD//rent\n:62F:D240115EUR100,50\n-\n")
    library, mixed, plain = both(text)
    assert plain == 1
    assert_same(library, mixed)
    row = mixed.row(0, named=True)
    assert row["amount"] == "100.50" and row["out"] is True and row["channel"] == "cheque"
    assert str(row["booked_at"].date()) == "2023-12-31" and str(row["value_date"]) == "2024-01-15"  # entry date a year back
    assert (row["cp_no"], row["cp_inst"], row["cp_name"]) == ("DE89370400440532013000", "COBADEFF", "Ann Lee")
    assert (row["native_id"], row["source_txn_id"], row["end_to_end_id"], row["reference"]) == ("BANK1", "BANK1", "E1", "rent")
