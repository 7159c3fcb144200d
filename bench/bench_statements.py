"""Throughput of the statement readers (not a test): generate N entries of camt.053 and MT940, time the readers.

    python bench/bench_statements.py [N]        # default 100000

Prints entries/s of each reader (parsing + canonical columns, no database) and the file sizes. MT940 is written
twice: with SWIFT keyword sub-fields in :86: (read on columns) and with German structured :86: (the library).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's code, also from a worktree

from transforms.sources.base import ReadContext  # noqa: E402
from transforms.sources.camt import Camt053Reader  # noqa: E402
from transforms.sources.mt940 import Mt940Reader  # noqa: E402

IBANS = ["NL91ABNA0417164300", "BE68539007547034", "FR7630006000011234567890189", "DE44500105175407324931"]


def camt053(n: int, path: Path, seed: int = 1) -> None:
    rnd = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                 '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
                 "<GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-03-31T18:00:00Z</CreDtTm></GrpHdr><Stmt><Id>BENCH</Id>"
                 "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Svcr><FinInstnId><BICFI>COBADEFFXXX</BICFI>"
                 "</FinInstnId></Svcr></Acct>\n")
        for i in range(n):
            credit = rnd.random() < 0.5
            side, agent = ("Dbtr", "DbtrAgt") if credit else ("Cdtr", "CdtrAgt")
            cash = rnd.random() < 0.1
            code = ("PMNT", "CNTR", "CDPT" if credit else "CWDL") if cash else ("PMNT", "RCDT" if credit else "ICDT", "ESCT")
            day = 1 + i % 28
            fh.write(
                f'<Ntry><Amt Ccy="EUR">{rnd.randint(1, 99999)}.{rnd.randint(0, 99):02d}</Amt>'
                f"<CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
                f"<BookgDt><Dt>2026-03-{day:02d}</Dt></BookgDt><ValDt><Dt>2026-03-{day:02d}</Dt></ValDt>"
                f"<AcctSvcrRef>REF{i:09d}</AcctSvcrRef><BkTxCd><Domn><Cd>{code[0]}</Cd><Fmly><Cd>{code[1]}</Cd>"
                f"<SubFmlyCd>{code[2]}</SubFmlyCd></Fmly></Domn></BkTxCd>"
            )
            if not cash:
                fh.write(
                    f"<NtryDtls><TxDtls><Refs><EndToEndId>E2E{i:09d}</EndToEndId></Refs><RltdPties>"
                    f"<{side}><Pty><Nm>Party {i % 977}</Nm></Pty></{side}><{side}Acct><Id><IBAN>{rnd.choice(IBANS)}"
                    f"</IBAN></Id></{side}Acct></RltdPties><RltdAgts><{agent}><FinInstnId><BICFI>ABNANL2AXXX</BICFI>"
                    f"</FinInstnId></{agent}></RltdAgts><RmtInf><Ustrd>invoice {i}</Ustrd></RmtInf></TxDtls></NtryDtls>"
                )
            fh.write("</Ntry>\n")
        fh.write("</Stmt></BkToCstmrStmt></Document>\n")


def mt940(n: int, path: Path, seed: int = 1, per_statement: int = 500, details: str = "gvc") -> None:
    """details: 'gvc' (German structured :86:, '?20' sub-fields: parsed by the library) or 'keywords' (SWIFT
    '/EREF/ /IBAN/ /NAME/' sub-fields, as Dutch and South-East Asian banks send: read on columns)."""
    rnd = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for s in range(0, n, per_statement):
            fh.write(f":20:STMT{s:08d}\n:25:NL91ABNA0417164300\n:28C:{s // per_statement + 1}/1\n:60F:C260301EUR0,00\n")
            for i in range(s, min(n, s + per_statement)):
                credit = rnd.random() < 0.5
                day = 1 + i % 28
                amount = f"{rnd.randint(1, 99999)},{rnd.randint(0, 99):02d}"
                gvc = "082" if credit and rnd.random() < 0.1 else "166" if credit else "116"
                fh.write(f":61:2603{day:02d}03{day:02d}{'C' if credit else 'D'}{amount}NTRFNONREF//B{i:012d}\n")
                if details == "gvc":
                    fh.write(f":86:{gvc}?00SEPA?20EREF+E{i:012d}?21SVWZ+invoice {i}?30ABNANL2A?31{rnd.choice(IBANS)}"
                             f"?32Party {i % 977}\n")
                else:
                    fh.write(f":86:/EREF/E{i:012d}/IBAN/{rnd.choice(IBANS)}/BIC/ABNANL2A/NAME/Party {i % 977}"
                             f"/REMI/USTD//invoice {i}\n")
            fh.write(":62F:C260331EUR0,00\n-\n")


def time_reader(reader, path: Path) -> tuple[int, float]:
    t = time.perf_counter()
    n = sum(chunk.height for chunk in reader.read(path, ReadContext()))
    return n, time.perf_counter() - t


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        for label, make, reader, name in (
            ("camt.053", camt053, Camt053Reader(), "bench.xml"),
            ("MT940 keyword :86:", partial(mt940, details="keywords"), Mt940Reader(), "bench_keywords.sta"),
            ("MT940 German :86:", mt940, Mt940Reader(), "bench.sta"),
        ):
            path = Path(tmp) / name
            make(n, path)
            rows, secs = time_reader(reader, path)
            print(f"{label:18s} {rows:>8d} entries  {path.stat().st_size / 1e6:7.1f} MB  {secs:6.2f} s  "
                  f"{rows / secs:>9,.0f} entries/s")


if __name__ == "__main__":
    main()
