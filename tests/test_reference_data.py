"""KYC parties and accounts, events, FX rates and the compound registry (docs/layouts.md)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from tests.helpers import ingest, quarantine_reasons, rows


def test_parties_accounts_events_load_with_canonical_ids(db, write):
    parties = write(
        "parties.csv",
        "party_id,party_type,name,birth_date,nationality,phone,email,country\n"
        "P1,person,Aung Kyaw,1990-05-01,mm,+95 9 700 111,AK@Example.org,MM\n"
        "P2,legal,Golden Sun Trading Co Ltd,,,,,KH\n"
        "P3,alien,Nobody,,,,,\n",
    )
    accounts = write(
        "accounts.csv",
        "rail,account,institution,chain,holder_id,opened_at,country,kind,label\n"
        "bank,123-456-789,kasithbk,,P1,2026-01-05T09:00:00+07:00,TH,customer,\n"
        "crypto,TXpiMfuEDeW6Vv9pVbdnBqTvHs8sWiUWe1,,tron,P2,,KH,otc_desk,\n"
        "crypto,0xAbC0000000000000000000000000000000000001,Binance,ethereum,,,,exchange_hot_wallet,Binance\n"
        "crypto,Tmissingchain,,,,,,,\n",
    )
    events = write(
        "events.csv",
        "event_id,occurred_at,kind,institution,account,party_id,ip,device_id,phone,lat,lon\n"
        "E1,2026-01-05 02:00:00,account_opening,KASITHBK,123-456-789,P1,203.0.113.7,dev-1,+959700111,16.64,98.51\n"
        "E2,2026-01-06 02:00:00,login,KASITHBK,123-456-789,P1,203.0.113.8,dev-1,,north,98.5\n",
    )
    r = ingest(db, parties, accounts, events)
    assert (r["parties.csv"].rows_loaded, r["parties.csv"].rows_quarantined) == (2, 1)
    assert (r["accounts.csv"].rows_loaded, r["accounts.csv"].rows_quarantined) == (3, 1)
    assert (r["events.csv"].rows_loaded, r["events.csv"].rows_quarantined) == (1, 1)
    assert rows(db, "SELECT party_id, phone, email, nationality FROM parties ORDER BY party_id")[0] == ("P1", "+959700111", "ak@example.org", "MM")
    accts = rows(db, "SELECT account_id, rail, institution, opened_at, kind FROM accounts ORDER BY row_no")
    assert accts == [
        ("KASITHBK:123456789", "bank", "KASITHBK", datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc), "customer"),
        ("tron:TXpiMfuEDeW6Vv9pVbdnBqTvHs8sWiUWe1", "crypto", None, None, "otc_desk"),
        ("ethereum:0xabc0000000000000000000000000000000000001", "crypto", "BINANCE", None, "exchange_hot_wallet"),
    ]
    assert rows(db, "SELECT account_id, ip, lat FROM events") == [("KASITHBK:123456789", "203.0.113.7", 16.64)]
    q = rows(db, "SELECT target_table, reasons FROM quarantine ORDER BY target_table")
    assert q == [
        ("accounts", ["chain: required for a crypto account"]),
        ("events", ["lat: not a number: 'north'"]),
        ("parties", ["party_type: must be person or legal"]),
    ]


def test_reference_rows_are_replaced_when_changed_and_duplicates_when_not(db, write):
    a1 = write("accounts.csv", "rail,account,institution,kind\nbank,1,BANKA,customer\nbank,2,BANKA,customer\n")
    ingest(db, a1)
    a2 = write("accounts2.csv", "rail,account,institution,kind\nbank,1,BANKA,customer\nbank,2,BANKA,merchant\n")
    r = ingest(db, a2)["accounts2.csv"]
    assert (r.rows_loaded, r.rows_duplicate) == (1, 1)
    assert rows(db, "SELECT account_id, kind FROM accounts ORDER BY account_id") == [("BANKA:1", "customer"), ("BANKA:2", "merchant")]


def test_fx_rates_and_compound_registry(db, write):
    fx = write("fx.csv", "date,currency,usd_per_unit\n2026-03-01,thb,0.028\n2026-03-01,MMK,-1\n")
    reg = write(
        "compounds.yml",
        "compounds:\n"
        "  - id: kk_park\n    name: KK Park\n    country: mm\n    lat: 16.64\n    lon: 98.51\n    radius_km: 3\n"
        "    ip_cidrs: [203.0.113.0/24]\n    wallets: ['tron:TXpiMfuEDeW6Vv9pVbdnBqTvHs8sWiUWe1']\n    confidence: 0.8\n"
        "  - id: nowhere\n    name: Nowhere\n    lat: 91\n    colour: red\n",
    )
    r = ingest(db, fx, reg)
    assert (r["fx.csv"].rows_loaded, r["fx.csv"].rows_quarantined) == (1, 1)
    assert rows(db, "SELECT rate_date, currency, usd_per_unit FROM fx_rates") == [(date(2026, 3, 1), "THB", Decimal("0.028"))]
    assert rows(db, "SELECT compound_id, country, ip_cidrs, wallets FROM compounds") == [
        ("kk_park", "MM", ["203.0.113.0/24"], ["tron:TXpiMfuEDeW6Vv9pVbdnBqTvHs8sWiUWe1"])
    ]
    reasons = quarantine_reasons(db)
    assert reasons[2] == ["usd_per_unit: must be greater than zero"]
    assert rows(db, "SELECT reasons FROM quarantine WHERE target_table = 'compounds'")[0][0][0].startswith("fields: unknown ['colour']")
