"""One writer per extract format. Every row a writer emits is reported back as (file, row_no, source_txn_id,
txn_key), so that truth labels name exactly what the readers will load.

Keys follow transforms/ids.py: a bank row keys on its UETR, else its end-to-end id, else institution + native id;
a crypto transfer keys on chain, hash, endpoints, token and canonical amount.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from worlds.synth.model import MICRO, Account, Party, Tx
from worlds.synth.world import USDT_ETH, USDT_TRON, BankSpec

UTC = timezone.utc
MAX_OPEN = 200


def fmt_amount(micro: int, decimals: int, dec: str = ".", thousands: str = "") -> str:
    neg = micro < 0
    micro = abs(micro)
    units, frac = divmod(micro, MICRO)
    s = f"{units:,}".replace(",", thousands) if thousands else str(units)
    if decimals:
        s += dec + f"{frac:06d}"[:decimals]
    return ("-" if neg else "") + s


def canonical(micro: int) -> str:
    units, frac = divmod(micro, MICRO)
    if not frac:
        return str(units)
    return f"{units}.{frac:06d}".rstrip("0")


def iso_local(ts: int, offset: int) -> str:
    tz = timezone(timedelta(seconds=offset))
    return datetime.fromtimestamp(ts, tz).isoformat()


class Files:
    """Append-mode text files with a bounded number of open handles; counts data rows per file."""

    def __init__(self, root: Path):
        self.root = root
        self.open: dict[str, tuple[object, csv.writer]] = {}
        self.rows: dict[str, int] = {}
        self.started: dict[str, tuple] = {}
        self.footers: dict[str, str] = {}

    def writer(self, rel: str, header: list[str], encoding: str = "utf-8", delimiter: str = ",",
               quoting: int = csv.QUOTE_MINIMAL):
        h = self.open.get(rel)
        if h is not None:
            return h
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if len(self.open) >= MAX_OPEN:
            first = next(iter(self.open))
            self.close_one(first)
        new = rel not in self.started
        if new:
            fh = open(path, "w", encoding=encoding, newline="")
            self.started[rel] = (encoding, delimiter, quoting)
            self.rows[rel] = 0
        else:
            enc = "utf-8" if encoding in ("utf-8-sig",) else encoding
            if enc == "utf-16":
                enc = "utf-16-le"  # the BOM is already at the start of the file
            fh = open(path, "a", encoding=enc, newline="")
        w = csv.writer(fh, delimiter=delimiter, quoting=quoting, lineterminator="\r\n" if delimiter == ";" else "\n")
        if new:
            w.writerow(header)
        self.open[rel] = (fh, w)
        return self.open[rel]

    def row(self, rel: str, header: list[str], values: list, **kw) -> int:
        fh, w = self.writer(rel, header, **kw)
        w.writerow(values)
        self.rows[rel] += 1
        return self.rows[rel]

    def raw_line(self, rel: str, header: list[str], line: str, **kw) -> int:
        fh, w = self.writer(rel, header, **kw)
        fh.write(line)
        self.rows[rel] += 1
        return self.rows[rel]

    def text(self, rel: str, head: str, footer: str = ""):
        """A plain text file (XML, MT940): its handle, writing `head` when new; `footer` is written at close()."""
        h = self.open.get(rel)
        if h is not None:
            return h[0]
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if len(self.open) >= MAX_OPEN:
            self.close_one(next(iter(self.open)))
        if rel not in self.started:
            fh = open(path, "w", encoding="utf-8", newline="")
            fh.write(head)
            self.started[rel] = ("utf-8", "", 0)
            self.rows[rel] = 0
            if footer:
                self.footers[rel] = footer
        else:
            fh = open(path, "a", encoding="utf-8", newline="")
        self.open[rel] = (fh, None)
        return fh

    footers: dict

    def close_one(self, rel: str) -> None:
        fh, _ = self.open.pop(rel)
        fh.close()

    def close(self) -> None:
        for rel, footer in self.footers.items():
            self.text(rel, "").write(footer)
        for rel in list(self.open):
            self.close_one(rel)


# --------------------------------------------------------------------------------------------------- banks


def mapping_doc(bank: BankSpec) -> dict:
    formats = bank.polars_formats()
    if "value_date" in bank.columns:
        formats = formats + ["%Y-%m-%d"]
    doc = {
        "name": bank.key,
        "description": f"{bank.name} ({bank.country}) account statement extract; synthetic",
        "files": [f"{bank.key}_*.{bank.ext}"],
        "delimiter": "\\t" if bank.delimiter == "\t" else bank.delimiter,
        "encoding": bank.encoding,
        "decimal": bank.decimal,
        "thousands": bank.thousands,
        "timezone": bank.tz_name,
        "datetime_formats": formats,
        "constants": {"institution": bank.code, "country": bank.country},
        "columns": dict(bank.columns),
        "channel_values": {code: ch for ch, code in bank.channel_codes.items()},
    }
    if len(bank.currencies) == 1 and "currency" not in bank.columns:
        doc["constants"]["currency"] = bank.currencies[0]
    if bank.amount_style == "direction":
        doc["direction_values"] = {"debit": [bank.direction_codes[0]], "credit": [bank.direction_codes[1]]}
    if not bank.thousands:
        doc.pop("thousands")
    return doc


class BankWriter:
    def __init__(self, files: Files, bank: BankSpec, monthly: bool = False, span: str = ""):
        self.files = files
        self.monthly = monthly
        self.span = span
        self.bank = bank
        self.header = list(bank.columns.values())
        self.seq = 0
        self._safe: dict[str, str] = {}
        self._days: dict = {}

    def safe(self, text: str, latin: str) -> str:
        hit = self._safe.get(text)
        if hit is None:
            try:
                text.encode(self.bank.encoding)
                hit = text
            except UnicodeEncodeError:
                hit = latin
            if len(self._safe) < 200_000:
                self._safe[text] = hit
        return hit

    def when(self, ts: int) -> tuple[datetime, str, str, str]:
        """Local time of ts: (datetime, formatted booked_at, time column, month), formatting cached per day."""
        local_ts = ts + self.bank.tz_offset
        day, sec = divmod(local_ts, 86400)
        hit = self._days.get(day)
        if hit is None:
            d0 = datetime.fromtimestamp(day * 86400, UTC).replace(tzinfo=None)
            b = self.bank
            fmt = b.date_fmt
            # formats with a time part are rendered by substituting the clock into a template
            tmpl = d0.strftime(fmt.replace("%H", "{H}").replace("%M", "{M}").replace("%S", "{S}"))
            hit = (d0, tmpl, d0.strftime("%Y-%m"), d0.strftime("%Y-%m-%d"))
            self._days = {day: hit} if len(self._days) > 4 else {**self._days, day: hit}
        h, rem = divmod(sec, 3600)
        m, s_ = divmod(rem, 60)
        clock = {"H": f"{h:02d}", "M": f"{m:02d}", "S": f"{s_:02d}"}
        booked = hit[1].format(**clock) if "{" in hit[1] else hit[1]
        tcol = self.bank.time_fmt.replace("%H", clock["H"]).replace("%M", clock["M"]).replace("%S", clock["S"])
        return hit[0], booked, tcol, hit[2], hit[3]

    def entry(self, tx: Tx, own: Account, cp: Account | None, debit: bool, amount: int) -> tuple[str, int, str, str]:
        b = self.bank
        self.seq += 1
        native = f"{b.native_prefix}{self.seq:010d}"
        _, booked, tcol, month, iso_day = self.when(tx.ts)
        if tx.bad == "future_date":
            booked = "2062" + booked[4:] if booked[:4].isdigit() else booked.replace(month[:4], "2062", 1)
        rel = f"bank/{b.key}_{month if self.monthly else self.span}.{b.ext}"
        cols = b.columns
        v: dict[str, str] = {}
        v["txn_id"] = native
        v["booked_at"] = booked
        if b.time_fmt:
            v["booked_time"] = tcol
        v["value_date"] = iso_day
        v["account"] = own.number
        v["account_name"] = self.safe(own.name, own.latin_name)
        amt = fmt_amount(amount, own.decimals, b.decimal, b.thousands)
        if b.amount_style == "signed":
            v["amount"] = ("-" + amt) if debit else amt
        elif b.amount_style == "direction":
            v["amount"] = amt
            v["direction"] = b.direction_codes[0] if debit else b.direction_codes[1]
        else:
            zero = "" if b.country == "TH" else fmt_amount(0, own.decimals, b.decimal, b.thousands)
            v["debit"] = amt if debit else zero
            v["credit"] = zero if debit else amt
            if tx.bad == "both_sides":
                v["credit"] = amt
        if tx.bad == "bad_amount":
            key = "amount" if "amount" in v else ("debit" if debit else "credit")
            v[key] = v[key].replace("0", "O", 1) if "0" in v[key] else v[key] + "O"
        v["currency"] = "UDS" if tx.bad == "bad_currency" else own.currency
        if cp is not None:
            v["counterparty_account"] = cp.number
            v["counterparty_institution"] = "" if cp.institution == own.institution else cp.institution
            v["counterparty_name"] = self.safe(cp.name, cp.latin_name)
            v["counterparty_country"] = cp.country
        v["channel"] = b.channel_codes.get(tx.channel, tx.channel)
        v["reference"] = self.safe(tx.ref, tx.ref.encode("ascii", "replace").decode())
        if b.e2e:
            v["end_to_end_id"] = tx.e2e
        if b.uetr:
            v["uetr"] = tx.uetr
        values = [v.get(k, "") for k in cols]
        kw = dict(encoding=b.encoding, delimiter=b.delimiter)
        if tx.bad == "extra_field":
            line = b.delimiter.join(values[:3] + ["SPLIT"] + values[3:]) + "\n"
            row = self.files.raw_line(rel, self.header, line, **kw)
        else:
            row = self.files.row(rel, self.header, values, **kw)
        if b.uetr and tx.uetr:
            key = "uetr|" + tx.uetr.lower()
        elif b.e2e and tx.e2e:
            key = "e2e|" + tx.e2e
        else:
            key = f"id|{b.code}|{native}"
        return rel, row, native, key


# --------------------------------------------------------------------------------------------------- statements


class StatementWriter:
    """Base of camt.053 and MT940 writers: a day's entries are grouped into one statement per account."""

    def __init__(self, files: Files, bank: BankSpec, span: str):
        self.files = files
        self.bank = bank
        self.span = span
        self.seq = 0
        self.day: dict[str, list] = {}
        self.accts: dict[str, Account] = {}
        self.balance: dict[str, int] = {}
        self.n_stmt = 0

    def entry(self, tx: Tx, own: Account, cp: Account | None, debit: bool, amount: int) -> tuple[str, int, str, str]:
        b = self.bank
        self.seq += 1
        native = f"{b.native_prefix}{self.seq:010d}"
        self.day.setdefault(own.acct_id, []).append((tx, cp, debit, amount, native))
        self.accts[own.acct_id] = own
        self.files.rows[self.rel] = self.files.rows.get(self.rel, 0) + 1
        if b.uetr and tx.uetr and self.keeps_uetr:
            key = "uetr|" + tx.uetr.lower()
        elif b.e2e and tx.e2e:
            key = "e2e|" + tx.e2e
        else:
            key = f"id|{own.acct_id}|{native}"
        return self.rel, 0, native, key

    keeps_uetr = True

    def end_day(self, date_str: str) -> None:
        if not self.day:
            return
        for acct_id, entries in self.day.items():
            self.n_stmt += 1
            self.statement(self.accts[acct_id], entries, date_str)
        self.day = {}
        self.accts = {}


def _x(text: str) -> str:
    from xml.sax.saxutils import escape

    return escape(text or "")


BTC = {  # canonical channel -> ISO bank transaction code (domain, family, sub-family)
    "transfer": ("PMNT", "ICDT", "DMCT"), "wire": ("PMNT", "ICDT", "XBCT"), "ewallet": ("PMNT", "ICDT", "DMCT"),
    "card": ("PMNT", "CCRD", "POSD"), "cash_deposit": ("CAMT", "CNTR", "CDPT"),
    "cash_withdrawal": ("CAMT", "CNTR", "CWDL"),
}


class Camt053Writer(StatementWriter):
    NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"

    def __init__(self, files: Files, bank: BankSpec, span: str):
        super().__init__(files, bank, span)
        self.rel = f"bank/{bank.key}_{span}.camt053.xml"
        self.head = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{self.NS}">\n<BkToCstmrStmt>\n'
                     f"<GrpHdr><MsgId>{bank.code}-{span}</MsgId><CreDtTm>{span[-8:-4]}-{span[-4:-2]}-{span[-2:]}"
                     "T06:00:00</CreDtTm></GrpHdr>\n")

    def statement(self, own: Account, entries: list, date_str: str) -> None:
        b = self.bank
        fh = self.files.text(self.rel, self.head, "</BkToCstmrStmt>\n</Document>\n")
        tz = f"+{b.tz_offset // 3600:02d}:{b.tz_offset % 3600 // 60:02d}"
        out = [f"<Stmt><Id>{b.native_prefix}S{self.n_stmt:09d}</Id><CreDtTm>{date_str}T23:59:59{tz}</CreDtTm>"
               f"<Acct><Id><Othr><Id>{own.number}</Id></Othr></Id><Ccy>{own.currency}</Ccy>"
               f"<Ownr><Nm>{_x(own.latin_name)}</Nm></Ownr><Svcr><FinInstnId><BICFI>{b.code}</BICFI></FinInstnId></Svcr></Acct>"]
        bal = self.balance.get(own.acct_id, 0)
        out.append(_bal("OPBD", bal, own, date_str))
        for tx, cp, debit, amount, native in entries:
            bal += -amount if debit else amount
            local = datetime.fromtimestamp(tx.ts + b.tz_offset, UTC).strftime("%Y-%m-%dT%H:%M:%S") + tz
            d, f, sf = BTC.get(tx.channel, BTC["transfer"])
            party = "Cdtr" if debit else "Dbtr"
            refs = ""
            if tx.e2e:
                refs += f"<EndToEndId>{tx.e2e}</EndToEndId>"
            if tx.uetr:
                refs += f"<UETR>{tx.uetr}</UETR>"
            rp = ""
            if cp is not None:
                acct_id = (f"<IBAN>{cp.number}</IBAN>" if cp.acct_id == cp.number and cp.number[:2].isalpha()
                           else f"<Othr><Id>{cp.number}</Id></Othr>")
                rp = (f"<RltdPties><{party}><Pty><Nm>{_x(cp.latin_name)}</Nm></Pty></{party}>"
                      f"<{party}Acct><Id>{acct_id}</Id></{party}Acct></RltdPties>"
                      f"<RltdAgts><{party}Agt><FinInstnId><BICFI>{cp.institution}</BICFI></FinInstnId></{party}Agt></RltdAgts>")
            out.append(
                f"<Ntry><Amt Ccy=\"{own.currency}\">{fmt_amount(amount, own.decimals)}</Amt>"
                f"<CdtDbtInd>{'DBIT' if debit else 'CRDT'}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
                f"<BookgDt><DtTm>{local}</DtTm></BookgDt>"
                f"<AcctSvcrRef>{native}</AcctSvcrRef>"
                f"<BkTxCd><Domn><Cd>{d}</Cd><Fmly><Cd>{f}</Cd><SubFmlyCd>{sf}</SubFmlyCd></Fmly></Domn></BkTxCd>"
                f"<NtryDtls><TxDtls>{'<Refs>' + refs + '</Refs>' if refs else ''}{rp}<RmtInf><Ustrd>{_x(tx.ref)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>")
        out.append(_bal("CLBD", bal, own, date_str))
        self.balance[own.acct_id] = bal
        out.append("</Stmt>\n")
        fh.write("".join(out))


def _bal(kind: str, bal: int, own: Account, date_str: str) -> str:
    return (f"<Bal><Tp><CdOrPrtry><Cd>{kind}</Cd></CdOrPrtry></Tp><Amt Ccy=\"{own.currency}\">"
            f"{fmt_amount(abs(bal), own.decimals)}</Amt><CdtDbtInd>{'DBIT' if bal < 0 else 'CRDT'}</CdtDbtInd>"
            f"<Dt><Dt>{date_str}</Dt></Dt></Bal>")


class Mt940Writer(StatementWriter):
    keeps_uetr = True

    def __init__(self, files: Files, bank: BankSpec, span: str):
        super().__init__(files, bank, span)
        self.rel = f"bank/{bank.key}_{span}.sta"

    def statement(self, own: Account, entries: list, date_str: str) -> None:
        b = self.bank
        fh = self.files.text(self.rel, "")
        yymmdd = date_str[2:4] + date_str[5:7] + date_str[8:10]
        bal = self.balance.get(own.acct_id, 0)
        lines = [f":20:{b.native_prefix}S{self.n_stmt:09d}", f":25:{b.code}/{own.number}", f":28C:{self.n_stmt % 99999 + 1}/1",
                 f":60F:{'D' if bal < 0 else 'C'}{yymmdd}{own.currency}{fmt_amount(abs(bal), 2, ',')}"]
        for tx, cp, debit, amount, native in entries:
            bal += -amount if debit else amount
            lines.append(f":61:{yymmdd}{yymmdd[2:]}{'D' if debit else 'C'}{fmt_amount(amount, 2, ',')}NTRFNONREF//{native}")
            detail = ""
            if cp is not None:
                name = "".join(ch for ch in cp.latin_name.upper() if ch.isalnum() or ch == " ")[:30]
                detail = f"/CNTP/{cp.number}/{cp.institution}/{name}/"
            if tx.uetr:
                detail += f"/UETR/{tx.uetr}"
            ref = "".join(ch for ch in (tx.ref or "").upper() if ch.isalnum() or ch == " ")[:60]
            detail += f"/REMI/USTD//{ref or 'NONE'}"
            chunks = [detail[i:i + 65] for i in range(0, len(detail), 65)][:6]
            lines.append(":86:" + "\n".join(chunks))
        lines.append(f":62F:{'D' if bal < 0 else 'C'}{yymmdd}{own.currency}{fmt_amount(abs(bal), 2, ',')}")
        self.balance[own.acct_id] = bal
        fh.write("\n".join(lines) + "\n-\n")


# --------------------------------------------------------------------------------------------------- explorers

TRON_HEADER = ["Tx Hash", "blockHeight", "blockTime(UTC+8)", "blockTime(UTC)", "from", "to", "value", "symbol",
               "tokenAddress", "isConfirm"]
ETH_HEADER = ["Transaction Hash", "Blockno", "UnixTimestamp", "DateTime (UTC)", "From", "To", "TokenValue",
              "USDValueDayOfTx", "ContractAddress", "TokenName", "TokenSymbol"]
BLOCK_EPOCH = 1_735_689_600  # 2025-01-01


class ExplorerWriter:
    def __init__(self, files: Files, stamp: str):
        self.files = files
        self.stamp = stamp

    def write(self, tx: Tx, tx_hash: str, usd_rate: float) -> tuple[str, int, str, str]:
        chain = tx.src.chain
        subject = tx.subject or (tx.dst.number if tx.dst.export else tx.src.number)
        value = canonical(tx.amount)
        if chain == "tron":
            rel = f"crypto/TRON-tokenTransfer-{subject}--{self.stamp}.csv"
            t = datetime.fromtimestamp(tx.ts, UTC)
            row = self.files.row(rel, TRON_HEADER, [
                tx_hash, 68_000_000 + (tx.ts - BLOCK_EPOCH) // 3, (t + timedelta(hours=8)).strftime("%Y/%m/%d %H:%M:%S"),
                t.strftime("%Y/%m/%d %H:%M:%S"), tx.src.number, tx.dst.number, value, "USDT", USDT_TRON,
                "true" if tx.confirmed else "false"])
            key = f"tx|tron|{tx_hash}|tron:{tx.src.number}|tron:{tx.dst.number}|{USDT_TRON}|{value}"
        else:
            rel = f"crypto/export-tokentx-{subject.lower()}.csv"
            t = datetime.fromtimestamp(tx.ts, UTC)
            units, frac = value.split(".") if "." in value else (value, "")
            shown = f"{int(units):,}" + ("." + frac if frac else "")
            row = self.files.row(rel, ETH_HEADER, [
                tx_hash, 21_500_000 + (tx.ts - BLOCK_EPOCH) // 12, tx.ts, t.strftime("%Y-%m-%d %H:%M:%S"),
                tx.src.number.lower(), tx.dst.number.lower(), shown, f"${tx.amount / MICRO * usd_rate:,.2f}",
                USDT_ETH, "Tether USD", "USDT"], quoting=csv.QUOTE_ALL)
            key = (f"tx|ethereum|{tx_hash.lower()}|ethereum:{tx.src.number.lower()}|ethereum:{tx.dst.number.lower()}"
                   f"|{USDT_ETH}|{value}")
        return rel, row, tx_hash, key


# --------------------------------------------------------------------------------------------------- KYC, events, FX

PARTY_HEADER = ["party_id", "party_type", "name", "birth_date", "nationality", "id_number", "registration_no", "phone",
                "email", "address", "country"]
ACCOUNT_HEADER = ["rail", "account", "institution", "chain", "holder_id", "opened_at", "country", "kind", "label"]
EVENT_HEADER = ["event_id", "occurred_at", "kind", "institution", "account", "party_id", "ip", "device_id", "phone",
                "lat", "lon"]


class KycWriter:
    def __init__(self, files: Files):
        self.files = files
        self.n_events = 0
        self.n_parties = 0
        self.n_accounts = 0

    def party(self, p: Party) -> None:
        self.n_parties += 1
        self.files.row("kyc/parties.csv", PARTY_HEADER, [
            p.party_id, p.party_type, p.name, p.birth_date, p.nationality, p.id_number, p.registration_no, p.phone,
            p.email, p.address, p.country])

    def account(self, a: Account) -> None:
        self.n_accounts += 1
        off = a.bank.tz_offset if a.bank is not None else 0
        self.files.row("kyc/accounts.csv", ACCOUNT_HEADER, [
            a.rail, a.number, a.institution if a.rail == "bank" else "", a.chain, a.holder.party_id if a.holder else "",
            iso_local(a.opened_at, off), a.country, a.kind, a.label])

    def event(self, ts: int, kind: str, acct: Account | None, party: Party | None, ip: str, device: str, phone: str,
              where) -> None:
        self.n_events += 1
        off = acct.bank.tz_offset if acct is not None and acct.bank is not None else 0
        lat, lon = where if where else ("", "")
        self.files.row("events/events.csv", EVENT_HEADER, [
            f"EV{self.n_events:09d}", iso_local(ts, off), kind, acct.institution if acct and acct.rail == "bank" else "",
            acct.number if acct and acct.rail == "bank" else "", party.party_id if party else "", ip, device, phone,
            lat, lon])


def write_fx(root: Path, fx) -> int:
    path = root / "reference" / "fx_rates.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["date", "currency", "usd_per_unit"])
        for row in fx.rows():
            w.writerow(row)
            n += 1
    return n


def write_yaml(path: Path, doc, header: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)
    path.write_text(header + text, encoding="utf-8")


def write_mappings(root: Path, banks) -> None:
    for b in banks:
        write_yaml(root / "bank" / f"{b.key}.mapping.yml", mapping_doc(b),
                   f"# Mapping for the synthetic {b.name} extract ({b.encoding}, delimiter {b.delimiter!r}).\n")


# --------------------------------------------------------------------------------------------------- parquet


class ParquetSink:
    """Canonical transactions written directly (no extract round trip), partitioned by month, for benchmarks."""

    COLUMNS = ["txn_id", "source_txn_id", "rail", "booked_at", "from_account_id", "to_account_id", "amount", "currency",
               "amount_usd", "channel", "reference", "from_institution", "to_institution", "from_country", "to_country",
               "end_to_end_id", "uetr", "chain", "tx_hash", "block_number", "token_contract"]

    def __init__(self, root: Path, rows_per_file: int = 1_000_000):
        self.root = root / "parquet" / "transactions"
        self.rows_per_file = rows_per_file
        self.buf: list[tuple] = []
        self.month = ""
        self.part = 0
        self.n = 0
        self.files: list[str] = []

    def add(self, month: str, values: tuple) -> str:
        if month != self.month:
            if self.buf:
                self.flush()
            self.month = month
            self._rel = self.current()
        self.buf.append(values)
        self.n += 1
        if len(self.buf) >= self.rows_per_file:
            rel = self.flush(more=True)
            self._rel = self.current()
            return rel
        return self._rel

    def current(self) -> str:
        return f"parquet/transactions/month={self.month}/part-{self.part:05d}.parquet"

    def flush(self, more: bool = False) -> str:
        import pyarrow as pa
        import pyarrow.parquet as pq
        rel = self.current()
        if not self.buf:
            return rel
        path = self.root.parent.parent / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        b = dict(zip(self.COLUMNS, (list(col) for col in zip(*self.buf))))
        table = pa.table({
            "txn_id": pa.array(b["txn_id"], pa.string()),
            "source_txn_id": pa.array(b["source_txn_id"], pa.string()),
            "rail": pa.array(b["rail"], pa.string()),
            "booked_at": pa.array(b["booked_at"], pa.int64()).cast(pa.timestamp("s", tz="UTC")),
            "from_account_id": pa.array(b["from_account_id"], pa.string()),
            "to_account_id": pa.array(b["to_account_id"], pa.string()),
            "amount": pa.array([f"{m // 1_000_000}.{m % 1_000_000:06d}" for m in b["amount"]]).cast(pa.decimal128(38, 6)),
            "currency": pa.array(b["currency"], pa.string()),
            "amount_usd": pa.array([f"{c // 100}.{c % 100:02d}" for c in b["amount_usd"]]).cast(pa.decimal128(18, 2)),
            **{c: pa.array(b[c], pa.string()) for c in self.COLUMNS[9:19]},
            "block_number": pa.array(b["block_number"], pa.int64()),
            "token_contract": pa.array(b["token_contract"], pa.string()),
        })
        pq.write_table(table, path, compression="zstd")
        self.files.append(rel)
        self.buf = []
        if more:
            self.part += 1
        else:
            self.part = 0
        return rel

