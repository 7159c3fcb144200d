"""The UK Sanctions List in CSV / ODS form, OFSI's ConList.csv and OFAC's SDN_ADVANCED XML, read from the fixtures
in tests/fixtures/watchlists (which of them are real, rebuilt or synthetic: its README) into a real DuckDB store.
The forms of one list must give the same entities: UK CSV = UK XML, OFAC advanced = OFAC classic."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import polars as pl
import pytest

from tests.helpers import ingest, quarantine_reasons, watchlist_entity
from transforms.sources.base import ReadContext
from transforms.sources.registry import by_name, detect
from transforms.sources.watchlist_uk_csv import csv_records

FIX = Path(__file__).parent / "fixtures" / "watchlists"
UK_CSV, UK_XML = FIX / "uk_sanctions_list.csv", FIX / "uk_sanctions_list.xml"
OFSI, ADVANCED = FIX / "ofsi_conlist.csv", FIX / "ofac_sdn_advanced.xml"
COMPARED = ("entity_id", "list_name", "list_version", "native_id", "schema", "name", "aliases", "birth_dates",
            "countries", "id_numbers", "registration_nos", "wallets", "phones", "emails", "addresses", "programs",
            "authority", "listed_at", "remarks")


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("more") / "s.duckdb"
    reports = ingest(path, UK_CSV, OFSI, ADVANCED)
    for r in reports.values():
        assert r.status == "loaded" and r.rows_quarantined == 0, (r.path, r.message)
    return path




def _read(reader: str, path: Path) -> dict[str, dict]:
    frame = pl.concat(list(by_name(reader).read(path, ReadContext())))
    return {r["entity_id"]: r for r in frame.to_dicts() if r["entity_id"]}


# ------------------------------------------------------------------------------------------ UK Sanctions List CSV


def test_uk_csv_reads_names_dates_documents_and_regime(db):
    e = watchlist_entity(db, "uk_fcdo:AFG0006")
    assert e["source"] == "uk_sanctions_list_csv" and e["list_version"] == "2026-09-10"
    assert e["name"] == "MOHAMMAD HASSAN AKHUND" and e["schema"] == "Person"
    assert e["aliases"] == ["Mohammad Akhwand", "محمد حسن آخوند"]  # the variation row and the Arabic-script name
    assert e["birth_dates"] == ["1958-05-12", "1945", "1946"]  # 'dd/mm/1945': only the year is known
    assert e["id_numbers"] == ["P04581926", "2132370"] and e["countries"] == ["af"]
    assert e["programs"] == ["The Afghanistan (Sanctions) (EU Exit) Regulations 2020"]
    assert e["listed_at"] == dt.date(2001, 1, 25) and e["authority"].startswith("UK FCDO")
    money = watchlist_entity(db, "uk_fcdo:AFG0001")  # two addresses on two rows of one designation
    assert money["addresses"] == ["Ansari Market, 2nd Floor, Nimroz Province, Afghanistan",
                                  "Branch Office 14, Dubai, United Arab Emirates"]
    assert money["countries"] == ["af", "ae"] and money["phones"] == ["0202104748"]
    assert money["emails"] == ["helmand_exchange_msp@yahoo.com"] and money["aliases"][0] == "Haji Alim Hawala"
    assert watchlist_entity(db, "uk_fcdo:BEL0107")["registration_nos"] == ["UKCOMPANYNO06527449"]
    assert watchlist_entity(db, "uk_fcdo:DPR0075")["schema"] == "Vessel"


def test_uk_csv_and_xml_of_one_list_give_the_same_entities(tmp_path):
    csv_rows, xml_rows = _read("uk_sanctions_list_csv", UK_CSV), _read("uk_sanctions_list_xml", UK_XML)
    assert sorted(csv_rows) == sorted(xml_rows) == [f"uk_fcdo:{u}" for u in
                                                    ("AFG0001", "AFG0006", "AQD0195", "BEL0107", "DPR0075")]
    for key, row in csv_rows.items():
        assert {c: row[c] for c in COMPARED} == {c: xml_rows[key][c] for c in COMPARED}, key
    # and in the store: the XML after the CSV adds nothing, every designation is already there unchanged
    reports = ingest(tmp_path / "s.duckdb", UK_CSV, UK_XML)
    assert (reports[UK_XML.name].rows_read, reports[UK_XML.name].rows_duplicate) == (5, 5)
    assert reports[UK_CSV.name].rows_loaded == 5


def _ods(rows: list[list[str]], path: Path) -> Path:
    """A minimal OpenDocument spreadsheet holding the rows as text cells."""
    def cell(v: str) -> str:
        return f'<table:table-cell office:value-type="string"><text:p>{escape(v)}</text:p></table:table-cell>' if v \
            else "<table:table-cell/>"
    body = "".join("<table:table-row>" + "".join(cell(v) for v in r) + "</table:table-row>" for r in rows)
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
               f'<office:spreadsheet><table:table table:name="UK Sanctions List">{body}</table:table>'
               '</office:spreadsheet></office:body></office:document-content>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '</manifest:manifest>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet",
                   compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def test_uk_ods_gives_the_same_entities_as_the_csv(tmp_path):
    pytest.importorskip("fastexcel")
    ods = _ods(list(csv_records(UK_CSV)), tmp_path / "UK_Sanctions_List.ods")
    assert detect(ods, ReadContext()).name == "uk_sanctions_list_csv"
    from_ods, from_csv = _read("uk_sanctions_list_csv", ods), _read("uk_sanctions_list_csv", UK_CSV)
    assert sorted(from_ods) == sorted(from_csv)
    for key, row in from_ods.items():
        assert {c: row[c] for c in COMPARED} == {c: from_csv[key][c] for c in COMPARED}, key
    # another spreadsheet is not taken for the list
    assert detect(_ods([["party_id", "name"], ["P1", "Li Yong"]], tmp_path / "other.ods"), ReadContext()) is None


def test_uk_csv_bad_rows_are_quarantined_with_their_reason(tmp_path):
    f = tmp_path / "UK-Sanctions-List.csv"
    shutil.copy(UK_CSV, f)
    width = len(list(csv_records(UK_CSV))[1])
    with open(f, "a", encoding="utf-8", newline="") as fh:
        fh.write("04/08/2026,RUS9999,,,A SHIP,,,,,,Primary Name" + ",x" * width + "\r\n")  # too many fields
        fh.write(",,,,NO ID LTD,,,,,,Primary Name" + "," * (width - 11) + "\r\n")  # no Unique ID
    (r,) = ingest(tmp_path / "s.duckdb", f).values()
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (7, 5, 2)
    reasons = quarantine_reasons(tmp_path / "s.duckdb")
    assert reasons[12][0].startswith("record: ") and "the header has 58" in reasons[12][0]
    assert reasons[13] == ["Unique ID: missing value"]


# ---------------------------------------------------------------------------------------------- OFSI ConList


def test_ofsi_conlist_groups_name_variants_by_group_id(db):
    e = watchlist_entity(db, "uk_hmt:7172")
    assert e["list_name"] == "uk_hmt" and e["list_version"] == "2026-01-27" and e["source"] == "ofsi_conlist_csv"
    assert e["name"] == "MOHAMMAD HASSAN AKHUND" and e["aliases"] == ["Mohammad Akhwand", "محمد حسن آخوند"]
    assert e["birth_dates"] == ["1958-05-12", "1945", "1946"] and e["id_numbers"] == ["P04581926", "2132370"]
    assert e["programs"] == ["Afghanistan"] and e["listed_at"] == dt.date(2001, 1, 25)
    assert "(UK Sanctions List Ref):AFG0006" in e["remarks"]
    syria = watchlist_entity(db, "uk_hmt:12431")  # the record watchman's tests read from the real 2022 ConList.csv
    assert syria["name"] == "(GENERAL) ORGANIZATION FOR ENGINEERING INDUSTRIES" and syria["schema"] == "Organization"
    assert syria["addresses"] == ["PO Box 21120, Baramkeh, Damascus, Syria"] and syria["countries"] == ["sy"]
    assert syria["listed_at"] == dt.date(2011, 12, 2)
    assert watchlist_entity(db, "uk_hmt:14124")["aliases"] == ["BNK UK Limited", "BNK"]


def test_ofsi_numbered_cells_split_and_bad_rows_quarantined(tmp_path):
    records = list(csv_records(OFSI))
    header = records[1]
    row = dict.fromkeys(header, "")
    row.update({"Name 6": "EXAMPLE", "Name 1": "Ivan", "Nationality": "(1) Syria (2) Lebanon",
                "Passport Number": "(1) N0123456 (2) N0765432", "Group Type": "Individual", "Alias Type": "Primary name",
                "Regime": "Syria", "Listed On": "01/02/2020", "Group ID": "99999"})
    no_group = {**row, "Group ID": "", "Name 6": "NOBODY"}
    f = tmp_path / "ConList.csv"
    shutil.copy(OFSI, f)
    with open(f, "a", encoding="utf-8", newline="") as fh:
        for r in (row, no_group):
            fh.write(",".join(r[h] for h in header) + "\r\n")
    (r,) = ingest(tmp_path / "s.duckdb", f).values()
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (6, 5, 1)
    assert quarantine_reasons(tmp_path / "s.duckdb") == {10: ["Group ID: missing value"]}
    e = watchlist_entity(tmp_path / "s.duckdb", "uk_hmt:99999")
    assert e["countries"] == ["sy", "lb"] and e["id_numbers"] == ["N0123456", "N0765432"]


# ------------------------------------------------------------------------------------------------ OFAC advanced


def test_ofac_advanced_reads_names_dates_documents_wallets_and_programs(db):
    li = watchlist_entity(db, "ofac_sdn:28264")
    assert li["source"] == "ofac_sdn_advanced_xml" and li["list_version"] == "2024-03-06"
    assert li["name"] == "Jiadong LI" and li["schema"] == "Person" and li["aliases"] == ["blackjack1987", "khaleesi"]
    assert li["birth_dates"] == ["1987-01-10"] and li["countries"] == ["cn"]
    assert li["id_numbers"] == ["210302198701102136"] and li["phones"] == ["8613314257947", "8618004121000"]
    assert len(li["wallets"]) == 12 and li["wallets"][0] == "bitcoin:1EfMVkxQQuZfBdocpJu6RUsCJvenQWbQyE"
    assert li["programs"] == ["DPRK3", "CYBER2"] and li["listed_at"] == dt.date(2020, 3, 2)
    assert li["addresses"] == ["Anshan, Liaoning, China"]
    front = watchlist_entity(db, "ofac_sdn:31212")
    assert front["wallets"] == ["bitcoin:3Gbs4rjcVUtQd8p3CiFUCxPLZwRqurezRZ",
                                "ethereum:0x9f4cda013e354b8fc285bf4b9a60460cee7f7ea9",
                                "bitcoin_cash:qpf2cphc5dkuclkqur7lhj2yuqq9pk3hmukle77vhq"]
    assert front["programs"] == ["NPWMD", "CYBER2", "ELECTION-EO13848"] and front["registration_nos"] == []
    rawi = watchlist_entity(db, "ofac_sdn:25057")  # name parts: First Name before Last Name, as the classic list writes it
    assert rawi["name"] == "'Adnan Muhammad Amin al-Rawi" and rawi["birth_dates"] == ["1985-01-07", "1982-08-28"]
    assert "Alrawi Adnan Mahmoud" in rawi["aliases"]
    cuba = watchlist_entity(db, "ofac_sdn:306")
    assert cuba["countries"] == ["ch", "es", "jp", "pa"] and cuba["listed_at"] == dt.date(1989, 3, 30)
    # the synthetic record: TRX and USDT (a TRON address; an EVM address on every EVM chain), Cyrillic, passport
    syn = watchlist_entity(db, "ofac_sdn:990001")
    assert "tron:TVSyntheticTestAddress111111111111" in syn["wallets"]
    assert "ethereum:0x5e7a1c0ffee5e7a1c0ffee5e7a1c0ffee5e7a1c0" in syn["wallets"]
    assert "bsc:0x5e7a1c0ffee5e7a1c0ffee5e7a1c0ffee5e7a1c0" in syn["wallets"]
    assert syn["aliases"] == ["Иван Тестов"] and syn["id_numbers"] == ["771234567"] and syn["birth_dates"] == ["1970"]
    assert syn["emails"] == ["ivan.testov@example.org"] and syn["countries"] == ["ru"]


def test_ofac_advanced_and_classic_give_the_same_entities():
    advanced = _read("ofac_sdn_advanced_xml", ADVANCED)
    classic_csv = _read("ofac_sdn_csv", FIX / "ofac_sdn.csv")  # with alt.csv, add.csv, sdn_comments.csv beside it
    classic_xml = _read("ofac_sdn_xml", FIX / "ofac_sdn.xml")
    same = ("name", "aliases", "birth_dates", "countries", "id_numbers", "wallets", "phones", "addresses", "programs")
    for key in ("ofac_sdn:28264", "ofac_sdn:31212"):
        a, c = advanced[key], classic_csv[key]
        diff = {f: (a[f], c[f]) for f in same if a[f] != c[f]}
        if key == "ofac_sdn:31212":  # the 2024 edition writes one alias in mixed case
            assert diff == {"aliases": (["SOUTH FRONT", "SouthFront: Analysis & Intelligence"],
                                        ["SOUTH FRONT", "SOUTHFRONT: ANALYSIS & INTELLIGENCE"])}
        else:
            assert diff == {}, diff
    a, x = advanced["ofac_sdn:36"], classic_xml["ofac_sdn:36"]
    assert {f: a[f] for f in same} == {f: x[f] for f in same}
    a, c = advanced["ofac_sdn:306"], classic_csv["ofac_sdn:306"]
    assert (a["name"], a["aliases"], a["programs"], sorted(a["countries"])) == \
           (c["name"], c["aliases"], c["programs"], sorted(c["countries"]))


def test_ofac_advanced_bad_parties_and_entries_are_quarantined(tmp_path):
    text = ADVANCED.read_text(encoding="utf-8")
    text = text.replace('<DistinctParty FixedRef="25057">', '<DistinctParty>')  # no id
    text = text.replace('ProfileID="990001"', 'ProfileID="424242"')  # an entry for a party not in the file
    f = tmp_path / "sdn_advanced.xml"
    f.write_text(text, encoding="utf-8")
    (r,) = ingest(tmp_path / "s.duckdb", f).values()
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (7, 5, 2)
    reasons = quarantine_reasons(tmp_path / "s.duckdb")
    assert reasons[3] == ["id: the entry has no id in its list"]
    assert "profile '424242', which is not among the file's DistinctParties" in reasons[7][0]
    truncated = tmp_path / "cut_advanced.xml"
    truncated.write_text(ADVANCED.read_text(encoding="utf-8")[:20000], encoding="utf-8")
    (r,) = ingest(tmp_path / "t.duckdb", truncated).values()
    assert r.status == "refused" and "not well-formed XML" in r.message


# ------------------------------------------------------------------------------------------------ detection


def test_each_list_file_is_detected_by_its_own_reader(tmp_path):
    expected = {
        "uk_sanctions_list.csv": "uk_sanctions_list_csv", "uk_sanctions_list.xml": "uk_sanctions_list_xml",
        "ofsi_conlist.csv": "ofsi_conlist_csv", "ofac_sdn_advanced.xml": "ofac_sdn_advanced_xml",
        "ofac_sdn.xml": "ofac_sdn_xml", "ofac_sdn.csv": "ofac_sdn_csv", "ofac_alt.csv": "ofac_sdn_companion",
        "ofac_add.csv": "ofac_sdn_companion", "ofac_sdn_comments.csv": "ofac_sdn_companion",
        "un_consolidated.xml": "un_consolidated_xml", "opensanctions.ftm.json": "ftm_entities",
    }
    for name, reader in expected.items():
        assert detect(FIX / name, ReadContext()).name == reader, name
    # a list whose metadata line is missing is still recognised by its header; look-alike CSVs are not taken
    bare = tmp_path / "ConList.csv"
    bare.write_text("\n".join(OFSI.read_text(encoding="utf-8").splitlines()[1:]), encoding="utf-8")
    assert detect(bare, ReadContext()).name == "ofsi_conlist_csv"
    kyc = tmp_path / "parties.csv"
    kyc.write_text("party_id,party_type,name,group id\nP1,person,Li Yong,7\n", encoding="utf-8")
    assert detect(kyc, ReadContext()).name == "kyc_parties"
    names_only = tmp_path / "names.csv"
    names_only.write_text("Unique ID,Name 6\nX1,Somebody\n", encoding="utf-8")
    assert detect(names_only, ReadContext()) is None or detect(names_only, ReadContext()).name not in (
        "uk_sanctions_list_csv", "ofsi_conlist_csv")
