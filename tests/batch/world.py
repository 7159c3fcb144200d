"""A small two-day landing world for batch tests: a mule collecting from many victims across midnight,
passing the money on to a consolidator, which off-ramps to an OTC desk."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

MAPPING = """name: testbank
files: ["testbank_*.csv"]
timezone: Asia/Bangkok
datetime_formats: ["%Y-%m-%d %H:%M:%S"]
constants: {institution: TESTBK, country: TH, currency: THB}
columns: {txn_id: ref, booked_at: booked, account: account, counterparty_account: counterparty, counterparty_name: name, amount: amount}
"""

DAY1 = datetime(2026, 3, 10)
DAY2 = DAY1 + timedelta(days=1)


def _rows(day: datetime, first: int, n: int, start_hour: int) -> list[str]:
    rows = []
    for i in range(first, first + n):
        t = day + timedelta(hours=start_hour, minutes=7 * (i - first))
        rows.append(f"V{i},{t:%Y-%m-%d %H:%M:%S},MULE01,VICTIM{i:02d},Victim {i},{4000 + 137 * i}")
    return rows


def write_reference(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "testbank.mapping.yml").write_text(MAPPING)
    (folder / "fx_rates.csv").write_text(
        "date,currency,usd_per_unit\n" + "".join(f"2026-03-{d:02d},THB,0.028\n" for d in range(1, 20))
    )
    (folder / "accounts.csv").write_text(
        "rail,account,institution,holder_id,opened_at,country,kind\n"
        "bank,MULE01,TESTBK,P1,2026-03-01 02:00:00,TH,customer\n"
        "bank,CONS01,TESTBK,P2,2026-02-20 02:00:00,TH,customer\n"
        "bank,OTC01,TESTBK,P3,2024-01-01 00:00:00,TH,otc_desk\n"
    )


def write_day(folder: Path, day: int) -> Path:
    """Day 1: 7 victims pay from 18:00; day 2: 7 more before 02:00, then the mule passes 95 % on."""
    folder.mkdir(parents=True, exist_ok=True)
    if day == 1:
        rows = _rows(DAY1, 1, 7, 18)
    else:
        rows = _rows(DAY2, 8, 7, 0)
        total = sum(4000 + 137 * i for i in range(1, 15))
        t = DAY2 + timedelta(hours=3)
        rows.append(f"O1,{t:%Y-%m-%d %H:%M:%S},MULE01,CONS01,Consolidator,-{round(total * 0.95)}")
        rows.append(f"O2,{t + timedelta(hours=2):%Y-%m-%d %H:%M:%S},CONS01,OTC01,OTC desk,-{round(total * 0.93)}")
    path = folder / f"testbank_day{day}.csv"
    path.write_text("ref,booked,account,counterparty,name,amount\n" + "\n".join(rows) + "\n")
    return path
