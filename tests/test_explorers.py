"""Block-explorer exports: every header variant of the reference list is detected and mapped."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from tests.helpers import FX, ingest, quarantine_reasons, rows

pytestmark = pytest.mark.heavy(1.4)  # minutes in all (tests/conftest.py starts it first)

A = "TXpiMfuEDeW6Vv9pVbdnBqTvHs8sWiUWe1"
B = "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8"
USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"


def test_tronscan_trc20_confirmed_loaded_failed_quarantined_and_noted(db, write):
    fx = write("fx.csv", FX)
    f = write(
        "TRON-tokenTransfer-x--1.csv",
        "Tx Hash,blockHeight,blockTime(UTC+8),blockTime(UTC),from,to,value,symbol,tokenAddress,isConfirm\n"
        f"aa11,70000001,2026/03/02 18:00:00,2026/03/02 10:00:00,{A},{B},\"1,500.25\",USDT,{USDT},true\n"
        f"aa12,70000002,2026/03/02 18:01:00,2026/03/02 10:01:00,{A},{B},99,USDT,{USDT},false\n",
    )
    r = ingest(db, fx, f)["TRON-tokenTransfer-x--1.csv"]
    assert (r.source, r.rows_loaded, r.rows_quarantined) == ("tronscan_trc20", 1, 1)
    assert r.notes == ["1 failed/unconfirmed transfer(s) not loaded (quarantined with status reason)"]
    got = rows(db, "SELECT from_account_id, to_account_id, amount, currency, amount_usd, chain, tx_hash, block_number, token_contract, booked_at, channel, rail FROM transactions")
    assert got == [(f"tron:{A}", f"tron:{B}", Decimal("1500.25"), "USDT", Decimal("1500.25"), "tron", "aa11", 70000001, USDT,
                    datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc), "onchain", "crypto")]
    assert quarantine_reasons(db)[2][0].startswith("status: transfer failed or unconfirmed")


def test_rows_refused_after_the_read_keep_their_record(db, write):
    # the reader builds the raw record only for rows it refuses itself; a row refused by validation (a time in the
    # future) gets its record when it is quarantined, read again from the file, as the reader would have written it
    fx = write("fx.csv", FX)
    head = "Tx Hash,blockHeight,blockTime(UTC+8),blockTime(UTC),from,to,value,symbol,tokenAddress,isConfirm\n"
    f = write("TRON-tokenTransfer-later.csv", head
              + f"dd01,70000020,2026/03/03 18:00:00,2026/03/03 10:00:00,{A},{B},10,USDT,{USDT},true\n"
              + f"dd02,70000021,2099/03/03 18:00:00,2099/03/03 10:00:00,{A},{B},\"2,000\",USDT,{USDT},true\n"
              + f"dd03,70000022,2026/03/03 18:00:00,2026/03/03 10:00:00,{A},{B},11,USDT,{USDT},false\n")
    copy = write("TRON-tokenTransfer-later_copy.csv", f.read_text())
    both = ingest(db, fx, f, copy)
    r = both["TRON-tokenTransfer-later.csv"]
    assert (r.rows_loaded, r.rows_quarantined) == (1, 2)
    # the copy, read in the same group and skipped at its commit, reports nothing of its read
    assert both[copy.name].status == "skipped" and both[copy.name].notes == [] and both[copy.name].rows_read == 0
    got = {row_no: (json.loads(raw), reasons) for row_no, raw, reasons in rows(db, "SELECT row_no, raw, reasons FROM quarantine")}
    assert got[2][0]["Tx Hash"] == "dd02" and got[2][0]["value"] == "2,000" and got[2][0]["isConfirm"] == "true"
    assert got[2][1] == ["booked_at: in the future (clock or time zone of the extract wrong?)"]
    assert got[3][0]["Tx Hash"] == "dd03" and got[3][1][0].startswith("status: transfer failed")


def test_exports_with_other_tokens_share_one_load_and_one_check_per_token_set(db, write, monkeypatch):
    # small exports are loaded together (transforms/load_group.py); the known currencies include each file's own
    # token symbols, so files are checked once per set of tokens, whatever their order, and committed in one go;
    # a token of one file is never taken as known for a bank row or another file
    from transforms.validate import BatchValidator

    runs = []
    real = BatchValidator.failures
    monkeypatch.setattr(BatchValidator, "failures", lambda self, *a, **k: (runs.append(a[0]), real(self, *a, **k))[1])
    fx = write("fx.csv", FX)
    head = "Tx Hash,blockHeight,blockTime(UTC+8),blockTime(UTC),from,to,value,symbol,tokenAddress,isConfirm\n"
    files = []
    for i in range(6):  # USDT only, then USDT and WINK, alternating
        body = f"ee{i}0,7000010{i},2026/03/03 18:00:00,2026/03/03 10:00:00,{A},{B},{i + 1},USDT,{USDT},true\n"
        if i % 2:
            body += f"ee{i}1,7000020{i},2026/03/03 18:00:00,2026/03/03 10:00:00,{A},{B},5,WINK,TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7,true\n"
        files.append(write(f"TRON-tokenTransfer-T{i}.csv", head + body))
    runs.clear()
    got = ingest(db, fx, *files)
    assert [got[f.name].rows_loaded for f in files] == [1, 2, 1, 2, 1, 2]
    assert len(runs) == 1 + 2  # the rates file, then one check per token set for the six exports
    assert rows(db, "SELECT currency, count(*), count(amount_usd) FROM transactions GROUP BY 1 ORDER BY 1") == [
        ("USDT", 6, 6), ("WINK", 3, 0)]


def test_same_transfer_in_exports_of_both_addresses_loads_once(db, write):
    fx = write("fx.csv", FX)
    line = f"bb01,70000010,2026/03/03 18:00:00,2026/03/03 10:00:00,{A},{B},10,USDT,{USDT},true\n"
    head = "Tx Hash,blockHeight,blockTime(UTC+8),blockTime(UTC),from,to,value,symbol,tokenAddress,isConfirm\n"
    f1 = write("TRON-tokenTransfer-A.csv", head + line)
    f2 = write("TRON-tokenTransfer-B.csv", head + line.replace(",10,", ",10.000000,"))
    r = ingest(db, fx, f1, f2)
    assert r["TRON-tokenTransfer-A.csv"].rows_loaded == 1
    assert (r["TRON-tokenTransfer-B.csv"].rows_loaded, r["TRON-tokenTransfer-B.csv"].rows_duplicate) == (0, 1)


@pytest.mark.parametrize(
    "name, text, reader, expected",
    [
        (
            "oklink.csv",
            f"Tx Hash,blockHeight,blockTime(UTC),from,to,value,symbol,tokenAddress\ncc01,1,2026-03-04 01:02:03,{A},{B},7,USDT,{USDT}\n",
            "tronscan_trc20",
            (f"tron:{A}", Decimal("7"), "USDT"),
        ),
        (
            "TRON-transaction-x.csv",
            f"Tx Hash,blockHeight,blockTime(UTC+8),blockTime(UTC),from,to,value,symbol,contractType,status\ncc02,1,2026/03/04 09:00:00,2026/03/04 01:00:00,{A},{B},100,TRX,TransferContract,SUCCESS\n",
            "tronscan_transactions",
            (f"tron:{A}", Decimal("100"), "TRX"),
        ),
        (
            "TRON-transaction-old.csv",
            f"Tx Hash,blockHeight,blockTime(UTC+8),blockTime(UTC),from,to,value,fee,status\ncc03,1,2026/03/04 09:00:00,2026/03/04 01:00:00,{A},{B},3,0,SUCCESS\n",
            "tronscan_transactions",
            (f"tron:{A}", Decimal("3"), "TRX"),
        ),
        (
            "erc20.csv",
            '"Transaction Hash","Blockno","UnixTimestamp","DateTime (UTC)","From","To","TokenValue","USDValueDayOfTx","ContractAddress","TokenName","TokenSymbol"\n'
            '"0xABC1","19000000","1772586000","2026-03-04 01:00:00","0xAAaa000000000000000000000000000000000001","0xbbbb000000000000000000000000000000000002","2,500.5","$2,500.50","0xdAC17F958D2ee523a2206206994597C13D831ec7","Tether USD","USDT"\n',
            "etherscan_erc20",
            ("ethereum:0xaaaa000000000000000000000000000000000001", Decimal("2500.5"), "USDT"),
        ),
        (
            "erc20-old.csv",
            '"Txhash","Blockno","UnixTimestamp","DateTime (UTC)","From","To","TokenValue","USDValueDayOfTx","ContractAddress","TokenName","TokenSymbol"\n'
            '"0xabc2","19000000","1772586000","2026-03-04 01:00:00","0xaaaa000000000000000000000000000000000001","0xbbbb000000000000000000000000000000000002","1","$1","0xdac17f958d2ee523a2206206994597c13d831ec7","Tether USD","USDT"\n',
            "etherscan_erc20",
            ("ethereum:0xaaaa000000000000000000000000000000000001", Decimal("1"), "USDT"),
        ),
        (
            "export-token-0xdac17f958d2ee523a2206206994597c13d831ec7.csv",
            '"Transaction Hash","Blockno","UnixTimestamp","DateTime (UTC)","From","To","Quantity","Method"\n'
            '"0xabc3","19000000","1772586000","2026-03-04 01:00:00","0xaaaa000000000000000000000000000000000001","0xbbbb000000000000000000000000000000000002","42","Transfer"\n',
            "etherscan_token_contract",
            ("ethereum:0xaaaa000000000000000000000000000000000001", Decimal("42"), "USDT"),
        ),
        (
            "normal.csv",
            '"Transaction Hash","Blockno","UnixTimestamp","DateTime (UTC)","From","To","ContractAddress","Value_IN(ETH)","Value_OUT(ETH)","CurrentValue @ $3000/Eth","TxnFee(ETH)","TxnFee(USD)","Historical $Price/Eth","Status","ErrCode","Method"\n'
            '"0xabc4","19000000","1772586000","2026-03-04 01:00:00","0xaaaa000000000000000000000000000000000001","0xbbbb000000000000000000000000000000000002","","0","0.5","1500","0.001","3","3000","","","Transfer"\n'
            '"0xabc5","19000000","1772586000","2026-03-04 01:00:00","0xaaaa000000000000000000000000000000000001","0xbbbb000000000000000000000000000000000002","","0","0.7","2100","0.001","3","3000","Error(0)","Out of gas","Transfer"\n',
            "etherscan_normal",
            ("ethereum:0xaaaa000000000000000000000000000000000001", Decimal("0.5"), "ETH"),
        ),
        (
            "internal.csv",
            '"Transaction Hash","Blockno","UnixTimestamp","DateTime (UTC)","ParentTxFrom","ParentTxTo","ParentTxETH_Value","From","TxTo","ContractAddress","Value_IN(ETH)","Value_OUT(ETH)","CurrentValue @ $3000/Eth","Historical $Price/Eth","Status","ErrCode","Type"\n'
            '"0xabc6","19000000","1772586000","2026-03-04 01:00:00","0x1","0x2","0","0xaaaa000000000000000000000000000000000001","0xbbbb000000000000000000000000000000000002","","0.25","0","750","3000","0","","call"\n',
            "etherscan_internal",
            ("ethereum:0xaaaa000000000000000000000000000000000001", Decimal("0.25"), "ETH"),
        ),
    ],
)
def test_header_variants(db, write, name, text, reader, expected):
    fx = write("fx.csv", FX)
    r = ingest(db, fx, write(name, text))[name]
    assert r.source == reader and r.rows_loaded == 1, r
    assert rows(db, "SELECT from_account_id, amount, currency FROM transactions") == [expected]


def test_exports_read_ahead_together_give_each_file_its_own_rows(tmp_path):
    # the ingest lets the reader convert a run of small exports in one select (Reader.read_ahead): each file must
    # get exactly the frame it gets read alone, whatever its header; a file that cannot be read is left to read(),
    # and a file changed after the read-ahead is read again
    from transforms.sources.base import ReadContext
    from transforms.sources.explorers import TronscanTokenTransfers

    both = "Tx Hash,blockHeight,blockTime(UTC+8),blockTime(UTC),from,to,value,symbol,tokenAddress,isConfirm\n"
    utc8 = "Tx Hash,blockHeight,blockTime(UTC+8),from,to,value,symbol,tokenAddress,isConfirm\n"
    texts = [
        both + f"a1,1,2026/03/02 18:00:00,2026/03/02 10:00:00,{A},{B},\"1,500.25\",USDT,{USDT},true\n"
        + f"a2,2,2026/03/02 18:01:00,2026/03/02 10:01:00,{A},{B},99,USDT,{USDT},false\n",
        utc8 + f"b1,3,2026/03/02 19:00:00,{B},{A},7,USDT,{USDT},true\n",
        both + f"c1,4,2026/03/02 18:00:00,2026/03/02 10:00:00,{A},{B},-5,USDT,{USDT},true\n"
        + f"c2,5,2026/03/02 18:00:00,{A},{B},5,USDT,{USDT},true\n"  # a field short
        + f"c3,6,not a time,not a time,,{B},x,,{USDT},true\n",
        both,  # header only: read() refuses it
        utc8 + f"d1,7,2026/03/03 08:00:00,{A},{B},0.000001,USDT,{USDT},true\n",
    ]
    paths = []
    for i, text in enumerate(texts):
        paths.append(tmp_path / f"TRON-tokenTransfer-T{i}.csv")
        paths[-1].write_text(text)
    reader = TronscanTokenTransfers()
    alone = {p: list(reader.read(p, ReadContext())) for p in paths if p != paths[3]}
    ctx = ReadContext()
    reader.read_ahead(paths, ctx)
    assert len(ctx.ahead) == 4
    for p, frames in alone.items():
        ctx.notes = []
        got = list(reader.read(p, ctx))
        assert len(got) == len(frames) == 1 and got[0].equals(frames[0]), p.name
    assert not ctx.ahead  # each file took its own rows
    assert len(alone[paths[0]][0]) == 2 and alone[paths[2]][0]["errors"].list.len().to_list() == [1, 1, 4]

    reader.read_ahead(paths[:2], ctx)
    paths[1].write_text(utc8 + f"e1,8,2026/03/04 19:00:00,{B},{A},8,USDT,{USDT},true\n"
                        + f"e2,9,2026/03/04 19:00:00,{B},{A},9,USDT,{USDT},true\n")
    changed = list(reader.read(paths[1], ctx))
    assert changed[0]["source_txn_id"].to_list() == ["e1", "e2"]


def test_a_folder_is_read_ahead_once_and_not_again_when_stored(db, write, monkeypatch):
    # the ingest hands the reader the run of small exports once; each file is hashed once for it, and a folder
    # ingested again reads nothing ahead (every file is stored already)
    from transforms import ingest as ingest_module
    from transforms.sources.explorers import ExplorerReader

    head = "Tx Hash,blockHeight,blockTime(UTC+8),blockTime(UTC),from,to,value,symbol,tokenAddress,isConfirm\n"
    fx = write("fx.csv", FX)
    files = [write(f"TRON-tokenTransfer-R{i:02d}.csv",
                   head + f"ff{i},7000030{i},2026/03/03 18:00:00,2026/03/03 10:00:00,{A},{B},{i + 1},USDT,{USDT},true\n")
             for i in range(30)]
    hashed, runs = [], []
    real_sha, real_ahead = ingest_module.sha256_file, ExplorerReader.read_ahead
    monkeypatch.setattr(ingest_module, "sha256_file", lambda p: (hashed.append(p), real_sha(p))[1])
    monkeypatch.setattr(ExplorerReader, "read_ahead", lambda self, paths, ctx: (runs.append(len(paths)), real_ahead(self, paths, ctx))[1])
    first = ingest(db, fx, *files)
    assert runs == [30] and len(hashed) == 30
    assert all(first[f.name].rows_loaded == 1 and first[f.name].seconds["read"] > 0 for f in files)
    hashed.clear()
    again = ingest(db, fx, *files)
    assert runs == [30] and len(hashed) == 30  # looked at once, nothing read ahead
    assert all(again[f.name].status == "skipped" for f in files)
