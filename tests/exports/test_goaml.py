"""goAML: every written report validates (packaged and reference XSD), a broken one fails, config codes apply."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from lxml import etree

from transforms import store
from exports import export, goaml
from exports.goaml import GoamlConfigError

from .conftest import REFERENCE_GOAML, USDT_CONTRACT


@functools.lru_cache(maxsize=1)
def reference_schema():
    import xmlschema

    return xmlschema.XMLSchema11(str(REFERENCE_GOAML / "goAMLSchema_5.0.1.xsd"))


def goaml_files(out: Path) -> list[Path]:
    return sorted((out / "goaml").glob("*.xml"))


def test_every_report_is_valid_against_packaged_and_reference_schema(exported):
    out, result = exported
    files = goaml_files(out)
    assert len(files) == 4  # three alerts, one network
    assert result["goaml"]["invalid"] == [] and len(result["goaml"]["valid"]) == 4 and result["goaml"]["skipped"] == []
    assert not (out / "goaml" / "invalid").exists()
    schema = goaml.load_schema()
    for f in files:
        schema.validate(str(f))  # raises on the first error
        reference_schema().validate(str(f))


def test_packaged_schema_is_the_reference_copy():
    for name in ("goAMLSchema_5.0.1.xsd", "goAMLReportDataSchema.xsd"):
        assert (goaml.PACKAGE_XSD.parent / name).read_bytes() == (REFERENCE_GOAML / name).read_bytes()


def test_a_broken_report_fails_validation(exported, tmp_path):
    out, _ = exported
    good = out / "goaml" / "alert_AL-mule.xml"
    assert goaml.validate_file(good) == []
    doc = etree.parse(str(good))
    root = doc.getroot()
    root.remove(root.find("rentity_id"))  # required header element
    broken = tmp_path / "missing_header.xml"
    doc.write(str(broken))
    assert goaml.validate_file(broken)
    doc = etree.parse(str(good))
    doc.getroot().find("transaction/transmode_code").text = "NOT-A-CODE"  # outside the code list
    bad_code = tmp_path / "bad_code.xml"
    doc.write(str(bad_code))
    errors = goaml.validate_file(bad_code)
    assert errors and any("transmode_code" in e for e in errors)


def test_report_content_header_accounts_parties_and_virtual_assets(exported):
    out, _ = exported
    net = etree.parse(str(out / "goaml" / "network_NW-1.xml")).getroot()
    assert net.findtext("report_code") == "STR" and net.findtext("entity_reference") == "scamtrace-NW-1"
    assert net.findtext("reporting_person/last_name") == "Officer"
    txs = {t.findtext("internal_ref_number"): t for t in net.findall("transaction")}
    assert set(txs) == {"T1", "T2", "T3", "T4", "T5"}
    t3 = txs["T3"]
    assert t3.findtext("t_from/from_account/account") == "333"
    assert t3.findtext("t_from/from_account/swift") == "KASITHBK"
    assert t3.findtext("t_to/to_account/t_entity/incorporation_number") == "KH-0099"
    assert t3.findtext("t_to/to_country") == "KH" and t3.findtext("t_from/from_country") == "TH"
    assert t3.findtext("t_from/from_account/signatory/t_person/last_name") == "Jaidee"
    assert "/landing/kbank_th_2024-03.csv row 3" in t3.findtext("transaction_description")
    t1 = txs["T1"]  # THB with a USD local currency: converted with fx_rates, THB kept as the foreign amount
    assert t1.findtext("amount_local") == "1400"
    assert t1.findtext("t_from/from_foreign_currency/foreign_currency_code") == "THB"
    t5 = txs["T5"]  # TRON USDT
    info = t5.find("t_from/from_transaction_additional_info")
    assert info.findtext("virtual_address") == "TKHconsolWallet111111111111111111"
    assert info.findtext("block_number") == "61234567"
    assert info.findtext("network_device/ip_address/ipv4") == "103.2.3.4"
    assert t5.findtext("t_to/to_account/non_bank_institution") == "true"
    assert t5.find("t_from/from_foreign_currency") is None  # USDT has no ISO code in the schema
    assert USDT_CONTRACT in t5.findtext("comments")
    extra = [i.findtext("info_text") for i in net.findall("additional_information/additional_info")]
    assert any("tx_hash=" + "9f" * 32 in x and "token=USDT" in x for x in extra)
    assert [i.text for i in net.findall("report_indicators/indicator")] == ["-"]
    assert "KK Park" in net.findtext("reason") or "KKPARK" in net.findtext("reason")


def test_alert_without_transactions_becomes_an_activity_report(exported):
    out, _ = exported
    root = etree.parse(str(out / "goaml" / "alert_AL-shared.xml")).getroot()
    assert root.find("transaction") is None
    party = root.find("activity/report_parties/report_party")
    assert party.findtext("person/last_name") == "伟" and party.findtext("person/full_name_frn") == "王 伟"
    assert party.findtext("reason") == "phone shared by 3 parties" and party.findtext("is_suspected") == "true"


def test_libxml2_and_xmlschema_agree(exported, tmp_path):
    out, _ = exported
    good = out / "goaml" / "network_NW-1.xml"
    doc = etree.parse(str(good))
    doc.getroot().find("transaction/t_to/to_country").text = "XX"
    bad = tmp_path / "bad_country.xml"
    doc.write(str(bad), encoding="UTF-8")
    fast = goaml.load_fast_schema(None)
    assert fast is not None  # the packaged schema has no XSD 1.1-only construct
    for path, ok in ((good, True), (bad, False)):
        assert fast.validate(etree.parse(str(path))) is ok
        assert (goaml.validate_file(path, validator="xmlschema") == []) is ok
        assert (goaml.validate_file(path) == []) is ok


def test_hostile_text_is_escaped_and_cut_to_schema_lengths():
    b = goaml.Builder(goaml.load_config())
    root = etree.Element("x")
    node = b.el(root, "first_name", "A" * 1000 + "\x01")
    assert len(node.text) == 100 and "\x01" not in node.text
    assert b.el(root, "last_name", "", required=True).text == "-"
    assert b.el(root, "middle_name", None) is None
    assert b.country("zz") == "-" and b.country("th") == "TH"


def test_config_codes_are_applied_and_checked(store_path, tmp_path):
    cfg = tmp_path / "fiu.yml"
    cfg.write_text(
        "report:\n  rentity_id: 4711\n  rentity_branch: Phnom Penh\n  currency_code_local: THB\n"
        "codes:\n  transmode: {default: A, onchain: AB}\n  funds: {default: K}\n"
        "  indicators: {default: ['-'], off_ramp: ['-']}\n",
        encoding="utf-8")
    con = store.connect(store_path, read_only=True)
    try:
        result = export(con, tmp_path / "out", formats="goaml", goaml_config=cfg, full=False)
    finally:
        con.close()
    assert result["goaml"]["invalid"] == [] and len(result["goaml"]["valid"]) == 3
    root = etree.parse(str(tmp_path / "out" / "goaml" / "alert_AL-mule.xml")).getroot()
    assert root.findtext("rentity_id") == "4711" and root.findtext("currency_code_local") == "THB"
    tx = {t.findtext("internal_ref_number"): t for t in root.findall("transaction")}
    assert tx["T1"].findtext("transmode_code") == "A" and tx["T1"].findtext("t_from/from_funds_code") == "K"
    assert tx["T1"].findtext("amount_local") == "50000"  # local THB: the THB amount itself
    assert tx["T3"].findtext("amount_local") == "78571.43"  # USD 2200 / 0.028
    other = etree.parse(str(tmp_path / "out" / "goaml" / "alert_AL-_etc_passwd_1a7c4681.xml")).getroot()
    t5 = [t for t in other.findall("transaction") if t.findtext("internal_ref_number") == "T5"][0]
    assert t5.findtext("transmode_code") == "AB"


def test_bad_config_names_the_key(tmp_path):
    cfg = tmp_path / "bad.yml"
    cfg.write_text("codes:\n  transmode: {wire: WIRE}\nreport: {report_code: XYZ}\n", encoding="utf-8")
    with pytest.raises(GoamlConfigError) as exc:
        goaml.load_config(cfg)
    text = str(exc.value)
    assert "codes.transmode.wire: 'WIRE'" in text and "report.report_code: 'XYZ'" in text and str(cfg) in text


def test_target_version_50_leaves_out_newer_elements(store_path, tmp_path):
    cfg = tmp_path / "v50.yml"
    cfg.write_text('target_version: "5.0"\n', encoding="utf-8")
    con = store.connect(store_path, read_only=True)
    try:
        result = export(con, tmp_path / "out", formats="goaml", goaml_config=cfg)
    finally:
        con.close()
    assert result["goaml"]["invalid"] == []
    text = (tmp_path / "out" / "goaml" / "network_NW-1.xml").read_text(encoding="utf-8")
    for tag in ("virtual_address", "transaction_is_suspicious", "institution_country", "additional_information",
                "full_name_frn"):
        assert f"<{tag}>" not in text, tag
    assert "tx_hash " + "9f" * 32 in text  # the crypto facts stay in the comments


def test_invalid_report_is_set_aside_not_left_for_submission(store_path, tmp_path):
    # An FIU schema that requires fiu_ref_number (which we never write) makes every report invalid.
    xsd = goaml.PACKAGE_XSD.read_text(encoding="utf-8")
    needle = '<xs:element name="fiu_ref_number" minOccurs="0">'
    assert needle in xsd
    (tmp_path / "fiu.xsd").write_text(xsd.replace(needle, '<xs:element name="fiu_ref_number">'), encoding="utf-8")
    cfg = tmp_path / "fiu.yml"
    cfg.write_text("schema: fiu.xsd\n", encoding="utf-8")
    con = store.connect(store_path, read_only=True)
    try:
        result = export(con, tmp_path / "out", formats="goaml", goaml_config=cfg, full=False)
    finally:
        con.close()
    out = tmp_path / "out"
    assert result["goaml"]["schema"] == str((tmp_path / "fiu.xsd").resolve())
    assert result["goaml"]["valid"] == [] and len(result["goaml"]["invalid"]) == 3
    assert list((out / "goaml").glob("*.xml")) == []
    bad = sorted((out / "goaml" / "invalid").glob("*.xml"))
    assert len(bad) == 3
    for b in bad:
        assert "fiu_ref_number" in b.with_suffix(".errors.txt").read_text(encoding="utf-8")
    from exports import verify

    assert verify(out) == []


def test_max_transactions_keeps_the_largest_and_says_so(store_path, tmp_path):
    cfg = tmp_path / "cap.yml"
    cfg.write_text("max_transactions: 2\n", encoding="utf-8")
    con = store.connect(store_path, read_only=True)
    try:
        result = export(con, tmp_path / "out", formats="goaml", goaml_config=cfg)
    finally:
        con.close()
    assert result["goaml"]["invalid"] == []
    root = etree.parse(str(tmp_path / "out" / "goaml" / "network_NW-1.xml")).getroot()
    assert [t.findtext("internal_ref_number") for t in root.findall("transaction")] == ["T3", "T4"]
    assert root.findtext("reason").startswith("This report holds the 2 largest of 5 evidence transactions")


def test_validation_in_memory_agrees_with_the_written_file(exported, tmp_path):
    """write_batch validates the built tree instead of parsing the file again: same verdict, same errors."""
    out, _ = exported
    good = out / "goaml" / "network_NW-1.xml"
    cases = {"good": lambda r: None,
             "missing_header": lambda r: r.remove(r.find("rentity_id")),
             "bad_code": lambda r: setattr(r.find("transaction/transmode_code"), "text", "NOT-A-CODE"),
             "control_text": lambda r: setattr(r.find("transaction/comments"), "text", "line\r\nnext\ttab <&>")}
    for name, change in cases.items():
        root = etree.parse(str(good)).getroot()
        change(root)
        path = tmp_path / f"{name}.xml"
        path.write_bytes(goaml.to_bytes(root))
        from_file = goaml.validate_file(path)
        assert goaml.validate_tree(root, path) == from_file, name
        assert (from_file == []) is (name in ("good", "control_text")), name


def test_every_goaml_file_is_fsynced_before_the_manifest(store_path, tmp_path, monkeypatch):
    """Reports are written without a per-file fsync and synced per batch: each one must still be synced, and
    before the manifest is written."""
    import os

    from exports import safe

    order: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        order.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real_fsync(fd)

    monkeypatch.setattr(safe.os, "fsync", recording_fsync)
    con = store.connect(store_path, read_only=True)
    try:
        export(con, tmp_path / "out", full=False)
    finally:
        con.close()
    reports = sorted(str(p.resolve()) for p in (tmp_path / "out" / "goaml").glob("*.xml"))
    assert reports
    synced = {p: i for i, p in enumerate(order)}
    manifest_tmp = [i for i, p in enumerate(order) if os.path.basename(p).startswith(".manifest.json.")]
    assert manifest_tmp, "the manifest is written through safe.atomic_write"
    for report in reports:
        assert report in synced, f"{report} was never fsynced"
        assert synced[report] < manifest_tmp[0]


@pytest.mark.parametrize("cap", [1, 2])
def test_capped_evidence_gives_the_report_the_whole_evidence_gives(store_path, tmp_path, cap):
    """Reports of alerts with more evidence than max_transactions are built from the rows of their largest
    transactions plus facts about the rest (tables.capped_evidence): byte for byte the report that all the
    rows give."""
    import re

    from exports import goaml_files as G
    from exports import tables as T

    cfg = tmp_path / "cap.yml"
    cfg.write_text(f"max_transactions: {cap}\n", encoding="utf-8")
    con = store.connect(store_path, read_only=True)
    try:
        writer = goaml.GoamlWriter(con, goaml.load_config(cfg), preload=False)
        sel = T.with_evidence(con, T.select(con, T.Filters.make()))
        alerts = T.frame(con, T.alerts_query(sel)).rows
        full = T.frame(con, T.alert_transactions_query(sel)).rows
        capped, facts = T.capped_evidence(con, sel, 0, len(alerts), cap)
        assert facts and len(capped) < len(full)
        stamp = re.compile(rb"<submission_date>[^<]*</submission_date>")

        def report(alert, evidence, fact=None):
            mine = [e for e in evidence if e["alert_id"] == alert["alert_id"]]
            G.scope(writer, mine, [(alert["subject_type"], alert["subject_id"])])
            return stamp.sub(b"", goaml.to_bytes(goaml.alert_document(writer, alert, mine, fact)))

        for a in alerts:
            if any(e["alert_id"] == a["alert_id"] for e in full):
                assert report(a, capped, facts.get(a["alert_id"])) == report(a, full), a["alert_id"]
    finally:
        con.close()
