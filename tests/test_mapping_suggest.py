"""`scamtrace mapping suggest`: drafts that read our synthetic banks as their hand-written mappings do, layouts
sniffed from bytes (encodings, CR-only lines, preambles, decimal commas, Chinese direction markers), unsure guesses
marked, and a draft that cannot work yet refused with one line."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from flows.cli import app
from transforms.mapping_suggest import check, suggest, to_yaml
from transforms.sources.base import ReadContext
from transforms.sources.delimited import DelimitedReader

ROOT = Path(__file__).resolve().parents[1]
BANKS = ROOT / "data" / "samples" / "bank"
KEY = ["booked_at", "from_account_id", "to_account_id", "amount", "currency", "channel", "txn_key"]


def _read(path: Path, mapping: Path) -> pl.DataFrame:
    frames = list(DelimitedReader().read(path, ReadContext(mapping_files=[mapping])))
    return pl.concat(frames).filter(pl.col("errors").list.len() == 0).select(KEY).sort(KEY)


@pytest.mark.parametrize("bank", ["andaman_th", "gtcb_la", "luzon_ph", "mekong_kh", "selat_my"])
def test_draft_reads_a_synthetic_bank_as_its_mapping_does(bank, tmp_path):
    hand = yaml.safe_load((BANKS / f"{bank}.mapping.yml").read_text(encoding="utf-8"))
    (extract,) = [p for p in BANKS.glob(f"{bank}_*") if not p.name.endswith(".yml")]
    # what no extract can tell: the bank's code and its clock
    sug = suggest(extract, institution=hand["constants"]["institution"], timezone=hand["timezone"])
    draft = tmp_path / f"{bank}.mapping.yml"
    draft.write_text(to_yaml(sug, extract), encoding="utf-8")
    got, want = _read(extract, draft), _read(extract, BANKS / f"{bank}.mapping.yml")
    assert got.height == want.height > 500
    assert got.equals(want), f"{bank}: draft reads other transactions than the hand-written mapping"
    assert sug.draft["encoding"].replace("-sig", "") == hand["encoding"].replace("-sig", "")


def _bank_like(tmp_path: Path, name: str, text: str, encoding: str, newline: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def test_german_export_with_preamble_cr_only_lines_and_decimal_comma(tmp_path):
    rows = "".join(f'"{d:02d}.03.2026";"{d:02d}.03.2026";"Gutschrift";"Firma {d} GmbH";"Miete";"DE8937040044053201300{d % 10}";'
                   + (f'"{d},50";"";\n' if d % 2 else f'"";"1.{d:03d},00";\n') for d in range(1, 29))
    text = ('"Kontonummer:";"DE12 5001 0517 0648 4898 90 / Girokonto";\n\n"Von:";"01.03.2026";\n"Kontostand vom 28.03.2026:";"1.234,56 EUR";\n\n'
            '"Buchungstag";"Wertstellung";"Buchungstext";"Auftraggeber / Begünstigter";"Verwendungszweck";"Kontonummer";'
            '"Soll (EUR)";"Haben (EUR)";\n' + rows)
    path = _bank_like(tmp_path, "dkb_umsaetze.csv", text, "cp1252", "\r")
    sug = suggest(path)
    d = sug.draft
    assert (d["delimiter"], d["header_row"], d["decimal"], d.get("thousands")) == (";", 6, ",", ".")
    assert d["encoding"] in ("cp1250", "cp1252") and "encoding" in sug.unsure  # the same letters here
    assert d["columns"]["booked_at"] == "Buchungstag" and d["columns"]["value_date"] == "Wertstellung"
    assert (d["columns"]["debit"], d["columns"]["credit"]) == ("Soll (EUR)", "Haben (EUR)")
    assert d["columns"]["counterparty_name"] == "Auftraggeber / Begünstigter"
    assert d["columns"]["counterparty_account"] == "Kontonummer" and d["columns"]["reference"] == "Verwendungszweck"
    assert d["constants"]["account"] == "DE12500105170648489890" and d["constants"]["currency"] == "EUR"
    assert d["datetime_formats"] == ["%d.%m.%Y"]
    assert sug.sniffed.line_ending == "\r"
    result = check(path, to_yaml(sug, path))
    assert result.rows == 28 and result.loaded == 28


def test_chinese_payment_app_export_in_gb18030(tmp_path):
    head = "支付宝交易记录明细查询\n账号:[user@example.com]\n起始日期:[2026-03-01 00:00:00]    终止日期:[2026-03-31 23:59:59]\n" \
           "---------------------------------交易记录明细列表------------------------------------\n"
    cols = "交易号,商家订单号,交易创建时间,付款时间,最近修改时间,交易来源地,类型,交易对方,商品名称,金额（元）,收/支,交易状态,服务费（元）,成功退款（元）,备注,资金状态\n"
    rows = "".join(f"2026031{i:02d}2001,T{i:04d},2026-03-{i % 28 + 1:02d} 1{i % 10}:0{i % 6}:11,2026-03-{i % 28 + 1:02d} 1{i % 10}:0{i % 6}:12,"
                   f"2026-03-{i % 28 + 1:02d} 1{i % 10}:0{i % 6}:13,支付宝网站,即时到账交易,商户{i},商品{i},{i * 7}.{i % 10}0,"
                   f"{'支出' if i % 3 else '收入'},交易成功,0.00,0.00,,已支出\n" for i in range(1, 41))
    tail = "------------------------------------------------------------------------------------\n共40笔记录\n"
    path = _bank_like(tmp_path, "alipay_record_20260331.csv", head + cols + rows + tail, "gb18030", "\r\n")
    sug = suggest(path, account="user@example.com")
    d = sug.draft
    assert d["encoding"] == "gb18030" and d["header_row"] == 5
    assert d["columns"]["txn_id"] == "交易号" and d["columns"]["amount"] == "金额（元）"
    assert d["columns"]["direction"] == "收/支" and d["direction_values"] == {"debit": ["支出"], "credit": ["收入"]}
    assert d["columns"]["counterparty_name"] == "交易对方" and d["constants"]["currency"] == "CNY"
    assert d["timezone"] == "Asia/Shanghai" and "timezone" in sug.unsure
    result = check(path, to_yaml(sug, path))
    assert result.loaded == 40  # the footer lines are not rows


def test_thai_headers_buddhist_years_and_ambiguous_days_are_marked_unsure(tmp_path):
    rows = "".join(f"0{d}/0{m}/2569,{d}:1{m}:00,ถอนเงิน,{d * 100}.00,,1{d}{m}-2-33333-1\n" for d in range(1, 10) for m in range(1, 4))
    path = _bank_like(tmp_path, "stmt.csv", "วันที่,เวลา,รายการ,ถอนเงิน,ฝากเงิน,เลขที่บัญชีปลายทาง\n" + rows, "cp874", "\n")
    sug = suggest(path, account="123-4-56789-0")
    d = sug.draft
    assert d["columns"]["booked_at"] == "วันที่" and d["columns"]["booked_time"] == "เวลา"
    assert (d["columns"]["debit"], d["columns"]["credit"]) == ("ถอนเงิน", "ฝากเงิน")
    assert d["columns"]["counterparty_account"] == "เลขที่บัญชีปลายทาง"
    assert "Buddhist era" in sug.unsure["datetime_formats"]
    assert d["constants"]["currency"] == "THB" and d["timezone"] == "Asia/Bangkok"  # from the Thai script, unsure
    assert "constants.currency" in sug.unsure and "unsure:" in to_yaml(sug, path)


def test_day_month_order_left_open_is_marked(tmp_path):
    rows = "".join(f"0{d}/0{m}/2026,ACC1,{d}{m}.00,EUR\n" for d in range(1, 8) for m in range(1, 8))
    path = _bank_like(tmp_path, "x.csv", "Date,Account Number,Amount,Currency\n" + rows, "utf-8", "\n")
    sug = suggest(path)
    assert "cannot be told apart" in sug.unsure["datetime_formats"]


def test_cli_writes_a_working_draft_and_refuses_one_that_cannot_work(tmp_path):
    extract = next(BANKS.glob("selat_my_*.csv"))
    out = tmp_path / "selat.mapping.yml"
    r = CliRunner().invoke(app, ["mapping", "suggest", str(extract), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "the reader loads" in r.output and out.read_text(encoding="utf-8").startswith("# Drafted by")
    db = tmp_path / "s.duckdb"
    r = CliRunner().invoke(app, ["ingest", str(extract), "--mapping", str(out), "--db", str(db), "-q"])
    assert r.exit_code == 0, r.output

    # no currency anywhere (no column, no symbol, no country hint): the draft is shown, nothing written, one line
    plain = _bank_like(tmp_path, "export.csv", "Date,Account Number,Amount\n" +
                       "".join(f"2026-03-{d:02d},ACC1,-{d}.50\n" for d in range(1, 20)), "utf-8", "\n")
    out2 = tmp_path / "plain.mapping.yml"
    r = CliRunner().invoke(app, ["mapping", "suggest", str(plain), "--out", str(out2)])
    assert r.exit_code == 1 and not out2.exists()
    assert "currency" in r.output and "--currency" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["mapping", "suggest", str(plain), "--currency", "USD", "--out", str(out2)])
    assert r.exit_code == 0 and "loads 19 of the first 19" in r.output


# Real exports from public repositories (tests/fixtures/real_layouts/SOURCES.md): what the draft reads, and the
# options a user has to give because the file does not say (a payment app's account, the currency).
REAL = Path(__file__).parent / "fixtures" / "real_layouts"
LAYOUTS = {
    # file: (options, rows loaded of rows read, expected draft entries)
    "cn_alipay": ({}, (6, 10), {"encoding": "gb18030", "header_row": 25, "columns.amount": "金额", "columns.direction": "收/支",
                                "direction_values": {"debit": ["支出"], "credit": ["收入"]}, "constants.account": "xx@gmail.com"}),
    "cn_wechat": ({"account": "wx_user"}, (16, 27), {"header_row": 17, "columns.amount": "金额(元)", "constants.currency": "CNY"}),
    "cn_icbc": ({}, (11, 13), {"header_row": 7, "columns.debit": "记账金额(支出)", "columns.credit": "记账金额(收入)",
                              "constants.currency": "CNY", "constants.account": "1234****9876"}),
    "de_dkb": ({}, (8, 8), {"delimiter": ";", "decimal": ",", "datetime_formats": ["%d.%m.%y"], "columns.amount": "Betrag (€)",
                           "constants.currency": "EUR"}),
    "de_ing": ({}, (9, 9), {"header_row": 15, "rename_duplicate_columns": True, "columns.value_date": "Wertstellungsdatum",
                           "columns.currency": "Währung"}),
    "jp_mufg": ({"account": "0001234"}, (4, 4), {"encoding": "cp932", "columns.debit": "支払い金額", "columns.credit": "預かり金額",
                                                 "datetime_formats": ["%Y/%m/%d"]}),
    "nl_ing": ({}, (6, 6), {"decimal": ",", "columns.direction": "Af Bij", "datetime_formats": ["%Y%m%d"],
                           "constants.currency": "EUR"}),
    "th_bangkokbank": ({}, (20, 22), {"header_row": 7, "columns.debit": "Debit", "datetime_formats": ["%d %b %Y %H:%M"],
                                     "constants.account": "999-9-499999"}),
    "uk_lloyds": ({"currency": "GBP"}, (12, 12), {"columns.debit": "Debit Amount", "columns.account": "Account Number",
                                                  "datetime_formats": ["%d/%m/%Y"]}),
    "us_fidelity": ({"account": "X2944"}, (9, 9), {"header_row": 3, "columns.amount": "Amount ($)", "datetime_formats": ["%m/%d/%Y"]}),
}


def _entry(draft: dict, key: str):
    for part in key.split("."):
        draft = draft[part]
    return draft


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_draft_reads_a_real_export(name):
    options, (loaded, rows), expected = LAYOUTS[name]
    path = REAL / f"{name}.csv"
    sug = suggest(path, **options)
    got = {k: _entry(sug.draft, k) for k in expected}
    assert got == expected
    result = check(path, to_yaml(sug, path))
    assert (result.loaded, result.rows) == (loaded, rows)


@pytest.mark.parametrize("name, why", [
    ("cn_cmb", "'交易日' is named like it, but its values (e.g. '01/02') do not fit"),  # dates without a year
    ("lt_danske", "columns.booked_at is required"),  # the header has 12 fields, the rows 10: nothing lines up
])
def test_a_real_export_that_cannot_be_drafted_gets_one_line(name, why):
    r = CliRunner().invoke(app, ["mapping", "suggest", str(REAL / f"{name}.csv"), "--account", "1"])
    assert r.exit_code == 1 and why in r.output
    assert r.output.strip().splitlines()[-1].startswith("error:") and "Traceback" not in r.output


@pytest.mark.parametrize("content, why", [
    (bytes(range(256)) * 8, "cannot tell the text encoding"),
    (b"", "empty file"),
    (b"only a title\n", "fewer than two lines"),
])
def test_a_file_that_is_no_table_gets_one_line_naming_it(tmp_path, content, why):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    r = CliRunner().invoke(app, ["mapping", "suggest", str(path)])
    assert r.exit_code == 1 and why in r.output and "export.csv" in r.output
    assert len(r.output.strip().splitlines()) == 1
